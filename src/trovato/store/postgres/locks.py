"""Locks as rows of the UNLOGGED ``lock`` table: an upsert takes a free or expired lock in one
statement, so two processes can never both get it (the primary key serialises them)."""

from __future__ import annotations

import secrets

from trovato.db.pool import Database
from trovato.store.base import LockManager, positive


class PostgresLockManager(LockManager):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def acquire(self, name: str, ttl: float) -> str | None:
        token = secrets.token_hex(16)
        taken = await self.database.fetchval(
            "INSERT INTO lock (name, token, expires_at)"
            " VALUES (%s, %s, now() + make_interval(secs => %s))"
            " ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token,"
            " expires_at = EXCLUDED.expires_at WHERE lock.expires_at <= now()"
            " RETURNING token",
            (name, token, positive(ttl)),
        )
        return None if taken is None else str(taken)

    async def refresh(self, name: str, token: str, ttl: float) -> bool:
        updated = await self.database.execute(
            "UPDATE lock SET expires_at = now() + make_interval(secs => %s)"
            " WHERE name = %s AND token = %s AND expires_at > now()",
            (positive(ttl), name, token),
        )
        return updated == 1

    async def release(self, name: str, token: str) -> bool:
        # An expired row of ours is deleted too, but reported as lost, as Redis would.
        was_live = await self.database.fetchval(
            "DELETE FROM lock WHERE name = %s AND token = %s RETURNING expires_at > now()",
            (name, token),
        )
        return bool(was_live)

    async def sweep(self) -> int:
        """Delete expired locks; returns how many."""
        return await self.database.execute("DELETE FROM lock WHERE expires_at <= now()")
