"""The shared-state interfaces every kernel process uses: sessions, cache, locks, queue, pub/sub
and rate limits.

Two backends implement them: Redis (``trovato.store.redis``) when configured, PostgreSQL
(``trovato.store.postgres``) otherwise. Both keep all state outside the process, so any number
of processes on any number of hosts see the same sessions, locks and counters (DESIGN.md §2.1).
Keys are strings, values anything JSON can carry, TTLs seconds (fractions allowed).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

log = logging.getLogger(__name__)
# How long close() waits for the pub/sub listener to stop (see PubSub.close).
CLOSE_TIMEOUT = 5.0

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]


class MessageTooLarge(ValueError):
    """A pub/sub message is larger than the backend can carry."""


def positive(seconds: float, what: str = "ttl") -> float:
    """``seconds`` if it is a finite number above zero; a clear error otherwise."""
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{what} must be a positive number of seconds, not {seconds!r}")
    return float(seconds)


def milliseconds(seconds: float, what: str = "ttl") -> int:
    """A positive duration in whole milliseconds (at least 1), the unit Redis expiry takes."""
    return max(1, round(positive(seconds, what) * 1000))


def new_stamp() -> str:
    """A fresh users stamp: random, so a stamp is never seen twice (not even after the store
    was emptied and a counter would start over)."""
    return secrets.token_hex(16)


class SessionRead(NamedTuple):
    """A session's data (None if missing or expired) and the users stamp read with it."""

    data: dict[str, Any] | None
    stamp: str | None


class SessionStore(ABC):
    """Server-side session data keyed by session id, and the users stamp.

    The users stamp is a random value replaced (:meth:`restamp`) after every change to what a
    session's user is made of (the account, its roles, a role's permissions). It is read in
    the same round trip as the session, so a process may keep the users it resolved while the
    stamp it read them under is the current one, and sees another process's change on its
    very next request without asking the database.
    """

    @abstractmethod
    async def read(self, sid: str) -> SessionRead:
        """The session's data and the current users stamp, in one round trip."""

    @abstractmethod
    async def restamp(self, *, only_if_missing: bool = False) -> None:
        """Give the users stamp a new random value (``only_if_missing``: only when there is
        none, e.g. after the store was emptied)."""

    @abstractmethod
    async def set(self, sid: str, data: dict[str, Any], ttl: float) -> None:
        """Store (or replace) the session's data, expiring ``ttl`` seconds from now."""

    @abstractmethod
    async def delete(self, sid: str) -> None: ...

    @abstractmethod
    async def touch(self, sid: str, ttl: float) -> None:
        """Push the expiry of a live session to ``ttl`` seconds from now; no-op if it is gone."""


class Cache(ABC):
    """A shared key/value cache with optional TTLs and cache tags."""

    @abstractmethod
    async def get(self, key: str) -> Any | None:
        """The cached value, or None on a miss."""

    @abstractmethod
    async def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The hits among ``keys``; misses are left out."""

    @abstractmethod
    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Sequence[str] = ()
    ) -> None:
        """Store a value; ``ttl`` None keeps it until deleted; ``tags`` replace any earlier ones."""

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` holds no live value, in one atomic step: True if it
        was stored. Of concurrent adds of a key exactly one succeeds (a used-once marker)."""

    @abstractmethod
    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        """Atomically drop every key carrying any of ``tags``; returns how many were dropped."""

    @abstractmethod
    async def clear(self) -> None:
        """Drop every cached key."""


