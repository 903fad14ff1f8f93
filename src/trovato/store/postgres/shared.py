"""The PostgreSQL-backed :class:`SharedStore`, for installs without Redis (the embedded
default): every component on the kernel's own :class:`Database` pool."""

from __future__ import annotations

from dataclasses import dataclass

from trovato.db.pool import Database
from trovato.store.base import SharedStore
from trovato.store.postgres.cache import PostgresCache
from trovato.store.postgres.locks import PostgresLockManager
from trovato.store.postgres.pubsub import PostgresPubSub
from trovato.store.postgres.queue import PostgresQueue
from trovato.store.postgres.rate_limits import PostgresRateLimiter
from trovato.store.postgres.sessions import PostgresSessionStore


@dataclass
class PostgresSharedStore(SharedStore):
    """Its components are typed concretely so :meth:`sweep` can reach theirs."""

    sessions: PostgresSessionStore
    cache: PostgresCache
    locks: PostgresLockManager
    rate_limits: PostgresRateLimiter
    database: Database

    @classmethod
    def build(cls, database: Database, prefix: str = "trovato:") -> PostgresSharedStore:
        return cls(
            sessions=PostgresSessionStore(database),
            cache=PostgresCache(database),
            locks=PostgresLockManager(database),
            queue=PostgresQueue(database),
            pubsub=PostgresPubSub(database, prefix),
            rate_limits=PostgresRateLimiter(database),
            backend="postgres",
            database=database,
        )

    async def ping(self) -> None:
        await self.database.ping()

    async def sweep(self) -> int:
        swept = 0
        for part in (self.sessions, self.cache, self.locks, self.rate_limits):
            swept += await part.sweep()
        return swept

    # close() is inherited: it stops the pub/sub listener; the Database belongs to the caller.
