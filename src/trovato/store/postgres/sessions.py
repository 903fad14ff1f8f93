"""Sessions in the UNLOGGED ``sessions`` table; expiry is checked against the server clock."""

from __future__ import annotations

from typing import Any, cast

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.store.base import SessionStore, positive


class PostgresSessionStore(SessionStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, sid: str) -> dict[str, Any] | None:
        data = await self.database.fetchval(
            "SELECT data FROM sessions WHERE sid = %s AND expires_at > now()", (sid,)
        )
        return cast(dict[str, Any] | None, data)

    async def set(self, sid: str, data: dict[str, Any], ttl: float) -> None:
        await self.database.execute(
            "INSERT INTO sessions (sid, data, expires_at)"
            " VALUES (%s, %s, now() + make_interval(secs => %s))"
            " ON CONFLICT (sid) DO UPDATE SET data = EXCLUDED.data,"
            " expires_at = EXCLUDED.expires_at",
            (sid, Jsonb(data), positive(ttl)),
        )

    async def delete(self, sid: str) -> None:
        await self.database.execute("DELETE FROM sessions WHERE sid = %s", (sid,))

    async def touch(self, sid: str, ttl: float) -> None:
        # Only a live session is extended: an expired one must not come back.
        await self.database.execute(
            "UPDATE sessions SET expires_at = now() + make_interval(secs => %s)"
            " WHERE sid = %s AND expires_at > now()",
            (positive(ttl), sid),
        )

    async def sweep(self) -> int:
        """Delete expired sessions; returns how many."""
        return await self.database.execute("DELETE FROM sessions WHERE expires_at <= now()")
