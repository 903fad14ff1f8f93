"""Sessions: set/get, expiry, touch, delete."""

from __future__ import annotations

import asyncio

from tests.store.conftest import StoreFactory
from trovato.store import SharedStore


async def test_set_get_and_replace(store: SharedStore) -> None:
    sessions = store.sessions
    assert await sessions.get("missing") is None
    data = {"uid": "0190f2c4-0000-7000-8000-000000000001", "stage": "live", "n": [1, 2.5, None]}
    await sessions.set("s1", data, 30)
    assert await sessions.get("s1") == data
    await sessions.set("s1", {"uid": "other"}, 30)
    assert await sessions.get("s1") == {"uid": "other"}


async def test_expires(store: SharedStore) -> None:
    await store.sessions.set("s1", {"a": 1}, 0.2)
    assert await store.sessions.get("s1") == {"a": 1}
    await asyncio.sleep(0.3)
    assert await store.sessions.get("s1") is None


async def test_touch_extends_a_live_session_only(store: SharedStore) -> None:
    sessions = store.sessions
    await sessions.set("live", {"a": 1}, 0.4)
    await sessions.set("dead", {"b": 2}, 0.2)
    await asyncio.sleep(0.25)
    await sessions.touch("live", 1.0)
    await sessions.touch("dead", 1.0)  # already expired: must not come back
    await sessions.touch("missing", 1.0)
    await asyncio.sleep(0.3)  # past the original 0.4 s
    assert await sessions.get("live") == {"a": 1}
    assert await sessions.get("dead") is None
    assert await sessions.get("missing") is None


async def test_delete(store: SharedStore) -> None:
    await store.sessions.set("s1", {"a": 1}, 30)
    await store.sessions.set("s2", {"a": 2}, 30)
    await store.sessions.delete("s1")
    await store.sessions.delete("never-existed")
    assert await store.sessions.get("s1") is None
    assert await store.sessions.get("s2") == {"a": 2}


async def test_shared_between_processes(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    await store.sessions.set("s1", {"a": 1}, 30)
    assert await other.sessions.get("s1") == {"a": 1}
