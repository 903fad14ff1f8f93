"""Migration 0014: the upgrade fills every existing item's and revision's search vector, and
the triggers keep them; the downgrade removes the triggers, the functions and the column."""

from __future__ import annotations

import psycopg

from trovato.db import migrate


def test_the_upgrade_back_fills_and_the_downgrade_removes(db_url: str) -> None:
    migrate.downgrade(db_url, "0013")
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = conn.execute(
            "INSERT INTO users (name, name_key) VALUES ('a', 'a') RETURNING id").fetchone()
        assert author is not None
        conn.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
        conn.execute("INSERT INTO field_config (field_name, field_type)"
                     " VALUES ('field_body', 'text_long'), ('field_n', 'integer')")
        item = conn.execute(
            "INSERT INTO item (type, title, author_id, fields) VALUES ('page', 'Old news', %s,"
            " '{\"field_body\": [{\"value\": \"<b>kept</b>\"}], \"field_n\": {\"value\": 42}}')"
            " RETURNING id", (author[0],)).fetchone()
        assert item is not None
        conn.execute("INSERT INTO item_revision (item_id, author_id, title, fields)"
                     " SELECT id, author_id, 'Older news', fields FROM item")
        assert conn.execute("SELECT search_vector FROM item").fetchone() == (None,)
    migrate.upgrade(db_url, "0014")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT search_vector::text FROM item").fetchone() == (
            "'kept':3 'news':2A 'old':1A",)
        assert conn.execute("SELECT search_vector::text FROM item_revision").fetchone() == (
            "'kept':3 'news':2A 'older':1A",)
        conn.execute("UPDATE item SET title = 'New news'")
        assert conn.execute("SELECT search_vector::text FROM item").fetchone() == (
            "'kept':3 'new':1A 'news':2A",)
    migrate.downgrade(db_url, "0013")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT search_vector FROM item").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'trovato_search%'"
                            ).fetchone() == (0,)
    migrate.upgrade(db_url, "head")