class LockManager(ABC):
    """Named, expiring locks shared by all processes, owned through a random token."""

    @abstractmethod
    async def acquire(self, name: str, ttl: float) -> str | None:
        """The owner token, or None if someone else holds the lock and it has not expired."""

    @abstractmethod
    async def refresh(self, name: str, token: str, ttl: float) -> bool:
        """Extend our lock to ``ttl`` seconds from now; False if it is no longer ours."""

    @abstractmethod
    async def release(self, name: str, token: str) -> bool:
        """Release the lock if ``token`` still owns it; False otherwise."""

    @asynccontextmanager
    async def hold(
        self, name: str, ttl: float, *, heartbeat: float | None = None
    ) -> AsyncIterator[str | None]:
        """Acquire ``name`` for the block, refreshing it every ``ttl/3`` seconds (or
        ``heartbeat``) so work longer than ``ttl`` keeps it; released on exit.

        Yields the token, or None if another process holds the lock (the block still runs, so
        callers decide what "not acquired" means). If a refresh finds the lock lost, a warning
        is logged and the heartbeat stops; the block is not interrupted.
        """
        every = positive(ttl) / 3 if heartbeat is None else positive(heartbeat, "heartbeat")
        token = await self.acquire(name, ttl)
        if token is None:
            yield None
            return
        beat = asyncio.create_task(self._heartbeat(name, token, ttl, every))
        try:
            yield token
        finally:
            beat.cancel()
            # gather rather than awaiting the task: a cancellation of *this* task still propagates.
            await asyncio.gather(beat, return_exceptions=True)
            try:
                await self.release(name, token)
            except Exception:
                # The lock expires on its own; a failed release must not mask the block's outcome.
                log.warning("could not release lock %r; it will expire", name, exc_info=True)

    async def _heartbeat(self, name: str, token: str, ttl: float, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if not await self.refresh(name, token, ttl):
                    log.warning("lock %r was lost while held (expired or taken over)", name)
                    return
            except Exception:
                # A transient outage: the lock may well still be ours, so keep beating.
                log.warning("could not refresh lock %r", name, exc_info=True)


@dataclass(frozen=True)
class Job:
    """A claimed job. ``attempts`` counts deliveries, this one included."""

    id: str
    queue: str
    payload: Any
    attempts: int


class Queue(ABC):
    """Named job queues with at-least-once delivery through leases."""

    @abstractmethod
    async def push(self, queue: str, payload: Any, *, delay: float = 0) -> str:
        """Add a job, claimable after ``delay`` seconds; returns its id."""

    @abstractmethod
    async def claim(self, queue: str, *, lease: float = 60.0) -> Job | None:
        """The oldest available job, leased to the caller for ``lease`` seconds, or None.

        A job not acked within its lease becomes claimable again; within a lease no other
        claimer gets it.
        """

    @abstractmethod
    async def ack(self, job: Job) -> None:
        """The job is done: delete it (even if its lease ran out meanwhile)."""

    @abstractmethod
    async def release(self, job: Job, *, delay: float = 0) -> None:
        """Give the job back, claimable again after ``delay`` seconds.

        Only the current claim can release: after the lease ran out and another worker claimed
        the job, releasing the stale :class:`Job` does nothing.
        """

    @abstractmethod
    async def size(self, queue: str) -> int:
        """Jobs not yet acked: waiting, delayed and in flight."""


class PubSub(ABC):
    """Fire-and-forget messages to every subscribed process (e.g. L1 cache invalidation).

    Messages published while a subscriber is disconnected are lost, so subscribers must keep
    only state that also expires on its own.
    """

    @abstractmethod
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def notice(self, channel: str, message: dict[str, Any]) -> tuple[str, str] | None:
        """``message`` as the channel and payload of a ``pg_notify`` a writer can send in its
        own statement, when this backend's messages are PostgreSQL notifications: delivered
        when the writer's transaction commits, never when it rolls back, without a round trip
        of its own. None when the message must be published after the commit instead."""
        return None

    @abstractmethod
    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Call ``handler`` with every message on ``channel``; returns once subscribed.

        One background listener per object serves all channels and reconnects after a
        connection loss. Handlers run one at a time in that listener, so they should be quick;
        their exceptions are logged and never stop the listener.
        """

    # Both backends keep one listener task and, per channel, the futures that subscribe()
    # waits on until the server confirms the subscription.
    _task: asyncio.Task[None] | None
    _waiters: dict[str, asyncio.Future[None]]

    async def close(self) -> None:
        """Stop the listener; pending subscribe() calls are cancelled.

        The wait is bounded: a handler cancelled in the middle of a database call can hold the
        listener until the driver gives up on its query (psycopg cancels it on the server and
        then waits for the answer), and shutting down must not hang on that.
        """
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
            if not done:
                log.warning("pub/sub listener did not stop within %.0f s; left behind",
                            CLOSE_TIMEOUT)
        for waiter in self._waiters.values():
            waiter.cancel()
        self._waiters.clear()

    @staticmethod
    async def _deliver(channel: str, handlers: Sequence[Handler], message: dict[str, Any]) -> None:
        for handler in handlers:
            try:
                result = handler(message)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("pub/sub handler failed on channel %r", channel)


@dataclass(frozen=True)
class RateLimitResult:
    """``count`` hits in the current window; ``retry_after`` seconds until the window resets
    (0 when allowed)."""

    allowed: bool
    count: int
    limit: int
    retry_after: float


class RateLimiter(ABC):
    """Fixed-window counters shared by all processes."""

    @abstractmethod
    async def hit(self, key: str, limit: int, window: float) -> RateLimitResult:
        """Count one hit; allowed while the window's count (this hit included) is <= limit."""

    @abstractmethod
    async def peek(self, key: str, limit: int, window: float) -> RateLimitResult:
        """The current count without counting; ``allowed`` tells whether a hit would be."""

    @abstractmethod
    async def reset(self, key: str) -> None: ...


@dataclass
class SharedStore(ABC):
    """The shared state one kernel process holds; built by :func:`trovato.store.open_store`."""

    sessions: SessionStore
    cache: Cache
    locks: LockManager
    queue: Queue
    pubsub: PubSub
    rate_limits: RateLimiter
    backend: str
    # What this backend raises when its service cannot be reached (the kernel answers 503).
    # The PostgreSQL backend's failures are the database's own, so it names none.
    outage_errors: ClassVar[tuple[type[Exception], ...]] = ()

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the backing service does not answer."""

    async def sweep(self) -> int:
        """Delete expired entries the backend does not expire by itself; returns how many.

        Redis expires keys on its own, so this is 0 there; cron calls it for every backend.
        """
        return 0

    async def close(self) -> None:
        await self.pubsub.close()
