"""SharedStore: backend choice, ping, sweep."""

from __future__ import annotations

import asyncio

import pytest

from trovato.db.pool import Database
from trovato.store import SharedStore, open_store


async def test_backend_and_ping(store: SharedStore, backend: str) -> None:
    assert store.backend == backend
    await store.ping()


async def test_ping_raises_when_the_service_does_not_answer(
    store: SharedStore, backend: str, store_db_url: str
) -> None:
    database = Database(store_db_url)
    if backend == "redis":
        await database.open()
        dead = await open_store(database, redis_url="redis://127.0.0.1:1/0")
    else:
        dead = await open_store(database, redis_url=None)  # its pool is not open
    try:
        with pytest.raises(Exception):  # noqa: B017 - any error means "does not answer"
            await asyncio.wait_for(dead.ping(), 10)
    finally:
        await dead.close()
        await database.close()


async def test_sweep_deletes_expired_rows(store: SharedStore, backend: str) -> None:
    await store.sessions.set("old", {}, 0.1)
    await store.sessions.set("new", {}, 30)
    await store.cache.set("old", 1, ttl=0.1)
    await store.cache.set("forever", 1)
    await store.locks.acquire("old", 0.1)
    await store.rate_limits.hit("old", 5, 0.1)
    await asyncio.sleep(0.2)
    swept = await store.sweep()
    if backend == "redis":
        assert swept == 0  # Redis expires keys itself
        return
    assert swept == 4
    database: Database = store.database  # type: ignore[attr-defined]
    counts = await database.fetchrow(
        "SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM cache) AS cache,"
        " (SELECT count(*) FROM lock) AS locks, (SELECT count(*) FROM rate_limit) AS rate_limits"
    )
    assert counts == {"sessions": 1, "cache": 1, "locks": 0, "rate_limits": 0}
    assert await store.sweep() == 0
