"""The batch runner: chunks, progress in the shared store, owners, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest

from trovato.batch import Batch, BatchError, Batches, Outcome
from trovato.db.pool import Database
from trovato.store import SharedStore, open_store


class Recorder:
    """An operation that records its calls and refuses keys starting with "no"."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, list[str], dict[str, Any]]] = []

    async def __call__(self, actor: Any, keys: Sequence[str], params: Mapping[str, Any]
                       ) -> list[Outcome]:
        self.calls.append((actor, list(keys), dict(params)))
        return [Outcome(k, not k.startswith("no"), f"label {k}", "refused") for k in keys]


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SharedStore]:
    shared = await open_store(database, redis_url=None)
    try:
        yield shared
    finally:
        await shared.close()


async def test_a_batch_runs_in_chunks_and_records_progress(store: SharedStore) -> None:
    op = Recorder()
    batches = Batches(store, {"touch": op}, chunk=3)
    keys = ["a", "b", "no1", "c", "d", "a"]  # a repeated key counts once
    batch = await batches.start("u1", "touch", keys, title="Touch", return_to="/back",
                                params={"stage": "live"})
    assert batch.total == 5 and batch.position == 0 and not batch.finished
    stepped = await batches.step(batch.id, "u1", "actor")
    assert (stepped.position, stepped.done, stepped.percent) == (3, 2, 60)
    assert op.calls == [("actor", ["a", "b", "no1"], {"stage": "live"})]
    # Another batches object (another process) sees the same progress.
    other = Batches(store, {"touch": op}, chunk=3)
    assert (await other.get(batch.id, "u1")).position == 3
    seen: list[int] = []
    finished = await other.run(batch.id, "u1", "actor", lambda b: seen.append(b.position))
    assert finished.finished and seen == [5]
    assert finished.done == 4 and finished.skipped == [["label no1", "refused"]]
    assert finished.progress() == {"id": batch.id, "title": "Touch", "processed": 5,
                                   "total": 5, "done": 4, "skipped": 1, "percent": 100,
                                   "finished": True}
    again = await batches.step(batch.id, "u1", "actor")  # finished: nothing more is done
    assert again == finished and len(op.calls) == 2


async def test_a_batch_is_its_owners_only(store: SharedStore) -> None:
    batches = Batches(store, {"touch": Recorder()})
    batch = await batches.start("u1", "touch", ["a"], title="T", return_to="/")
    for owner, batch_id in (("u2", batch.id), ("u1", "missing"), ("u1", "x" * 65)):
        with pytest.raises(BatchError) as refused:
            await batches.get(batch_id, owner)
        assert refused.value.status == 404
    with pytest.raises(BatchError):
        await batches.step(batch.id, "u2", "actor")
    await batches.forget(batch.id)
    with pytest.raises(BatchError):
        await batches.get(batch.id, "u1")


async def test_a_step_while_another_runs_does_nothing(store: SharedStore) -> None:
    op = Recorder()
    batches = Batches(store, {"touch": op})
    batch = await batches.start("u1", "touch", ["a", "b"], title="T", return_to="/")
    token = await store.locks.acquire(f"batch:{batch.id}", 30)
    assert token is not None
    try:
        state = await batches.step(batch.id, "u1", "actor")
    finally:
        await store.locks.release(f"batch:{batch.id}", token)
    assert state.position == 0 and op.calls == []


@pytest.mark.parametrize(("operation", "keys", "field"), [
    ("nothing", ["a"], "operation"), ("touch", [], "keys"),
    ("touch", [str(n) for n in range(10_001)], "keys"),
])
async def test_bad_starts_are_refused(store: SharedStore, operation: str, keys: list[str],
                                      field: str) -> None:
    with pytest.raises(BatchError) as refused:
        await Batches(store, {"touch": Recorder()}).start("u1", operation, keys, title="T",
                                                          return_to="/")
    assert refused.value.status == 422 and refused.value.field == field


def test_an_empty_batch_is_finished() -> None:
    empty = Batch(id="x", owner="u", operation="touch", keys=[], params={}, title="T",
                  return_to="/")
    assert empty.finished and empty.percent == 100
