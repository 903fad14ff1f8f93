"""Batches: a long operation over many records, done in chunks, with its progress shared.

Drupal's batch API, on the shared store. :meth:`Batches.start` records what to do (an
operation's name, the keys of the records, its parameters) under a random id; each
:meth:`Batches.step` does the next chunk of keys under the batch's lock and records the
progress. Whoever asks for the progress drives the work: the progress page and its JSON
(``/admin/batch/{id}``, any worker of any process: the state lives in the shared store, not in
a process) or the command line's loop (:meth:`Batches.run`). Nothing runs in the background,
so a batch whose browser went away simply waits, and expires with its state.

A batch belongs to the user who started it: another user asking for it is told it does not
exist. The operations are given to :class:`Batches` by name, so the stored state is plain
data; each operation checks, per record, that the acting user may change it, and reports the
records it skipped with the reason (:class:`Outcome`), which never stops the batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Protocol

from trovato.errors import ServiceError
from trovato.store import SharedStore

# Records per step: small enough that one page load answers in well under a second.
CHUNK: Final = 20
# A batch is forgotten a day after it was last touched.
TTL: Final = 24 * 3600.0
# The longest one step may hold the batch's lock (a crashed worker frees it after this).
LOCK_TTL: Final = 120.0
MAX_KEYS: Final = 10_000


class BatchError(ServiceError):
    """A batch that does not exist for the asking user (404) or a refused start (422)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation did with one record: done, or skipped and why."""

    key: str
    done: bool
    label: str = ""
    reason: str = ""


class Operation(Protocol):
    """Do the operation for ``actor`` on ``keys`` (one chunk); one outcome per key."""

    def __call__(self, actor: Any, keys: Sequence[str], params: Mapping[str, Any]
                 ) -> Awaitable[list[Outcome]]: ...


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch's state as stored: plain data (JSON in the shared store)."""

    id: str
    owner: str
    operation: str
    keys: list[str]
    params: dict[str, Any]
    title: str
    return_to: str
    position: int = 0
    done: int = 0
    skipped: list[list[str]] = field(default_factory=list)  # [label, reason] pairs

    @property
    def total(self) -> int:
        return len(self.keys)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.keys)

    @property
    def percent(self) -> int:
        return 100 if not self.keys else self.position * 100 // len(self.keys)

    def progress(self) -> dict[str, Any]:
        """What the progress page's script reads."""
        return {"id": self.id, "title": self.title, "processed": self.position,
                "total": self.total, "done": self.done, "skipped": len(self.skipped),
                "percent": self.percent, "finished": self.finished}


def _key(batch_id: str) -> str:
    return f"batch:{batch_id}"


class Batches:
    """Starts batches, steps them and reports their progress, for any process."""

    def __init__(self, store: SharedStore, operations: Mapping[str, Operation], *,
                 chunk: int = CHUNK) -> None:
        self.store = store
        self.operations = operations
        self.chunk = chunk

    async def start(self, owner: str, operation: str, keys: Sequence[str], *, title: str,
                    return_to: str, params: Mapping[str, Any] | None = None) -> Batch:
        """Record a new batch (nothing is done yet: the first :meth:`step` begins)."""
        if operation not in self.operations:
            raise BatchError(422, f"Unknown operation {operation!r}.", field="operation")
        unique = list(dict.fromkeys(keys))
        if not unique:
            raise BatchError(422, "Choose at least one record.", field="keys")
        if len(unique) > MAX_KEYS:
            raise BatchError(422, f"A batch takes at most {MAX_KEYS} records.", field="keys")
        batch = Batch(id=secrets.token_urlsafe(16), owner=owner, operation=operation,
                      keys=unique, params=dict(params or {}), title=title, return_to=return_to)
        await self._save(batch)
        return batch

    async def get(self, batch_id: str, owner: str) -> Batch:
        """The batch ``owner`` started; 404 for anyone else and once it is gone."""
        raw = await self.store.cache.get(_key(batch_id)) if len(batch_id) <= 64 else None
        if not isinstance(raw, dict) or raw.get("owner") != owner:
            raise BatchError(404, "There is no such batch (it may have finished already).")
        return Batch(**raw)

    async def step(self, batch_id: str, owner: str, actor: Any) -> Batch:
        """Do the next chunk for ``actor`` (the batch as it stands when another request is
        doing a chunk right now)."""
        lock = f"batch:{batch_id}"
        token = await self.store.locks.acquire(lock, LOCK_TTL)
        if token is None:
            return await self.get(batch_id, owner)
        try:
            batch = await self.get(batch_id, owner)  # read under the lock: the latest state
            if batch.finished:
                return batch
            keys = batch.keys[batch.position:batch.position + self.chunk]
            outcomes = await self.operations[batch.operation](actor, keys, batch.params)
            skipped = [[o.label or o.key, o.reason] for o in outcomes if not o.done]
            batch = replace(batch, position=batch.position + len(keys),
                            done=batch.done + sum(1 for o in outcomes if o.done),
                            skipped=batch.skipped + skipped)
            await self._save(batch)
            return batch
        finally:
            await self.store.locks.release(lock, token)

    async def run(self, batch_id: str, owner: str, actor: Any,
                  progress: Callable[[Batch], None] | None = None) -> Batch:
        """Step the batch to its end (the command line), telling ``progress`` after each
        chunk."""
        batch = await self.get(batch_id, owner)
        while not batch.finished:
            batch = await self.step(batch_id, owner, actor)
            if progress is not None:
                progress(batch)
        return batch

    async def forget(self, batch_id: str) -> None:
        await self.store.cache.delete(_key(batch_id))

    async def _save(self, batch: Batch) -> None:
        await self.store.cache.set(_key(batch.id), asdict(batch), ttl=TTL)
