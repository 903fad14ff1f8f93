"""Queue: FIFO claims, acks, leases (at-least-once), delays, release, size, concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.store.conftest import StoreFactory
from trovato.store import Job, SharedStore


async def test_push_claim_ack_in_order(store: SharedStore) -> None:
    queue = store.queue
    ids = [await queue.push("mail", {"to": f"u{i}@example.com"}) for i in range(3)]
    await queue.push("other", "elsewhere")
    assert await queue.size("mail") == 3
    claimed: list[Job] = []
    for _ in range(3):
        job = await queue.claim("mail")
        assert job is not None
        claimed.append(job)
    assert [job.id for job in claimed] == ids
    assert claimed[0] == Job(ids[0], "mail", {"to": "u0@example.com"}, 1)
    assert await queue.claim("mail") is None
    assert await queue.size("mail") == 3  # claimed but not acked
    for job in claimed:
        await queue.ack(job)
    assert await queue.size("mail") == 0
    assert await queue.size("other") == 1
    assert await queue.size("never-used") == 0


async def test_unacked_job_reappears_after_its_lease(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    job_id = await store.queue.push("q", [1, 2, 3])
    first = await store.queue.claim("q", lease=0.2)
    assert first is not None and first.attempts == 1
    assert await other.queue.claim("q") is None  # leased
    await asyncio.sleep(0.3)
    again = await other.queue.claim("q", lease=5)
    assert again == Job(job_id, "q", [1, 2, 3], 2)
    assert await store.queue.claim("q") is None
    # The first worker's stale claim cannot hand the job back under the second one.
    await store.queue.release(first)
    assert await store.queue.claim("q") is None
    await other.queue.ack(again)
    assert await store.queue.size("q") == 0


async def test_delay(store: SharedStore) -> None:
    await store.queue.push("q", "later", delay=0.3)
    now_id = await store.queue.push("q", "now")
    job = await store.queue.claim("q")
    assert job is not None and job.id == now_id
    assert await store.queue.claim("q") is None
    assert await store.queue.size("q") == 2
    await asyncio.sleep(0.4)
    later = await store.queue.claim("q")
    assert later is not None and later.payload == "later"


async def test_release(store: SharedStore) -> None:
    queue = store.queue
    await queue.push("q", {"n": 1})
    job = await queue.claim("q")
    assert job is not None
    await queue.release(job)
    again = await queue.claim("q")
    assert again is not None and again.id == job.id and again.attempts == 2
    await queue.release(again, delay=0.3)
    assert await queue.claim("q") is None
    assert await queue.size("q") == 1
    await asyncio.sleep(0.4)
    third = await queue.claim("q")
    assert third is not None and third.attempts == 3
    await queue.ack(third)
    assert await queue.size("q") == 0


async def test_no_double_delivery_with_concurrent_claimers(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    pushed = {await store.queue.push("bulk", {"n": i}) for i in range(200)}
    claimed: Counter[str] = Counter()

    async def worker(target: SharedStore) -> None:
        while (job := await target.queue.claim("bulk", lease=30)) is not None:
            claimed[job.id] += 1
            await asyncio.sleep(0)  # let the other workers interleave
            await target.queue.ack(job)

    await asyncio.gather(*(worker(target) for target in (store, other, store, other)))
    assert set(claimed) == pushed
    assert set(claimed.values()) == {1}
    assert await store.queue.size("bulk") == 0
