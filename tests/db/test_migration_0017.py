"""Migration 0017: an item type's ``fields_version`` moves on with every change to its field
instances (added, changed, removed) and the site's ``field_storage_version`` with every change
to a field's storage, neither when a field is written again as it was; the downgrade removes
both."""

from __future__ import annotations

import psycopg

from trovato.db import migrate


def _versions(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    rows = conn.execute("SELECT type, fields_version FROM item_type UNION ALL"
                        " SELECT 'storage', version FROM field_storage_version").fetchall()
    return {str(name): int(str(version)) for name, version in rows}


def test_every_change_to_a_types_fields_counts(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name in ("m17_a", "m17_b"):
            conn.execute("INSERT INTO item_type (type, label) VALUES (%s, %s)", (name, name))
        conn.execute("INSERT INTO field_config (field_name, field_type, cardinality)"
                     " VALUES ('m17_f', 'integer', 2)")
        start = {k: v for k, v in _versions(conn).items() if k.startswith("m17")}
        assert start == {"m17_a": 1, "m17_b": 1}
        start["storage"] = _versions(conn)["storage"]

        def moved() -> dict[str, int]:
            now = _versions(conn)
            return {k: now[k] - start[k] for k in start}

        conn.execute("INSERT INTO field_instance (field_name, bundle, label)"
                     " VALUES ('m17_f', 'm17_a', 'F'), ('m17_f', 'm17_b', 'F')")
        assert moved() == {"m17_a": 1, "m17_b": 1, "storage": 0}
        conn.execute("UPDATE field_instance SET settings = '{\"max\": 3}'"
                     " WHERE field_name = 'm17_f' AND bundle = 'm17_a'")
        assert moved() == {"m17_a": 2, "m17_b": 1, "storage": 0}
        # Written again as it was (a type saved unchanged): no change.
        conn.execute("UPDATE field_instance SET label = label WHERE field_name = 'm17_f'")
        conn.execute("UPDATE field_config SET cardinality = 2 WHERE field_name = 'm17_f'")
        assert moved() == {"m17_a": 2, "m17_b": 1, "storage": 0}
        # Shared storage: the site's count (every type's edits are checked against it).
        conn.execute("UPDATE field_config SET cardinality = 5 WHERE field_name = 'm17_f'")
        assert moved() == {"m17_a": 2, "m17_b": 1, "storage": 1}
        conn.execute("DELETE FROM field_instance WHERE bundle = 'm17_b'")
        assert moved() == {"m17_a": 2, "m17_b": 2, "storage": 1}


def test_the_downgrade_removes_the_count(db_url: str) -> None:
    migrate.downgrade(db_url, "0016")
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'item_type' AND column_name = 'fields_version'").fetchall()
            triggers = conn.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE '%%fields_version'").fetchall()
            tables = conn.execute("SELECT to_regclass('field_storage_version')").fetchone()
        assert columns == [] and triggers == [] and tables == (None,)
    finally:
        migrate.upgrade(db_url, "head")
