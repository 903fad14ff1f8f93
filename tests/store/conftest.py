"""Fixtures for the shared-store suite: every test runs against both backends.

The suite shares one migrated database and empties the shared-state tables before each test,
which is much faster than a fresh database per test. ``make_store`` opens another
:class:`SharedStore` on the same backing service, each with its own connection pool (and Redis
client), the way a second kernel process would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import psycopg
import pytest

from tests.conftest import _scratch_database
from trovato.db.pool import Database
from trovato.store import SharedStore, open_store

StoreFactory = Callable[[], Awaitable[SharedStore]]


@pytest.fixture(scope="session")
def store_db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    name = template_db.removesuffix("_tpl") + "_store"
    with _scratch_database(pg_server_url, name, template_db) as url:
        yield url


@pytest.fixture(params=["postgres", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def redis_target(backend: str, request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """(url, prefix) for the Redis backend; None for PostgreSQL. Skips without Redis."""
    if backend != "redis":
        return None
    return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")


@pytest.fixture
async def make_store(
    store_db_url: str, redis_target: tuple[str, str] | None
) -> AsyncIterator[StoreFactory]:
    async with await psycopg.AsyncConnection.connect(store_db_url, autocommit=True) as conn:
        await conn.execute("TRUNCATE sessions, cache, lock, rate_limit, queue")
    opened: list[tuple[SharedStore, Database]] = []

    async def make() -> SharedStore:
        database = Database(store_db_url, min_size=1, max_size=6)
        await database.open()
        if redis_target is None:
            store = await open_store(database, redis_url=None)
        else:
            url, prefix = redis_target
            store = await open_store(database, redis_url=url, prefix=prefix)
        opened.append((store, database))
        return store

    yield make
    for store, database in reversed(opened):
        await store.close()
        await database.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> SharedStore:
    return await make_store()
