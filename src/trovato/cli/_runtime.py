"""What CLI commands share: the database to talk to (embedded or configured), and a kernel
started on it for the length of one action."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from trovato.cli import _output
from trovato.db import migrate
from trovato.db.embedded import EmbeddedPostgres
from trovato.kernel.services import Kernel
from trovato.settings import Settings, load_settings

T = TypeVar("T")


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


def with_kernel(action: Callable[[Kernel], Awaitable[T]]) -> T:
    """Run ``action`` with a kernel on the site's database (migrated first), then stop it."""
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        return asyncio.run(_run(settings, url, action))


async def _run(settings: Settings, url: str, action: Callable[[Kernel], Awaitable[T]]) -> T:
    kernel = await Kernel.start(settings, url)
    try:
        return await action(kernel)
    finally:
        await kernel.stop()
