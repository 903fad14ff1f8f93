"""Migration 0005: plugin tables move from ``p_<plugin>_<table>`` to ``p_<plugin>__<table>``
with their rows, and back on downgrade."""

from __future__ import annotations

import json

import psycopg
import pytest

from trovato.db import migrate


def _install(conn: psycopg.Connection[tuple[object, ...]], plugin: str, *tables: str) -> None:
    """A system row as PluginManager.install writes it (the declaration under info.info)."""
    info = {"name": plugin, "info": {"plugin": {"name": plugin},
                                     "tables": {t: {"columns": {"id": "text"}} for t in tables}}}
    conn.execute("INSERT INTO system (name, type, status, info) VALUES (%s, 'plugin', 1, %s)",
                 (plugin, json.dumps(info)))


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'p\\_%' "
                        "AND relkind IN ('r', 'i') ORDER BY relname").fetchall()
    return [str(row[0]) for row in rows]


def test_tables_are_renamed_with_their_rows_and_back(db_url: str) -> None:
    migrate.downgrade(db_url, "0004")
    with psycopg.connect(db_url, autocommit=True) as conn:
        _install(conn, "hello", "visit")
        _install(conn, "ledger", "entry", "never_created")
        conn.execute("CREATE TABLE p_hello_visit (id text PRIMARY KEY, n integer)")
        conn.execute("INSERT INTO p_hello_visit VALUES ('a', 1), ('b', 2)")
        conn.execute("CREATE TABLE p_ledger_entry (id text)")
        conn.execute("CREATE TABLE p_stray_table (id text)")  # no plugin records it
    migrate.upgrade(db_url, "0005")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _tables(conn) == ["p_hello__visit", "p_hello__visit_pkey", "p_ledger__entry",
                                 "p_stray_table"]
        assert conn.execute("SELECT id, n FROM p_hello__visit ORDER BY id").fetchall() == [
            ("a", 1), ("b", 2)]
    migrate.downgrade(db_url, "0004")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _tables(conn) == ["p_hello_visit", "p_hello_visit_pkey", "p_ledger_entry",
                                 "p_stray_table"]
        assert conn.execute("SELECT count(*) FROM p_hello_visit").fetchone() == (2,)
    migrate.upgrade(db_url, "head")


def test_a_table_two_plugins_shared_is_copied_to_each(db_url: str) -> None:
    migrate.downgrade(db_url, "0004")
    with psycopg.connect(db_url, autocommit=True) as conn:
        _install(conn, "acme", "shop_orders")
        _install(conn, "acme_shop", "orders")
        conn.execute("CREATE TABLE p_acme_shop_orders (id text PRIMARY KEY)")
        conn.execute("INSERT INTO p_acme_shop_orders VALUES ('from acme'), ('from acme_shop')")
    migrate.upgrade(db_url, "0005")
    with psycopg.connect(db_url, autocommit=True) as conn:
        for table in ("p_acme__shop_orders", "p_acme_shop__orders"):
            assert conn.execute(f"SELECT id FROM {table} ORDER BY id").fetchall() == [
                ("from acme",), ("from acme_shop",)]
        assert conn.execute("SELECT to_regclass('p_acme_shop_orders')").fetchone() == (None,)
    # Going back would merge them again: refused, and nothing changes.
    with pytest.raises(RuntimeError, match="p_acme_shop_orders would be shared"):
        migrate.downgrade(db_url, "0004")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)
        assert conn.execute("SELECT count(*) FROM p_acme__shop_orders").fetchone() == (2,)
    migrate.upgrade(db_url, "head")


def test_a_name_that_would_pass_63_characters_stops_the_migration(db_url: str) -> None:
    migrate.downgrade(db_url, "0004")
    plugin, table = "p" * 40, "t" * 20  # p_<40>_<20> is 63 characters, p_<40>__<20> 64
    with psycopg.connect(db_url, autocommit=True) as conn:
        _install(conn, plugin, table)
        conn.execute(f"CREATE TABLE p_{plugin}_{table} (id text)")
    with pytest.raises(RuntimeError, match="would exceed PostgreSQL's 63 characters"):
        migrate.upgrade(db_url, "0005")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0004",)
