"""What the command line prints keeps every character of user and code text."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from trovato.cli import _output
from trovato.cli.background import cron_summary
from trovato.cron import CronReport

CLI = Path(__file__).resolve().parents[2] / "src" / "trovato" / "cli"
PRINTING_CALLS = frozenset({"print", "echo", "secho"})


def test_messages_are_literal_text(capsys: pytest.CaptureFixture[str]) -> None:
    hint = "componentize-py is not installed: pip install 'trovato[plugins]'"
    with pytest.raises(_output.typer.Exit) as exit_info:
        raise _output.fail(hint)
    assert exit_info.value.exit_code == 1
    _output.warning("plugin name 'Bad-Name' must match [a-z][a-z0-9_]*")
    _output.say("bold part: ", ("[red]x[/]", "bold"), " :warning: [link=y]z")
    table = Table("title", "severity")
    table.add_row("[bold]Disk[/bold]", _output.styled("[warning]", "yellow"))
    _output.show(table)
    _output.result("[stdout] :smile:")
    out, err = capsys.readouterr()
    assert err.splitlines()[:3] == [
        f"error: {hint}",
        "warning: plugin name 'Bad-Name' must match [a-z][a-z0-9_]*",
        "bold part: [red]x[/] :warning: [link=y]z",
    ]
    assert "[bold]Disk[/bold]" in out and "[warning]" in out  # a listing is a result
    assert out.endswith("[stdout] :smile:\n")


def test_a_long_message_stays_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = "/srv/" + "very-long-folder-name/" * 10 + "plugin.toml"
    _output.error(f"{path}: not a plugin")
    assert capsys.readouterr().err == f"error: {path}: not a plugin\n"


def test_the_scaffold_refusal_names_the_pattern(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trovato", "plugin", "new", "Bad-Name", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: plugin name 'Bad-Name' must be lower-case letters and digits in words joined by"
        " single underscores (like acme_shop), starting with a letter (at most 40 characters)")
    assert not list(tmp_path.iterdir())


def _printing_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in PRINTING_CALLS:
                found.append(f"line {node.lineno}: {ast.unparse(func)}()")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rich"):
            if node.module != "rich.table":
                found.append(f"line {node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "[/" in node.value:
            found.append(f"line {node.lineno}: Rich markup {node.value!r}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in CLI.glob("*.py")
                                          if p.name != "_output.py"))
def test_only_the_output_module_prints(module: str) -> None:
    """Printing anywhere else could pass text through Rich markup again."""
    tree = ast.parse((CLI / module).read_text(encoding="utf-8"))
    assert _printing_calls(tree) == []


def test_the_source_check_sees_a_forgotten_print() -> None:
    tree = ast.parse('from rich.console import Console\nconsole.print(f"[bold]{name}[/]")\n'
                     'typer.echo(x)\n')
    assert len(_printing_calls(tree)) == 4


def test_the_cron_summary_counts_in_words() -> None:
    one = CronReport(ran=True, plugins=["blog"], swept=1, summaries=1, files_removed=1,
                     seconds=0.05)
    assert cron_summary(one) == ("Cron ran in 0.05 s: the cron tap of 1 plugin, 1 expired entry"
                                 " swept, 1 item summary filled, 1 unused upload deleted.")
    none = CronReport(ran=True, seconds=1.5)
    assert cron_summary(none) == ("Cron ran in 1.50 s: the cron tap of 0 plugins, 0 expired"
                                  " entries swept, 0 item summaries filled, 0 unused uploads"
                                  " deleted.")
