"""Sessions in the UNLOGGED ``sessions`` table; expiry is checked against the server clock.

The users stamp is the row of the empty session id, which no session has (session ids are
never empty, and the session manager looks none up) and which never expires.
"""

from __future__ import annotations

from typing import Any, cast

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.store.base import SessionRead, SessionStore, new_stamp, positive

STAMP_SID = ""
_INSERT_STAMP = "INSERT INTO sessions (sid, data, expires_at) VALUES (%s, %s, 'infinity')"
_KEEP_STAMP = _INSERT_STAMP + " ON CONFLICT (sid) DO NOTHING"
_REPLACE_STAMP = _INSERT_STAMP + " ON CONFLICT (sid) DO UPDATE SET data = EXCLUDED.data"


class PostgresSessionStore(SessionStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def read(self, sid: str) -> SessionRead:
        row = await self.database.fetchrow(
            "SELECT (SELECT data FROM sessions WHERE sid = %s AND sid <> %s"
            " AND expires_at > now()) AS data,"
            " (SELECT data ->> 'stamp' FROM sessions WHERE sid = %s) AS stamp",
            (sid, STAMP_SID, STAMP_SID),
        )
        if row is None:
            return SessionRead(None, None)
        return SessionRead(cast(dict[str, Any] | None, row["data"]), row["stamp"])

    async def restamp(self, *, only_if_missing: bool = False) -> None:
        await self.database.execute(
            _KEEP_STAMP if only_if_missing else _REPLACE_STAMP,
            (STAMP_SID, Jsonb({"stamp": new_stamp()})),
        )

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
