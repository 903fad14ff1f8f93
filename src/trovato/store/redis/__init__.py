"""Redis backends of the shared-state interfaces (``redis.asyncio``, hiredis when installed).

Every class takes a ``redis.asyncio.Redis`` client created with the default
``decode_responses=False`` and a key prefix; all keys live under the prefix, so several sites
(or test runs) can share one server. Multi-key operations are Lua scripts, atomic on a single
Redis server.
"""

from trovato.store.redis.cache import RedisCache
from trovato.store.redis.locks import RedisLockManager
from trovato.store.redis.pubsub import RedisPubSub
from trovato.store.redis.queue import RedisQueue
from trovato.store.redis.rate_limits import RedisRateLimiter
from trovato.store.redis.sessions import RedisSessionStore
from trovato.store.redis.shared import RedisSharedStore

__all__ = [
    "RedisCache",
    "RedisLockManager",
    "RedisPubSub",
    "RedisQueue",
    "RedisRateLimiter",
    "RedisSessionStore",
    "RedisSharedStore",
]
