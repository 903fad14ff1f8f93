"""What CLI commands share: the database to talk to (embedded or configured)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from trovato.cli import _output
from trovato.db import migrate
from trovato.db.embedded import EmbeddedPostgres
from trovato.settings import Settings


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured URL, or the embedded server's (attached if it runs, else started
    for the length of the command)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.data_dir)
    with _output.working("Starting the embedded PostgreSQL…"):
        url = server.start()
    try:
        yield url
    finally:
        server.stop()


def migrate_with_progress(url: str) -> list[str]:
    """Apply pending migrations, showing which; returns the applied revision ids."""
    state = migrate.status(url)
    if state.up_to_date:
        return []
    with _output.working(f"Applying {len(state.pending)} migration(s)…"):
        migrate.upgrade(url)
    for rev in state.pending:
        _output.say("  applied ", (rev, "bold"), " ", migrate.describe(url, rev))
    return state.pending
