"""A scratch, migrated database for one benchmark run, and a kernel on it to seed it.

Uses the server named by TROVATO_DATABASE_URL, else an embedded PostgreSQL in a temporary
folder; the database (and the embedded server) are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import psycopg

from trovato.db import migrate
from trovato.db.embedded import EmbeddedPostgres
from trovato.db.urls import with_database
from trovato.kernel.services import Kernel
from trovato.settings import load_settings
from trovato.users.accounts import CurrentUser


@contextmanager
def scratch_database(label: str, *, migrated: bool = True) -> Iterator[str]:
    """A new database; migrated to this tree's head unless ``migrated`` is false (for code
    of another revision, which migrates it itself)."""
    tmp: Path | None = None
    server: EmbeddedPostgres | None = None
    base_url = os.environ.get("TROVATO_DATABASE_URL")
    if not base_url:
        tmp = Path(tempfile.mkdtemp(prefix="trovato-bench-"))
        tmp.chmod(0o755)  # as root the server runs as its own user, which must reach it
        server = EmbeddedPostgres(tmp / "data")
        base_url = server.start()
    name = f"trovato_bench_{label}_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = with_database(base_url, name)
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@asynccontextmanager
async def running_kernel(url: str) -> AsyncIterator[Kernel]:
    """The site's services on ``url`` (what a benchmark seeds and measures through)."""
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        yield kernel
    finally:
        await kernel.stop()


async def bench_admin(kernel: Kernel, name: str = "bench") -> CurrentUser:
    """A new administrator account ``name``, as the services' acting user."""
    key = await kernel.accounts.create(name=name, mail=f"{name}@example.com",
                                       password="quiet lantern orbit 7", is_admin=True)
    return CurrentUser(id=key, name=name, is_admin=True)
