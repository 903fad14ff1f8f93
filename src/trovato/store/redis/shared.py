"""The Redis-backed :class:`SharedStore`: every component on one client, keys under a prefix."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from trovato.store.base import SharedStore
from trovato.store.redis.cache import RedisCache
from trovato.store.redis.locks import RedisLockManager
from trovato.store.redis.pubsub import RedisPubSub
from trovato.store.redis.queue import RedisQueue
from trovato.store.redis.rate_limits import RedisRateLimiter
from trovato.store.redis.sessions import RedisSessionStore


@dataclass
class RedisSharedStore(SharedStore):
    client: Redis
    outage_errors = (RedisConnectionError, RedisTimeoutError)

    @classmethod
    def build(cls, client: Redis, prefix: str = "trovato:") -> RedisSharedStore:
        return cls(
            sessions=RedisSessionStore(client, prefix),
            cache=RedisCache(client, prefix),
            locks=RedisLockManager(client, prefix),
            queue=RedisQueue(client, prefix),
            pubsub=RedisPubSub(client, prefix),
            rate_limits=RedisRateLimiter(client, prefix),
            backend="redis",
            client=client,
        )

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.pubsub.close()
        await self.client.aclose()
