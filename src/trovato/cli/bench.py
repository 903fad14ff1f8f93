"""``trovato bench``: run the benchmark suite (``benchmarks/bench_*.py`` of a checkout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from trovato.cli import _output


def bench(
    directory: Path = typer.Option(
        Path("benchmarks"), "--dir", help="Folder holding the bench_*.py scripts."
    ),
    only: str = typer.Option("", "--only", help="Run only benchmarks whose name contains this."),
    seconds: int = typer.Option(10, "--seconds", min=1, help="Seconds per measurement."),
) -> None:
    """Run the benchmark suite.

    Each benchmark prints its figures against a baseline measured in the same run.
    """
    scripts = sorted(p for p in directory.glob("bench_*.py") if only in p.stem)
    if not scripts:
        raise _output.fail(f"no bench_*.py scripts in {directory}/ (run from a checkout)", 2)
    failed = 0
    for script in scripts:
        _output.say((f"== {script.stem}", "bold"))
        result = subprocess.run([sys.executable, str(script), "--seconds", str(seconds)])
        failed += result.returncode != 0
    if failed:
        raise typer.Exit(1)
