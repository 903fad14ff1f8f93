"""Fixed-window rate limits in the UNLOGGED ``rate_limit`` table: one upsert per hit counts
it, or starts a new window when the old one has passed, atomically under the row lock."""

from __future__ import annotations

from trovato.db.pool import Database
from trovato.store.base import RateLimiter, RateLimitResult, positive


class PostgresRateLimiter(RateLimiter):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def hit(self, key: str, limit: int, window: float) -> RateLimitResult:
        row = await self.database.fetchrow(
            "INSERT INTO rate_limit AS r (key, count, expires_at)"
            " VALUES (%s, 1, now() + make_interval(secs => %s))"
            " ON CONFLICT (key) DO UPDATE SET"
            " count = CASE WHEN r.expires_at > now() THEN r.count + 1 ELSE 1 END,"
            " expires_at = CASE WHEN r.expires_at > now() THEN r.expires_at"
            " ELSE EXCLUDED.expires_at END"
            " RETURNING count,"
            " greatest(extract(epoch FROM expires_at - now()), 0)::float8 AS left_s",
            (key, positive(window, "window")),
        )
        assert row is not None  # an upsert with RETURNING always returns its row
        count = int(row["count"])
        allowed = count <= limit
        return RateLimitResult(allowed, count, limit, 0.0 if allowed else row["left_s"])

    async def peek(self, key: str, limit: int, window: float) -> RateLimitResult:
        row = await self.database.fetchrow(
            "SELECT count,"
            " greatest(extract(epoch FROM expires_at - now()), 0)::float8 AS left_s"
            " FROM rate_limit WHERE key = %s AND expires_at > now()",
            (key,),
        )
        count = 0 if row is None else int(row["count"])
        allowed = count < limit
        return RateLimitResult(
            allowed, count, limit, 0.0 if allowed or row is None else row["left_s"]
        )

    async def reset(self, key: str) -> None:
        await self.database.execute("DELETE FROM rate_limit WHERE key = %s", (key,))

    async def sweep(self) -> int:
        """Delete counters whose window has passed; returns how many."""
        return await self.database.execute("DELETE FROM rate_limit WHERE expires_at <= now()")
