"""Migration 0002: UNLOGGED tables, and a downgrade that restores 0001's queue."""

from __future__ import annotations

import psycopg

from trovato.db import migrate


def test_tables_are_unlogged_and_downgrade_works(db_url: str) -> None:
    query = (
        "SELECT relname, relpersistence FROM pg_class WHERE relkind = 'r'"
        " AND relname IN ('sessions', 'cache', 'lock', 'rate_limit', 'queue') ORDER BY relname"
    )
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute(query).fetchall() == [
            ("cache", "u"),
            ("lock", "u"),
            ("queue", "p"),
            ("rate_limit", "u"),
            ("sessions", "u"),
        ]
    migrate.downgrade(db_url, "0001")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute(query).fetchall() == [("queue", "p")]
        columns = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'queue'::regclass AND attnum > 0"
            " AND NOT attisdropped AND attname = 'claim_token'"
        ).fetchall()
        assert columns == [("claim_token",)]
    migrate.upgrade(db_url, "head")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert len(conn.execute(query).fetchall()) == 5
