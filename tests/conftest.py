"""Test infrastructure: a real PostgreSQL (and Redis when configured), a fresh database per test.

``TROVATO_TEST_DATABASE_URL`` names a server to create per-run databases on; without it the
suite starts the embedded PostgreSQL in a temporary folder, so ``pytest`` needs no server.
``TROVATO_TEST_REDIS_URL`` enables the Redis backends' tests; keys are prefixed per run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from trovato.db import migrate
from trovato.db.pool import Database
from trovato.db.urls import with_database

RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server (its maintenance database) for this test run."""
    explicit = os.environ.get("TROVATO_TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    from trovato.db.embedded import EmbeddedPostgres

    base = Path(tempfile.mkdtemp(prefix="trovato-test-pg-"))
    base.chmod(0o755)  # as root the server runs as its own user, which must reach this folder
    server = EmbeddedPostgres(base / "data")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A migrated database that each test's database is copied from."""
    name = f"trovato_t_{RUN_ID}_tpl"
    with _admin(pg_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(with_database(pg_server_url, name))
    try:
        yield name
    finally:
        with _admin(pg_server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_database(pg_server_url: str, template: str) -> str:
    name = f"trovato_t_{RUN_ID}_{next(_counter)}"
    with _admin(pg_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return name


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A URL of a fresh, migrated database of its own for one test."""
    name = _fresh_database(pg_server_url, template_db)
    try:
        yield with_database(pg_server_url, name)
    finally:
        with _admin(pg_server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url, min_size=1, max_size=5)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TROVATO_TEST_REDIS_URL")
    if not url:
        pytest.skip("TROVATO_TEST_REDIS_URL is not set")
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of one test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"trovato-test:{RUN_ID}:{next(_counter)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
