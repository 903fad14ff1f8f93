"""A scratch, migrated database for one benchmark run.

Uses the server named by TROVATO_DATABASE_URL, else an embedded PostgreSQL in a temporary
folder; the database (and the embedded server) are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from trovato.db import migrate
from trovato.db.embedded import EmbeddedPostgres
from trovato.db.urls import with_database


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
