"""Migration 0008: roles that held ``view stages`` hold ``use stages``, and back on downgrade
(where the new stage permissions go)."""

from __future__ import annotations

import psycopg

from trovato.db import migrate
from trovato.users.permissions import AUTHENTICATED_ROLE


def _grants(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute("SELECT permission FROM role_permission WHERE role_id = %s"
                        " AND permission LIKE '%%stages' ORDER BY permission",
                        (AUTHENTICATED_ROLE,)).fetchall()
    return [str(row[0]) for row in rows]


def test_the_stage_permission_grant_is_renamed_and_back(db_url: str) -> None:
    migrate.downgrade(db_url, "0007")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO role_permission (role_id, permission) VALUES (%s,"
                     " 'view stages')", (AUTHENTICATED_ROLE,))
    migrate.upgrade(db_url, "0008")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _grants(conn) == ["use stages"]
        conn.execute("INSERT INTO role_permission (role_id, permission) VALUES (%s,"
                     " 'publish stages')", (AUTHENTICATED_ROLE,))
    migrate.downgrade(db_url, "0007")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _grants(conn) == ["view stages"]
    migrate.upgrade(db_url, "head")
