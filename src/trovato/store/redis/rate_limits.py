"""Fixed-window rate limits in Redis: INCR, and PEXPIRE when the window starts, in one script."""

from __future__ import annotations

from redis.asyncio import Redis

from trovato.store.base import RateLimiter, RateLimitResult, milliseconds

# The expiry is set whenever the key has none (not only on the first hit), so a counter can
# never outlive its window and lock a client out for good.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "rl:"
        self._hit = client.register_script(_HIT)

    async def hit(self, key: str, limit: int, window: float) -> RateLimitResult:
        count, left_ms = await self._hit(keys=[self.prefix + key], args=[milliseconds(window)])
        allowed = count <= limit
        return RateLimitResult(allowed, count, limit, 0.0 if allowed else left_ms / 1000)

    async def peek(self, key: str, limit: int, window: float) -> RateLimitResult:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            raw, left_ms = await pipe.execute()
        count = int(raw) if raw is not None else 0
        allowed = count < limit
        return RateLimitResult(allowed, count, limit, 0.0 if allowed else max(left_ms, 0) / 1000)

    async def reset(self, key: str) -> None:
        await self.client.delete(self.prefix + key)
