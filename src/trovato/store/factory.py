"""Choose and build the shared store: Redis when a URL is configured, else PostgreSQL."""

from __future__ import annotations

from trovato.db.pool import Database
from trovato.store.base import SharedStore
from trovato.store.postgres import PostgresSharedStore

# Seconds one Redis command (or connection attempt) may take; Redis answers in microseconds.
STORE_SOCKET_TIMEOUT_S = 2.0


async def open_store(
    database: Database, *, redis_url: str | None, prefix: str = "trovato:"
) -> SharedStore:
    """The shared store for this process.

    With ``redis_url`` every component uses one Redis client (connected lazily; call
    :meth:`SharedStore.ping` to check it answers) and keys under ``prefix``. Without it the
    components use ``database``, which stays the caller's to close; ``prefix`` then namespaces
    the pub/sub channels.
    """
    if redis_url:
        # Imported here: a site on the PostgreSQL store never pays for the Redis client.
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialWithJitterBackoff

        from trovato.store.redis import RedisSharedStore

        # Keepalives let the long-lived pub/sub connection notice a peer that vanished. While
        # Redis is down a request must fail fast (the kernel answers 503): one quick retry
        # rides over a single dropped connection, where redis-py's default (ten, up to 1 s
        # apart) would hold the request for seconds, and no socket operation waits longer
        # than STORE_SOCKET_TIMEOUT_S for a server that stopped answering.
        client = Redis.from_url(
            redis_url,
            socket_keepalive=True,
            socket_timeout=STORE_SOCKET_TIMEOUT_S,
            socket_connect_timeout=STORE_SOCKET_TIMEOUT_S,
            retry=Retry(ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries=1),
        )
        return RedisSharedStore.build(client, prefix)
    return PostgresSharedStore.build(database, prefix)
