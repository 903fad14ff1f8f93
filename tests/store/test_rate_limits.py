"""Rate limits: fixed window, retry_after, peek, reset, and counters shared across processes."""

from __future__ import annotations

import asyncio

from tests.store.conftest import StoreFactory
from trovato.store import RateLimitResult, SharedStore


async def test_allows_limit_hits_then_refuses(store: SharedStore) -> None:
    limits = store.rate_limits
    for n in range(1, 4):
        assert await limits.hit("login:ip:1", 3, 0.5) == RateLimitResult(True, n, 3, 0.0)
    refused = await limits.hit("login:ip:1", 3, 0.5)
    assert not refused.allowed and refused.count == 4 and refused.limit == 3
    assert 0 < refused.retry_after <= 0.5
    assert (await limits.hit("login:ip:2", 3, 0.5)).allowed  # keys are independent


async def test_window_resets(store: SharedStore) -> None:
    limits = store.rate_limits
    await limits.hit("k", 1, 0.3)
    assert not (await limits.hit("k", 1, 0.3)).allowed
    await asyncio.sleep(0.35)
    assert await limits.hit("k", 1, 0.3) == RateLimitResult(True, 1, 1, 0.0)


async def test_peek_does_not_count(store: SharedStore) -> None:
    limits = store.rate_limits
    assert await limits.peek("k", 2, 5) == RateLimitResult(True, 0, 2, 0.0)
    await limits.hit("k", 2, 5)
    assert await limits.peek("k", 2, 5) == RateLimitResult(True, 1, 2, 0.0)
    assert await limits.peek("k", 2, 5) == RateLimitResult(True, 1, 2, 0.0)
    await limits.hit("k", 2, 5)
    full = await limits.peek("k", 2, 5)
    assert not full.allowed and full.count == 2 and 0 < full.retry_after <= 5


async def test_reset(store: SharedStore) -> None:
    limits = store.rate_limits
    await limits.hit("k", 1, 30)
    assert not (await limits.hit("k", 1, 30)).allowed
    await limits.reset("k")
    await limits.reset("never-used")
    assert await limits.peek("k", 1, 30) == RateLimitResult(True, 0, 1, 0.0)
    assert (await limits.hit("k", 1, 30)).allowed


async def test_counters_are_shared_and_atomic(store: SharedStore, make_store: StoreFactory) -> None:
    other = await make_store()
    assert (await store.rate_limits.hit("k", 3, 30)).count == 1
    assert (await other.rate_limits.hit("k", 3, 30)).count == 2
    results = await asyncio.gather(
        *(target.rate_limits.hit("burst", 20, 30) for target in [store, other] * 25)
    )
    assert sum(result.allowed for result in results) == 20
    assert sorted(result.count for result in results) == list(range(1, 51))
