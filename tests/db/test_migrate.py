"""The start-up schema check: the fast path (no Alembic import) agrees with Alembic."""

from __future__ import annotations

import psycopg

from trovato.db import migrate


def test_is_current_agrees_with_alembic(empty_db_url: str) -> None:
    assert migrate._head_from_files() == migrate.status(empty_db_url).head
    assert not migrate.is_current(empty_db_url)  # no alembic_version table at all
    migrate.upgrade(empty_db_url, "0001")
    assert not migrate.is_current(empty_db_url)
    assert not migrate.status(empty_db_url).up_to_date
    migrate.upgrade(empty_db_url)
    assert migrate.is_current(empty_db_url) and migrate.status(empty_db_url).up_to_date
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'someone-elses'")
    assert not migrate.is_current(empty_db_url)


def test_descriptions_are_one_line_of_plain_text() -> None:
    url = "postgresql://nobody@/unused"  # describing reads the revision files only
    assert migrate.describe(url, "0003") == (
        "Items keep their teaser summary: `item.summary`, written with the item.")
    revisions = sorted(p.name[:4] for p in (migrate._SCRIPTS / "versions").glob("[0-9]*.py"))
    assert revisions
    for revision in revisions:
        text = migrate.describe(url, revision)
        assert text and "``" not in text and "\n" not in text, (revision, text)
