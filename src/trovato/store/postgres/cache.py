"""The cache in the UNLOGGED ``cache`` table; tags are a ``text[]`` column with a GIN index, so
invalidating any set of tags is one ``DELETE … WHERE tags && …`` statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.store.base import Cache, positive


class PostgresCache(Cache):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, key: str) -> Any | None:
        return await self.database.fetchval(
            "SELECT value FROM cache WHERE key = %s AND (expires_at IS NULL OR expires_at > now())",
            (key,),
        )

    async def get_many(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        rows = await self.database.fetch(
            "SELECT key, value FROM cache"
            " WHERE key = ANY(%s::text[]) AND (expires_at IS NULL OR expires_at > now())",
            (keys,),
        )
        return {row["key"]: row["value"] for row in rows}

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Sequence[str] = ()
    ) -> None:
        # make_interval(NULL) is NULL, so ttl None stores "no expiry" through the same statement.
        await self.database.execute(
            "INSERT INTO cache (key, value, tags, expires_at)"
            " VALUES (%s, %s, %s::text[], now() + make_interval(secs => %s::float8))"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, tags = EXCLUDED.tags,"
            " expires_at = EXCLUDED.expires_at",
            (key, Jsonb(value), list(dict.fromkeys(tags)), None if ttl is None else positive(ttl)),
        )

    async def delete(self, key: str) -> None:
        await self.database.execute("DELETE FROM cache WHERE key = %s", (key,))

    async def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        # A conflicting row that expired (not swept yet) is a miss: it is replaced. Of two
        # concurrent inserts the second waits for the first and then sees its live row.
        return bool(await self.database.fetchval(
            "INSERT INTO cache (key, value, tags, expires_at)"
            " VALUES (%s, %s, '{}', now() + make_interval(secs => %s::float8))"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, tags = EXCLUDED.tags,"
            " expires_at = EXCLUDED.expires_at"
            " WHERE cache.expires_at IS NOT NULL AND cache.expires_at <= now()"
            " RETURNING true",
            (key, Jsonb(value), None if ttl is None else positive(ttl)),
        ))

    async def invalidate_tags(self, tags: Sequence[str]) -> int:
        if not tags:
            return 0
        # Expired rows go too, but only live ones count: they are what readers could still see.
        return int(
            await self.database.fetchval(
                "WITH dropped AS"
                " (DELETE FROM cache WHERE tags && %s::text[] RETURNING expires_at)"
                " SELECT count(*) FILTER (WHERE expires_at IS NULL OR expires_at > now())"
                " FROM dropped",
                (list(tags),),
            )
        )

    async def clear(self) -> None:
        # TRUNCATE frees the space at once; the brief exclusive lock is fine for a rare admin act.
        await self.database.execute("TRUNCATE cache")

    async def sweep(self) -> int:
        """Delete expired entries; returns how many."""
        return await self.database.execute(
            "DELETE FROM cache WHERE expires_at IS NOT NULL AND expires_at <= now()"
        )
