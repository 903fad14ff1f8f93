"""``trovato content bulk``: the admin's bulk batch from the command line."""

from __future__ import annotations

import psycopg

from tests.cli.test_cli import run


def _statuses(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return {str(title): int(status) for title, status in
                conn.execute("SELECT title, status FROM item ORDER BY title").fetchall()}


def test_bulk_unpublish_publish_and_delete(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url}
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = conn.execute(
            "INSERT INTO users (name, name_key) VALUES ('a', 'a') RETURNING id").fetchone()
        assert author is not None
        conn.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page'),"
                     " ('note', 'Note')")
        for n in range(25):  # more than one chunk
            conn.execute("INSERT INTO item (type, title, author_id) VALUES ('page', %s, %s)",
                         (f"page {n:02}", author[0]))
        note = conn.execute("INSERT INTO item (type, title, author_id) VALUES ('note', 'note',"
                            " %s) RETURNING id", (author[0],)).fetchone()
        assert note is not None
    unpublished = run("content", "bulk", "unpublish", "--type", "page", env=env)
    assert unpublished.returncode == 0, unpublished.stderr
    assert unpublished.stdout.strip() == "Unpublished 25 items."
    statuses = _statuses(db_url)
    assert statuses.pop("note") == 1 and set(statuses.values()) == {0}
    with psycopg.connect(db_url, autocommit=True) as conn:
        revisions = conn.execute("SELECT count(*) FROM item_revision").fetchone()
    assert revisions is not None and revisions[0] == 25  # one revision per changed item
    again = run("content", "bulk", "unpublish", "--type", "page", env=env)
    assert again.returncode == 0 and again.stdout.strip() == "Unpublished 25 items."
    with psycopg.connect(db_url, autocommit=True) as conn:
        revisions = conn.execute("SELECT count(*) FROM item_revision").fetchone()
    assert revisions is not None and revisions[0] == 25  # already unpublished: left alone

    for args, message in (
        (("explode", "--type", "page"), "ACTION must be one of: publish, unpublish, delete"),
        (("publish",), "Say which items"),
        (("publish", "--id", "nope"), "--id: not an item id: nope"),
        (("publish", "--type", "nothing"), "--type: there is no item type 'nothing'"),
        (("delete", "--id", str(note[0])), "add --yes to delete"),
    ):
        refused = run("content", "bulk", *args, env=env)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert _statuses(db_url)["note"] == 1

    deleted = run("content", "bulk", "delete", "--id", str(note[0]), "--yes", env=env)
    assert deleted.returncode == 0 and deleted.stdout.strip() == "Deleted 1 item.", deleted.stderr
    assert "note" not in _statuses(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # The command's entries say they are the command line's (the reports page shows
        # them as the system's, not as an anonymous visitor's).
        places = conn.execute("SELECT DISTINCT location FROM watchdog WHERE type = 'content'"
                              ).fetchall()
    assert places == [("command line",)]
