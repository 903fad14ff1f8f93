"""``trovato search reindex``: every item's vector recomputed with the weights of now."""

from __future__ import annotations

import psycopg

from tests.cli.test_cli import run
from tests.db._seed import seed_page_type


def _vector(conn: psycopg.Connection[tuple[object, ...]], title: str) -> str:
    row = conn.execute("SELECT search_vector::text FROM item WHERE title = %s",
                       (title,)).fetchone()
    assert row is not None
    return str(row[0])


def test_reindex_applies_changed_weights(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url}
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = seed_page_type(conn, fields=[("field_body", "text_long")])
        for n in range(3):
            conn.execute("INSERT INTO item (type, title, author_id, fields)"
                         " VALUES ('page', %s, %s, %s)",
                         (f"page{n}", author,
                          '{"field_body": {"value": "<p>walrus</p>", "format": "x"}}'))
        # Written by the trigger: the title at A, an unconfigured field at D (no weight shown).
        assert _vector(conn, "page0") == "'page0':1A 'walrus':2"
        conn.execute("INSERT INTO search_field_config VALUES ('page', 'field_body', 'B')")
        assert _vector(conn, "page0") == "'page0':1A 'walrus':2"
    result = run("search", "reindex", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Indexed 3 item(s)."
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert {_vector(conn, f"page{n}") for n in range(3)} == {
            f"'page{n}':1A 'walrus':2B" for n in range(3)}


def test_reindex_help() -> None:
    result = run("search", "reindex", "--help")
    assert result.returncode == 0 and "search field weights" in result.stdout
    assert "progress bar" in run("search", "language", "--help").stdout


def test_language_shows_changes_and_refuses(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url}
    shown = run("search", "language", env=env)
    assert shown.returncode == 0 and shown.stdout.strip() == "The search language is english."
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = seed_page_type(conn, fields=())
        conn.execute("INSERT INTO item (type, title, author_id) VALUES ('page', 'Plugins', %s)",
                     (author,))
        assert _vector(conn, "Plugins") == "'plugin':1A"
    changed = run("search", "language", "simple", env=env)
    assert changed.returncode == 0, changed.stderr
    assert "now simple; every item was reindexed" in changed.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _vector(conn, "Plugins") == "'plugins':1A"
    again = run("search", "language", " simple ", env=env)  # as the service reads it
    assert again.stdout.strip() == "The search language already is simple."
    refused = run("search", "language", "klingon", env=env)
    assert refused.returncode == 1 and "not a text search configuration" in refused.stderr
