"""API tokens for ``Authorization: Bearer``: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.ids import uuid7
from trovato.observability.audit import audit

PREFIX = "trv_"
MAX_PER_USER = 50


def _digest(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast hash is enough; no salt or slow KDF is needed.
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: uuid.UUID
    label: str
    prefix: str
    created: datetime
    last_used: datetime | None

    def public(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "label": self.label,
            "prefix": self.prefix,
            "created": self.created.isoformat(),
            "last_used": self.last_used.isoformat() if self.last_used else None,
        }


class TokenLimitError(ServiceError):
    """A user already holds the most tokens allowed (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class Tokens:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, user_id: uuid.UUID, label: str) -> tuple[TokenInfo, str]:
        """A new token for the user; the secret is returned here and never again."""
        secret = PREFIX + secrets.token_urlsafe(32)
        token_id = uuid7()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT count(*) AS n FROM api_token WHERE user_id = %s", (user_id,)
            )
            row = await cur.fetchone()
            if row and row["n"] >= MAX_PER_USER:
                raise TokenLimitError(f"at most {MAX_PER_USER} tokens per user")
            cur = await conn.execute(
                "INSERT INTO api_token (id, user_id, label, token_hash, prefix)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING created",
                (token_id, user_id, label, _digest(secret), secret[:8]),
            )
            created = await cur.fetchone()
            await audit(conn, "user", "API token “%(label)s” created.", {"label": label},
                        user_id=user_id)
        assert created is not None
        return TokenInfo(token_id, label, secret[:8], created["created"], None), secret

    async def for_user(self, user_id: uuid.UUID) -> list[TokenInfo]:
        rows = await self.db.fetch(
            "SELECT id, label, prefix, created, last_used FROM api_token"
            " WHERE user_id = %s ORDER BY created",
            (user_id,),
        )
        return [TokenInfo(**row) for row in rows]

    async def revoke(self, user_id: uuid.UUID, token_id: uuid.UUID) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM api_token WHERE id = %s AND user_id = %s RETURNING label",
                (token_id, user_id),
            )
            row = await cur.fetchone()
            if row is None:
                return False
            await audit(conn, "user", "API token “%(label)s” revoked.", {"label": row["label"]},
                        user_id=user_id)
        return True

    async def check(self, secret: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        """(token id, owner id) of a valid token (and note its use), or None."""
        if not secret.startswith(PREFIX) or len(secret) > 100:
            return None
        row = await self.db.fetchrow(
            "UPDATE api_token SET last_used = now() WHERE token_hash = %s"
            " AND (expires IS NULL OR expires > now()) RETURNING id, user_id",
            (_digest(secret),),
        )
        return None if row is None else (row["id"], row["user_id"])
