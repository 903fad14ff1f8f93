"""The site's secret and the purpose-specific keys derived from it.

Every process must sign with the same key, so the secret is ``TROVATO_SECRET_KEY`` or, when
that is unset, a random one generated once and kept in the ``variable`` table (the first
process to start writes it; the others read it). A site whose database may be read by others
should set ``TROVATO_SECRET_KEY``: the stored one is only as secret as the database.

Nothing signs with the secret itself: each use derives its own key
(:func:`derive_key`, HMAC-SHA256 of the purpose under the secret, HKDF-Expand's one-block
case), so a signature made for one purpose (a preview link) is never valid for another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from trovato.db.pool import Database
from trovato.settings import Settings

SECRET_VARIABLE = "site_secret"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """The 32-byte key for ``purpose`` (e.g. ``"preview-link"``)."""
    return hmac.new(secret, b"trovato key:" + purpose.encode(), hashlib.sha256).digest()


async def site_secret(settings: Settings, db: Database) -> bytes:
    """``TROVATO_SECRET_KEY``, else the site's generated secret (created on first use)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    await db.execute(
        "INSERT INTO variable (name, value) VALUES (%s, to_jsonb(%s::text))"
        " ON CONFLICT (name) DO NOTHING",
        (SECRET_VARIABLE, secrets.token_hex(32)),
    )
    stored = await db.fetchval(
        "SELECT value #>> '{}' FROM variable WHERE name = %s", (SECRET_VARIABLE,)
    )
    return str(stored).encode()
