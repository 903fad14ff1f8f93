"""The start-up schema check: the fast path (no Alembic import) agrees with Alembic."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from trovato.db import migrate
from trovato.db.urls import with_database


@pytest.fixture
def empty_db(pg_server_url: str) -> Iterator[str]:
    name = f"trovato_migrate_{os.getpid()}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(pg_server_url, name)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_is_current_agrees_with_alembic(empty_db: str) -> None:
    assert migrate._head_from_files() == migrate.status(empty_db).head
    assert not migrate.is_current(empty_db)  # no alembic_version table at all
    migrate.upgrade(empty_db, "0001")
    assert not migrate.is_current(empty_db) and not migrate.status(empty_db).up_to_date
    migrate.upgrade(empty_db)
    assert migrate.is_current(empty_db) and migrate.status(empty_db).up_to_date
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'someone-elses'")
    assert not migrate.is_current(empty_db)
