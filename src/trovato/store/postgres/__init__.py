"""PostgreSQL backends of the shared-state interfaces, for installs without Redis.

Sessions, cache, locks and rate-limit counters live in UNLOGGED tables (migration 0002), with
expiry compared to the server's ``now()`` so every host agrees, and ``sweep()`` methods that
delete expired rows; jobs live in the durable ``queue`` table; pub/sub is LISTEN/NOTIFY.
Every class but :class:`PostgresPubSub` only needs the kernel's :class:`Database` pool.
"""

from trovato.store.postgres.cache import PostgresCache
from trovato.store.postgres.locks import PostgresLockManager
from trovato.store.postgres.pubsub import PostgresPubSub
from trovato.store.postgres.queue import PostgresQueue
from trovato.store.postgres.rate_limits import PostgresRateLimiter
from trovato.store.postgres.sessions import PostgresSessionStore
from trovato.store.postgres.shared import PostgresSharedStore

__all__ = [
    "PostgresCache",
    "PostgresLockManager",
    "PostgresPubSub",
    "PostgresQueue",
    "PostgresRateLimiter",
    "PostgresSessionStore",
    "PostgresSharedStore",
]
