"""``--help`` of every command, as a new user reads it in an 80-column terminal."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from trovato.cli import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _help(path: tuple[str, ...]) -> str:
    # Click formats for two columns less than the terminal: 78 is what an 80-column one shows.
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=78)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_covered() -> None:
    assert ("plugin", "new") in COMMANDS and ("cron",) in COMMANDS and () in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "trovato")
def test_help_reads_plainly(path: tuple[str, ...]) -> None:
    text = _help(path)
    # A flag takes no value: no type next to it.
    assert "<bool>" not in text
    assert "--help  " in text and "Show this message and exit." in text
    # The command list shows each command's whole first sentence, on one line.
    if "Commands:" in text:
        listing = text.split("Commands:\n", 1)[1].strip().splitlines()
        assert listing
        for line in listing:
            _name, summary = line.split(None, 1)
            assert summary.endswith(".") and not summary.endswith("..."), line


def test_help_paragraphs_are_reflowed() -> None:
    """Docstring line breaks do not survive into the terminal: paragraphs fill the width."""
    lines = _help(("cron",)).splitlines()
    body = lines[lines.index("  Run the periodic work once.") + 2:]
    assert body[0].startswith("  That is every plugin's cron tap, the sweep of expired shared")
    assert len(body[0]) > 70


@pytest.mark.parametrize("command", ["enable", "disable", "uninstall"])
def test_every_argument_says_what_it_takes(command: str) -> None:
    assert "The plugin's machine name" in _help(("plugin", command))


def test_demo_help_says_it_makes_the_administrator_and_prints_the_password() -> None:
    """A newcomer runs ``trovato demo`` to get in: its help says how they will log in."""
    text = " ".join(_help(("demo",)).split())
    assert 'the administrator "demo", whose password is printed once' in text
