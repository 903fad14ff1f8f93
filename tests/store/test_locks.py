"""Locks: exclusion, expiry, refresh, ownership and the heartbeat of hold()."""

from __future__ import annotations

import asyncio

from tests.store.conftest import StoreFactory
from trovato.store import SharedStore


async def test_second_acquirer_is_refused(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    token = await store.locks.acquire("cron", 5)
    assert token
    assert await other.locks.acquire("cron", 5) is None
    assert await store.locks.acquire("cron", 5) is None  # not re-entrant either
    assert await other.locks.acquire("another", 5)  # locks are independent
    assert await store.locks.release("cron", token)
    assert await other.locks.acquire("cron", 5)


async def test_concurrent_acquirers_get_it_once(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    results = await asyncio.gather(
        *(target.locks.acquire("race", 5) for target in [store, other] * 5)
    )
    assert sum(token is not None for token in results) == 1


async def test_expiry_lets_another_in(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    first = await store.locks.acquire("job", 0.2)
    assert first
    await asyncio.sleep(0.3)
    second = await other.locks.acquire("job", 5)
    assert second and second != first
    # The first owner lost it: it can neither refresh nor release the new owner's lock.
    assert not await store.locks.refresh("job", first, 5)
    assert not await store.locks.release("job", first)
    assert await other.locks.acquire("job", 5) is None


async def test_refresh_extends(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    token = await store.locks.acquire("job", 0.3)
    assert token
    await asyncio.sleep(0.15)
    assert await store.locks.refresh("job", token, 0.6)
    await asyncio.sleep(0.3)  # past the first ttl
    assert await other.locks.acquire("job", 5) is None
    assert await store.locks.release("job", token)


async def test_wrong_token_cannot_release_or_refresh(store: SharedStore) -> None:
    token = await store.locks.acquire("job", 5)
    assert token
    assert not await store.locks.release("job", "not-the-token")
    assert not await store.locks.refresh("job", "not-the-token", 5)
    assert not await store.locks.release("other-name", token)
    assert await store.locks.acquire("job", 5) is None
    assert await store.locks.release("job", token)
    assert not await store.locks.release("job", token)  # only once


async def test_hold_heartbeat_keeps_the_lock_past_its_ttl(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    async with store.locks.hold("cron", 0.3) as token:
        assert token
        await asyncio.sleep(0.8)
        assert await other.locks.acquire("cron", 5) is None
        async with other.locks.hold("cron", 5) as refused:
            assert refused is None
    # Released on exit.
    assert await other.locks.acquire("cron", 5)


async def test_hold_releases_on_error(store: SharedStore) -> None:
    try:
        async with store.locks.hold("cron", 5, heartbeat=0.05) as token:
            assert token
            await asyncio.sleep(0.12)
            raise RuntimeError("job failed")
    except RuntimeError:
        pass
    assert await store.locks.acquire("cron", 5)
