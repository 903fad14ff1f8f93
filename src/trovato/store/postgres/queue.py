"""Job queues in the durable ``queue`` table, claimed with ``FOR UPDATE SKIP LOCKED``.

``available_at`` is the one time that matters: when a pushed or released job becomes due, and,
once claimed, when its lease ends (so an unacked job simply becomes due again). Concurrent
claimers skip each other's locked rows, and a row taken meanwhile fails the recheck of
``available_at``, so no job is handed out twice within a lease. ``claimed_until`` mirrors the
lease for operators; a claim is identified by the job's delivery count.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.ids import uuid7
from trovato.store.base import Job, Queue, positive

_CLAIM = """
WITH next AS (
    SELECT id FROM queue
    WHERE name = %(queue)s AND available_at <= now()
    ORDER BY available_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE queue SET attempts = queue.attempts + 1,
    available_at = now() + make_interval(secs => %(lease)s),
    claimed_until = now() + make_interval(secs => %(lease)s)
FROM next WHERE queue.id = next.id
RETURNING queue.id, queue.payload, queue.attempts
"""


class PostgresQueue(Queue):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def push(self, queue: str, payload: Any, *, delay: float = 0) -> str:
        job_id = uuid7()
        await self.database.execute(
            "INSERT INTO queue (id, name, payload, available_at)"
            " VALUES (%s, %s, %s, now() + make_interval(secs => %s))",
            (job_id, queue, Jsonb(payload), max(delay, 0.0)),
        )
        return str(job_id)

    async def claim(self, queue: str, *, lease: float = 60.0) -> Job | None:
        row = await self.database.fetchrow(
            _CLAIM, {"queue": queue, "lease": positive(lease, "lease")}
        )
        if row is None:
            return None
        return Job(str(row["id"]), queue, row["payload"], row["attempts"])

    async def ack(self, job: Job) -> None:
        await self.database.execute("DELETE FROM queue WHERE id = %s", (uuid.UUID(job.id),))

    async def release(self, job: Job, *, delay: float = 0) -> None:
        await self.database.execute(
            "UPDATE queue SET available_at = now() + make_interval(secs => %s),"
            " claimed_until = NULL"
            " WHERE id = %s AND attempts = %s AND claimed_until IS NOT NULL",
            (max(delay, 0.0), uuid.UUID(job.id), job.attempts),
        )

    async def size(self, queue: str) -> int:
        return int(
            await self.database.fetchval("SELECT count(*) FROM queue WHERE name = %s", (queue,))
        )
