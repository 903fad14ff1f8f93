"""The site secret: the configured one, else one generated once and shared by every process;
keys derived from it differ by purpose."""

from __future__ import annotations

from tests.conftest import site_settings
from trovato.db.pool import Database
from trovato.kernel.keys import derive_key, site_secret


async def test_a_generated_secret_is_stored_once(db_url: str, database: Database) -> None:
    settings = site_settings(db_url)
    first = await site_secret(settings, database)
    assert len(first) == 64
    assert await site_secret(settings, database) == first  # another process reads the same


async def test_the_configured_secret_wins(db_url: str, database: Database) -> None:
    settings = site_settings(db_url, secret_key="configured secret")
    assert await site_secret(settings, database) == b"configured secret"
    assert await database.fetchval("SELECT count(*) FROM variable WHERE name = 'site_secret'") == 0


def test_keys_differ_by_purpose_and_secret() -> None:
    keys = {
        derive_key(secret, purpose)
        for secret in (b"a", b"b")
        for purpose in ("preview-link", "cron")
    }
    assert len(keys) == 4 and all(len(key) == 32 for key in keys)
