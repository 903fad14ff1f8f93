"""``trovato db migrate|status``."""

from __future__ import annotations

import typer
from rich.table import Table

from trovato.cli import _output
from trovato.cli._runtime import database_url, migrate_with_progress
from trovato.db import migrate as migrations
from trovato.settings import load_settings

app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply every pending schema migration."""
    settings = load_settings()
    with database_url(settings) as url:
        applied = migrate_with_progress(url)
    _output.say(f"Database is up to date ({len(applied)} migration(s) applied).")


@app.command()
def status() -> None:
    """Show the current schema revision and any pending migrations."""
    settings = load_settings()
    with database_url(settings) as url:
        state = migrations.status(url)
        table = Table("revision", "state", "description")
        for rev in state.pending:
            table.add_row(rev, "pending", migrations.describe(url, rev))
        current_doc = migrations.describe(url, state.current) if state.current else ""
    _output.result(f"current: {state.current or '(empty database)'} {current_doc}".rstrip())
    _output.result(f"head:    {state.head}")
    if state.pending:
        _output.show(table)
        _output.result(f"{len(state.pending)} pending migration(s): run `trovato db migrate`.")
    else:
        _output.result("up to date")
