"""Choose and build the shared store: Redis when a URL is configured, else PostgreSQL."""

from __future__ import annotations

from trovato.db.pool import Database
from trovato.store.base import SharedStore
from trovato.store.postgres import PostgresSharedStore


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

        # Keepalives let the long-lived pub/sub connection notice a peer that vanished. Two
        # quick retries ride over one dropped connection; redis-py's default (ten, up to 1 s
        # apart) would hold a request for seconds while Redis is down instead of failing fast.
        client = Redis.from_url(
            redis_url,
            socket_keepalive=True,
            retry=Retry(ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries=2),
        )
        return RedisSharedStore.build(client, prefix)
    return PostgresSharedStore.build(database, prefix)
