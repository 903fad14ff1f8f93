"""Locks in Redis: ``SET NX PX`` with a random token; refresh and release check the token in
Lua so that a process whose lock expired cannot touch the next owner's lock."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from trovato.store.base import LockManager, milliseconds

_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLockManager(LockManager):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "lock:"
        self._refresh = client.register_script(_REFRESH)
        self._release = client.register_script(_RELEASE)

    async def acquire(self, name: str, ttl: float) -> str | None:
        token = secrets.token_hex(16)
        ok = await self.client.set(self.prefix + name, token, nx=True, px=milliseconds(ttl))
        return token if ok else None

    async def refresh(self, name: str, token: str, ttl: float) -> bool:
        done = await self._refresh(keys=[self.prefix + name], args=[token, milliseconds(ttl)])
        return bool(done)

    async def release(self, name: str, token: str) -> bool:
        return bool(await self._release(keys=[self.prefix + name], args=[token]))
