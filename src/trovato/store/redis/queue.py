"""Job queues in Redis, safe with any number of concurrent claimers.

Per queue: a ready list of ids, a ``scheduled`` zset (id -> due time) for delayed jobs, an
``inflight`` zset (id -> lease deadline) and two hashes with each job's payload and delivery
count. Claiming is one Lua script, so a job moves from ready to in flight exactly once; times
come from the Redis server clock (``TIME``) so hosts with skewed clocks still agree on leases.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from trovato.ids import uuid7
from trovato.store.base import Job, Queue, milliseconds

# Shared Lua prelude: the server's time in milliseconds.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Put job ARGV[1] on the ready list, or on the scheduled set when ARGV[3] (ms) is a delay.
_ENQUEUE = """
local delay = tonumber(ARGV[3])
if delay > 0 then
  redis.call('ZADD', KEYS[2], now + delay, ARGV[1])
else
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
return 1
"""

# KEYS: ready, scheduled, jobs, attempts. ARGV: id, payload, delay in ms (0 = none).
_PUSH = (
    _NOW
    + """
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], 0)
"""
    + _ENQUEUE
)

# KEYS: ready, scheduled, inflight, jobs, attempts. ARGV: lease in ms.
# Due delayed jobs join the back of the ready list; jobs whose lease ran out go to its front,
# as they are older. Ids of jobs acked meanwhile are skipped (ack does not search the list).
# Each call moves at most 100 ids per zset, which bounds the script's run time.
_CLAIM = (
    _NOW
    + """
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('RPUSH', KEYS[1], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
end
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then return false end
  local payload = redis.call('HGET', KEYS[4], id)
  if payload then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), id)
    return {id, payload, redis.call('HINCRBY', KEYS[5], id, 1)}
  end
end
"""
)

# KEYS: ready, scheduled, inflight, attempts. ARGV: id, attempts of this claim, delay in ms.
# A claim is identified by its delivery count: a stale claim (lease lost, job claimed again)
# sees a different count and must not hand back someone else's job.
_RELEASE = (
    _NOW
    + """
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
"""
    + _ENQUEUE
)


class RedisQueue(Queue):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "q:"
        self._push = client.register_script(_PUSH)
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def _key(self, queue: str, part: str) -> str:
        # The part comes last, so no queue name can produce another queue's keys.
        return f"{self.prefix}{queue}:{part}"

    async def push(self, queue: str, payload: Any, *, delay: float = 0) -> str:
        job_id = str(uuid7())
        keys = [self._key(queue, p) for p in ("ready", "scheduled", "jobs", "attempts")]
        delay_ms = milliseconds(delay, "delay") if delay > 0 else 0
        await self._push(keys=keys, args=[job_id, orjson.dumps(payload), delay_ms])
        return job_id

    async def claim(self, queue: str, *, lease: float = 60.0) -> Job | None:
        keys = [self._key(queue, p) for p in ("ready", "scheduled", "inflight", "jobs", "attempts")]
        found = await self._claim(keys=keys, args=[milliseconds(lease, "lease")])
        if not found:
            return None
        job_id, payload, attempts = found
        return Job(job_id.decode(), queue, orjson.loads(payload), int(attempts))

    async def ack(self, job: Job) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key(job.queue, "inflight"), job.id)
            pipe.zrem(self._key(job.queue, "scheduled"), job.id)
            pipe.hdel(self._key(job.queue, "jobs"), job.id)
            pipe.hdel(self._key(job.queue, "attempts"), job.id)
            await pipe.execute()

    async def release(self, job: Job, *, delay: float = 0) -> None:
        keys = [self._key(job.queue, p) for p in ("ready", "scheduled", "inflight", "attempts")]
        delay_ms = milliseconds(delay, "delay") if delay > 0 else 0
        await self._release(keys=keys, args=[job.id, job.attempts, delay_ms])

    async def size(self, queue: str) -> int:
        return int(await self.client.hlen(self._key(queue, "jobs")))
