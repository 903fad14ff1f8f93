"""Migration 0006: existing accounts get their canonical name key; look-alike names that
already exist stop the upgrade with both names, and nothing is half-applied."""

from __future__ import annotations

import psycopg
import pytest

from trovato.db import migrate
from trovato.names import name_key


def _users(url: str) -> dict[str, str | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT name, name_key FROM users WHERE name <> ''").fetchall()
    return {name: key for name, key in rows}


def test_existing_names_get_their_key(db_url: str) -> None:
    migrate.downgrade(db_url, "0005")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (name) VALUES ('Alice'), ('JOS\u00c9')")
    migrate.upgrade(db_url)
    assert _users(db_url) == {"Alice": name_key("alice"), "JOS\u00c9": name_key("jose\u0301")}


def test_look_alike_names_stop_the_upgrade_and_name_both(db_url: str) -> None:
    migrate.downgrade(db_url, "0005")
    with psycopg.connect(db_url, autocommit=True) as conn:
        # lower() told these apart; the canonical key does not (Cyrillic a).
        conn.execute("INSERT INTO users (name) VALUES ('alice'), ('\u0430lice')")
    with pytest.raises(RuntimeError, match="look alike; rename one"):
        migrate.upgrade(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        columns = conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid ="
                               " 'users'::regclass AND attname = 'name_key'").fetchone()
    assert columns == (0,)  # rolled back whole
