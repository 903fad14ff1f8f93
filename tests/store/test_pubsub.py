"""Pub/sub: delivery across processes, several channels, failing handlers, reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio

from tests.store.conftest import StoreFactory
from trovato.db.pool import Database
from trovato.store import MessageTooLarge, PubSub, SharedStore
from trovato.store.postgres.pubsub import APPLICATION_NAME
from trovato.store.redis import RedisPubSub


def collector() -> tuple[asyncio.Queue[dict[str, Any]], Any]:
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handler(message: dict[str, Any]) -> None:
        await received.put(message)

    return received, handler


async def next_message(received: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(received.get(), 5)


async def test_message_reaches_another_process(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    received, handler = collector()
    await other.pubsub.subscribe("cache", handler)
    await store.pubsub.publish("cache", {"tags": ["item:1"], "n": 1})
    assert await next_message(received) == {"tags": ["item:1"], "n": 1}
    await store.pubsub.publish("unrelated", {"n": 2})
    await store.pubsub.publish("cache", {"n": 3})
    assert await next_message(received) == {"n": 3}  # "unrelated" was never delivered
    assert received.empty()


async def test_one_listener_serves_several_channels_and_handlers(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    first, on_first = collector()
    second, on_second = collector()
    sync_calls: list[dict[str, Any]] = []
    await other.pubsub.subscribe("a", on_first)
    await other.pubsub.subscribe("b", on_second)
    await other.pubsub.subscribe("b", sync_calls.append)  # plain functions work too
    await store.pubsub.publish("b", {"to": "b"})
    await store.pubsub.publish("a", {"to": "a"})
    assert await next_message(first) == {"to": "a"}
    assert await next_message(second) == {"to": "b"}
    assert sync_calls == [{"to": "b"}]


async def test_failing_handler_does_not_kill_the_listener(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    received, handler = collector()

    async def explode(message: dict[str, Any]) -> None:
        raise RuntimeError(f"handler bug on {message}")

    await other.pubsub.subscribe("events", explode)
    await other.pubsub.subscribe("events", handler)
    for n in range(3):
        await store.pubsub.publish("events", {"n": n})
    assert [await next_message(received) for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_publisher_receives_its_own_messages(store: SharedStore) -> None:
    received, handler = collector()
    await store.pubsub.subscribe("self", handler)
    await store.pubsub.publish("self", {"ok": True})
    assert await next_message(received) == {"ok": True}


@contextlib.asynccontextmanager
async def cuttable_subscriber(
    store: SharedStore, redis_target: tuple[str, str] | None
) -> AsyncIterator[tuple[PubSub, Callable[[], Awaitable[int]]]]:
    """A subscriber on the store's backend, and a function that cuts its listener's connection
    (returning how many connections it cut)."""
    if redis_target is None:

        async def kill_postgres() -> int:
            database: Database = store.database  # type: ignore[attr-defined]
            rows = await database.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                (APPLICATION_NAME,),
            )
            return len(rows)

        yield store.pubsub, kill_postgres
        return

    # A client of its own, named so that only its connection is cut.
    url, prefix = redis_target
    name = f"trovato-test-{uuid.uuid4().hex}"
    client = redis.asyncio.Redis.from_url(url, client_name=name)
    admin = redis.asyncio.Redis.from_url(url)
    subscriber = RedisPubSub(client, prefix)

    async def kill_redis() -> int:
        killed = 0
        for entry in await admin.client_list(_type="pubsub"):
            if entry.get("name") == name:
                killed += int(await admin.client_kill_filter(_id=entry["id"]))
        return killed

    try:
        yield subscriber, kill_redis
    finally:
        await subscriber.close()
        await client.aclose()
        await admin.aclose()


async def test_listener_reconnects_after_connection_loss(
    store: SharedStore, redis_target: tuple[str, str] | None
) -> None:
    received, handler = collector()
    async with cuttable_subscriber(store, redis_target) as (subscriber, cut):
        await subscriber.subscribe("inval", handler)
        await store.pubsub.publish("inval", {"n": 0})
        assert await next_message(received) == {"n": 0}
        assert await cut() == 1
        # Messages sent while it is down are lost; keep publishing until one arrives.
        for n in range(1, 100):
            await store.pubsub.publish("inval", {"n": n})
            try:
                message = await asyncio.wait_for(received.get(), 0.1)
            except TimeoutError:
                continue
            assert message["n"] >= 1
            break
        else:
            pytest.fail("the listener did not come back within 10 s")
        # Channels subscribed after the reconnect work too.
        late, on_late = collector()
        await subscriber.subscribe("late", on_late)
        await store.pubsub.publish("late", {"late": True})
        assert await next_message(late) == {"late": True}


async def test_payload_limit(store: SharedStore, backend: str) -> None:
    """NOTIFY carries under 8000 bytes: the PostgreSQL backend says so clearly; Redis has room."""
    received, handler = collector()
    await store.pubsub.subscribe("big", handler)
    await store.pubsub.publish("big", {"blob": "x" * 7988})  # 7999 bytes of JSON: the most
    assert len((await next_message(received))["blob"]) == 7988
    big = {"blob": "x" * 7989}
    if backend == "postgres":
        with pytest.raises(MessageTooLarge, match=r"'big' is 8000 bytes.*at most 7999"):
            await store.pubsub.publish("big", big)
    else:
        await store.pubsub.publish("big", big)
        assert await next_message(received) == big


async def test_long_and_odd_channel_names(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    odd = 'Odd "name"; DROP TABLE cache; --' + "x" * 80
    received, handler = collector()
    await other.pubsub.subscribe(odd, handler)
    await store.pubsub.publish(odd, {"ok": 1})
    assert await next_message(received) == {"ok": 1}
