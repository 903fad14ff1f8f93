"""The README as a newcomer reads it: its command table is one table naming the real commands."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from trovato.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands_section() -> list[str]:
    section = README.split("## Commands\n", 1)[1].split("\n## ", 1)[0]
    return section.strip().splitlines()


def test_the_commands_table_is_one_table() -> None:
    """A blank line inside a Markdown table ends it: the rows after it show as plain text."""
    lines = _commands_section()
    assert lines[0].startswith("| command |") and lines[1].startswith("|---")
    rows = lines[2:]
    assert all(line.startswith("| ") for line in rows), [
        line for line in rows if not line.startswith("| ")]


def test_the_commands_table_names_every_command_and_only_real_ones() -> None:
    real = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    named = {m for line in _commands_section()[2:]
             for m in re.findall(r"`trovato ([a-z]+)", line)}
    assert named == real, (named - real, real - named)
