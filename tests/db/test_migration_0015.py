"""Migration 0015: only a stage's edits keep a revision search vector (the upgrade clears the
others'), an item's vector is computed again only when its text changes; the downgrade puts
0014's triggers back and fills every revision's vector again."""

from __future__ import annotations

import psycopg

from trovato.db import migrate

LANGUAGE = ("SELECT l.lanname FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang"
            " WHERE p.proname = 'trovato_search_vector'")


def test_the_upgrade_clears_live_revisions_vectors_and_the_downgrade_refills(
    db_url: str,
) -> None:
    migrate.downgrade(db_url, "0014")
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = conn.execute(
            "INSERT INTO users (name, name_key) VALUES ('a', 'a') RETURNING id").fetchone()
        assert author is not None
        conn.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
        conn.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
        item = conn.execute(
            "INSERT INTO item (type, title, author_id) VALUES ('page', 'Old news', %s)"
            " RETURNING id", (author[0],)).fetchone()
        assert item is not None
        for stage, title in (("live", "Live news"), ("draft", "Staged news")):
            conn.execute("INSERT INTO item_revision (item_id, author_id, title, stage_id)"
                         " VALUES (%s, %s, %s, %s)", (item[0], author[0], title, stage))
    migrate.upgrade(db_url, "0015")
    with psycopg.connect(db_url, autocommit=True) as conn:
        vectors = dict(conn.execute("SELECT stage_id, search_vector::text FROM item_revision"
                                    ).fetchall())
        assert vectors == {"live": None, "draft": "'news':2A 'staged':1A"}
        # PL/pgSQL, whose plan a connection keeps, computing what 0014's SQL function did.
        assert conn.execute(LANGUAGE).fetchone() == ("plpgsql",)
        # New revisions follow the same rule.
        conn.execute("INSERT INTO item_revision (item_id, author_id, title, stage_id)"
                     " SELECT id, author_id, 'Newer', stage_id FROM item")
        conn.execute("INSERT INTO item_revision (item_id, author_id, title, stage_id)"
                     " SELECT id, author_id, 'Newest draft', 'draft' FROM item")
        assert conn.execute("SELECT title, search_vector::text FROM item_revision"
                            " WHERE title LIKE 'New%' ORDER BY title").fetchall() == [
            ("Newer", None), ("Newest draft", "'draft':2A 'newest':1A")]
        # The item's vector: kept when its text is as it was, computed when it changed.
        conn.execute("UPDATE item SET search_vector = 'kept'::tsvector")
        conn.execute("UPDATE item SET status = 0, title = 'Old news', fields = fields")
        assert conn.execute("SELECT search_vector::text FROM item").fetchone() == ("'kept'",)
        conn.execute("UPDATE item SET title = 'New news'")
        assert conn.execute("SELECT search_vector::text FROM item").fetchone() == (
            "'new':1A 'news':2A",)
    migrate.downgrade(db_url, "0014")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM item_revision WHERE search_vector IS NULL"
                            ).fetchone() == (0,)
        assert conn.execute(LANGUAGE).fetchone() == ("sql",)
        conn.execute("UPDATE item SET search_vector = 'kept'::tsvector")
        conn.execute("UPDATE item SET status = 1, title = 'New news'")
        assert conn.execute("SELECT search_vector::text FROM item").fetchone() == (
            "'new':1A 'news':2A",)
    migrate.upgrade(db_url, "head")
