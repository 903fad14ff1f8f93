"""The cache in Redis: one string key per entry, cache tags as sets of member keys.

Each stored value starts with a header line, the JSON list of its tags, then the JSON value.
Tag sets are never pruned one member at a time (a key that expires or gets new tags leaves a
stale member behind); instead invalidation checks each member's header and drops only keys
that carry the tag *now*, so it is exact without bookkeeping on every write. Both scripts run
atomically, so a concurrent set and invalidation can never leave a tagged key outside its sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from trovato.store.base import Cache, milliseconds

# KEYS: the entry, then its tag sets. ARGV: the stored bytes, TTL in ms (0 = none).
# A tag set lives as long as its longest-lived member: persistent once any member is.
_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
for i = 2, #KEYS do
  local left = redis.call('PTTL', KEYS[i])
  redis.call('SADD', KEYS[i], KEYS[1])
  if ttl == 0 then
    redis.call('PERSIST', KEYS[i])
  elseif left == -2 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"""

# KEYS: the tag sets. ARGV: the tag names, in the same order.
_INVALIDATE = """
local wanted = {}
for _, tag in ipairs(ARGV) do wanted[tag] = true end
local dropped = 0
for _, set in ipairs(KEYS) do
  for _, key in ipairs(redis.call('SMEMBERS', set)) do
    local stored = redis.call('GET', key)
    if stored then
      local eol = string.find(stored, '\\n', 1, true)
      for _, tag in ipairs(cjson.decode(string.sub(stored, 1, eol - 1))) do
        if wanted[tag] then
          redis.call('DEL', key)
          dropped = dropped + 1
          break
        end
      end
    end
  end
  redis.call('DEL', set)
end
return dropped
"""


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _decode(stored: bytes | str) -> Any:
    # The client does not decode responses, so this is always bytes.
    raw = cast(bytes, stored)
    return orjson.loads(memoryview(raw)[raw.index(b"\n") + 1 :])


class RedisCache(Cache):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "c:"
        self.tag_prefix = prefix + "tag:"
        self._set_tagged = client.register_script(_SET_TAGGED)
        self._invalidate = client.register_script(_INVALIDATE)

    async def get(self, key: str) -> Any | None:
        stored = await self.client.get(self.prefix + key)
        return None if stored is None else _decode(stored)

    async def get_many(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        found = await self.client.mget([self.prefix + key for key in keys])
        return {
            key: _decode(stored)
            for key, stored in zip(keys, found, strict=True)
            if stored is not None
        }

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Sequence[str] = ()
    ) -> None:
        unique = list(dict.fromkeys(tags))
        stored = orjson.dumps(unique) + b"\n" + orjson.dumps(value)
        ttl_ms = 0 if ttl is None else milliseconds(ttl)
        if not unique:
            await self.client.set(self.prefix + key, stored, px=ttl_ms or None)
            return
        keys = [self.prefix + key] + [self.tag_prefix + tag for tag in unique]
        await self._set_tagged(keys=keys, args=[stored, ttl_ms])

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        stored = b"[]\n" + orjson.dumps(value)  # the header line: no tags
        ttl_ms = None if ttl is None else milliseconds(ttl)
        return bool(await self.client.set(self.prefix + key, stored, px=ttl_ms, nx=True))

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        unique = list(dict.fromkeys(tags))
        if not unique:
            return 0
        keys = [self.tag_prefix + tag for tag in unique]
        return int(await self._invalidate(keys=keys, args=unique))

    async def clear(self) -> None:
        for pattern in (self.prefix, self.tag_prefix):
            batch: list[bytes] = []
            async for found in self.client.scan_iter(match=_glob_escape(pattern) + "*", count=500):
                batch.append(found)
                if len(batch) >= 500:
                    await self.client.unlink(*batch)
                    batch = []
            if batch:
                await self.client.unlink(*batch)
