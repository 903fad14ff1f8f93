"""Sessions in Redis: one string key per session, expired by Redis itself."""

from __future__ import annotations

from typing import Any, cast

import orjson
from redis.asyncio import Redis

from trovato.store.base import SessionRead, SessionStore, milliseconds, new_stamp


class RedisSessionStore(SessionStore):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "s:"
        # Beside the sessions' keys, never one of them.
        self.stamp_key = prefix + "users-stamp"

    async def read(self, sid: str) -> SessionRead:
        raw, stamp = await self.client.mget(self.prefix + sid, self.stamp_key)
        data = None if raw is None else cast(dict[str, Any], orjson.loads(raw))
        return SessionRead(data, stamp.decode() if isinstance(stamp, bytes) else stamp)

    async def restamp(self, *, only_if_missing: bool = False) -> None:
        await self.client.set(self.stamp_key, new_stamp(), nx=only_if_missing)

    async def set(self, sid: str, data: dict[str, Any], ttl: float) -> None:
        await self.client.set(self.prefix + sid, orjson.dumps(data), px=milliseconds(ttl))

    async def delete(self, sid: str) -> None:
        await self.client.delete(self.prefix + sid)

    async def touch(self, sid: str, ttl: float) -> None:
        # PEXPIRE on a missing (or already expired) key does nothing, so nothing is revived.
        await self.client.pexpire(self.prefix + sid, milliseconds(ttl))
