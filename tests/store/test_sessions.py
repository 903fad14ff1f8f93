"""Sessions: set/read, expiry, touch, delete, and the users stamp read with them."""

from __future__ import annotations

import asyncio

from tests.store.conftest import StoreFactory
from trovato.store import SharedStore


async def test_set_get_and_replace(store: SharedStore) -> None:
    sessions = store.sessions
    assert (await sessions.read("missing")).data is None
    data = {"uid": "0190f2c4-0000-7000-8000-000000000001", "stage": "live", "n": [1, 2.5, None]}
    await sessions.set("s1", data, 30)
    assert (await sessions.read("s1")).data == data
    await sessions.set("s1", {"uid": "other"}, 30)
    assert (await sessions.read("s1")).data == {"uid": "other"}


async def test_expires(store: SharedStore) -> None:
    await store.sessions.set("s1", {"a": 1}, 0.2)
    assert (await store.sessions.read("s1")).data == {"a": 1}
    await asyncio.sleep(0.3)
    assert (await store.sessions.read("s1")).data is None


async def test_touch_extends_a_live_session_only(store: SharedStore) -> None:
    sessions = store.sessions
    await sessions.set("live", {"a": 1}, 0.4)
    await sessions.set("dead", {"b": 2}, 0.2)
    await asyncio.sleep(0.25)
    await sessions.touch("live", 1.0)
    await sessions.touch("dead", 1.0)  # already expired: must not come back
    await sessions.touch("missing", 1.0)
    await asyncio.sleep(0.3)  # past the original 0.4 s
    assert (await sessions.read("live")).data == {"a": 1}
    assert (await sessions.read("dead")).data is None
    assert (await sessions.read("missing")).data is None


async def test_delete(store: SharedStore) -> None:
    await store.sessions.set("s1", {"a": 1}, 30)
    await store.sessions.set("s2", {"a": 2}, 30)
    await store.sessions.delete("s1")
    await store.sessions.delete("never-existed")
    assert (await store.sessions.read("s1")).data is None
    assert (await store.sessions.read("s2")).data == {"a": 2}


async def test_shared_between_processes(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    await store.sessions.set("s1", {"a": 1}, 30)
    assert (await other.sessions.read("s1")).data == {"a": 1}


async def test_the_users_stamp_is_read_with_the_session(store: SharedStore) -> None:
    sessions = store.sessions
    await sessions.set("s1", {"a": 1}, 30)
    await sessions.restamp()
    first = await sessions.read("s1")
    assert first.data == {"a": 1} and first.stamp
    assert (await sessions.read("missing")).stamp == first.stamp  # without a session too
    await sessions.restamp(only_if_missing=True)  # there is one: kept
    assert (await sessions.read("s1")).stamp == first.stamp
    await sessions.restamp()
    assert (await sessions.read("s1")).stamp not in (None, first.stamp)


async def test_the_users_stamp_is_no_session(store: SharedStore) -> None:
    """The stamp lives beside the sessions: no session id reads it as a session's data, and
    sweeping expired sessions keeps it."""
    await store.sessions.restamp()
    stamp = (await store.sessions.read("x")).stamp
    for sid in ("", "users-stamp", "../users-stamp"):
        assert (await store.sessions.read(sid)).data is None
    await store.sweep()
    assert (await store.sessions.read("x")).stamp == stamp


async def test_the_users_stamp_is_shared(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    await store.sessions.restamp()
    assert (await other.sessions.read("s")).stamp == (await store.sessions.read("s")).stamp
