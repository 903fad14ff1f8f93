"""Migration 0018: the search language (English after the upgrade, every vector computed again
with it), the fields' words kept in ``item.search_fields`` and computed again only when the
searched text changes; the downgrade goes back to ``simple`` and 0015's trigger."""

from __future__ import annotations

import psycopg
import pytest

from tests.db._seed import seed_page_type
from trovato.db import migrate

BODY = '{"field_body": {"value": "Running plugins", "format": "plain"}, "field_n": {"value": 1}}'


def _vector(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    row = conn.execute("SELECT search_vector::text FROM item").fetchone()
    assert row is not None
    return None if row[0] is None else str(row[0])


def test_the_upgrade_stems_and_the_downgrade_reads_words_as_written(db_url: str) -> None:
    migrate.downgrade(db_url, "0017")
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = seed_page_type(conn, stage="draft")
        item = conn.execute("INSERT INTO item (type, title, author_id, fields)"
                            " VALUES ('page', 'The Plugins', %s, %s) RETURNING id",
                            (author, BODY)).fetchone()
        assert item is not None
        conn.execute("INSERT INTO item_revision (item_id, author_id, title, stage_id)"
                     " VALUES (%s, %s, 'Staged plugins', 'draft')", (item[0], author))
        assert _vector(conn) == "'plugins':2A,4 'running':3 'the':1A"
        conn.execute("CREATE INDEX gather_search_idx ON item USING gin (("
                     "to_tsvector('simple'::regconfig, title)))")
    migrate.upgrade(db_url, "0018")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT trovato_search_config()::text").fetchone() == ("english",)
        # Positions as before ("the" is a stop word, and still counts its place).
        assert _vector(conn) == "'plugin':2A,4 'run':3"
        assert conn.execute("SELECT search_fields::text FROM item").fetchone() == (
            "'plugin':2 'run':1",)
        assert conn.execute("SELECT search_vector::text FROM item_revision").fetchone() == (
            "'plugin':2A 'stage':1A",)
        assert conn.execute("SELECT to_regclass('gather_search_idx')").fetchone() == (None,)
        # Only a configuration can be the language.
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("UPDATE search_setting SET language = 'klingon'")
    migrate.downgrade(db_url, "0017")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _vector(conn) == "'plugins':2A,4 'running':3 'the':1A"
        assert conn.execute("SELECT search_vector::text FROM item_revision").fetchone() == (
            "'plugins':2A 'staged':1A",)
        assert conn.execute("SELECT to_regclass('search_setting'),"
                            " to_regprocedure('trovato_search_config()')").fetchone() == (
            None, None)
        conn.execute("UPDATE item SET title = 'New plugins'")
        assert _vector(conn) == "'new':1A 'plugins':2A,4 'running':3"
    migrate.upgrade(db_url, "head")


def test_the_fields_words_are_computed_only_when_their_text_changes(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = seed_page_type(conn)
        conn.execute("INSERT INTO item (type, title, author_id, fields)"
                     " VALUES ('page', 'Plugins', %s, %s)", (author, BODY))
        # A marker the trigger would overwrite if it computed the fields' words again.
        conn.execute("UPDATE item SET search_fields = 'kept:1'::tsvector")
        conn.execute("UPDATE item SET title = 'Walruses'")
        assert _vector(conn) == "'kept':2 'walrus':1A"
        conn.execute("UPDATE item SET fields = jsonb_set(fields, '{field_n,value}', '2')")
        assert _vector(conn) == "'kept':2 'walrus':1A"
        conn.execute("UPDATE item SET fields = jsonb_set(fields, '{field_body,value}',"
                     " '\"Dancing bears\"')")
        assert _vector(conn) == "'bear':3 'danc':2 'walrus':1A"
        # A reindex (the column cleared) computes it again.
        conn.execute("UPDATE item SET search_fields = 'kept:1'::tsvector")
        conn.execute("UPDATE item SET search_fields = NULL")
        assert _vector(conn) == "'bear':3 'danc':2 'walrus':1A"
