"""Plugin-owned tables: declared as data in ``plugin.toml``, reached only through structured ops.

A declaration::

    [tables.visit]
    columns = { id = "uuid", path = "text", count = "integer" }
    primary_key = ["id"]

becomes the table ``p_<plugin>__visit`` on install (the naming is collision-free between
plugins, see :mod:`~trovato.plugins.namespaces`) and is dropped on uninstall. Plugins never
send SQL: the ``db`` host function takes ``{"op", "table", "where", "values", "order",
"limit", "columns"}`` and this module builds the statement with ``psycopg.sql`` — identifiers
come only from the declaration (so another plugin's table, or a kernel table, cannot even be
named), values are always bound parameters with an explicit cast to the declared type.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg import Error as PsycopgError
from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.plugins.namespaces import COLUMN_NAME, table_name, table_name_problem

# Declared type -> PostgreSQL type. Deliberately small: enough for plugin state, nothing that
# needs extensions or custom casts.
COLUMN_TYPES: dict[str, str] = {
    "uuid": "uuid",
    "text": "text",
    "integer": "integer",
    "bigint": "bigint",
    "boolean": "boolean",
    "timestamptz": "timestamptz",
    "jsonb": "jsonb",
    "double": "double precision",
}
MAX_ROWS = 1000
OPS = ("select", "insert", "update", "delete")


class TableError(ValueError):
    """A declaration or a db request is invalid; the message is shown to the plugin/author."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    plugin: str
    name: str
    columns: dict[str, str]
    primary_key: tuple[str, ...]

    @property
    def physical(self) -> str:
        return table_name(self.plugin, self.name)

    def create_sql(self) -> sql.Composed:
        parts = [
            sql.SQL("{} {}").format(sql.Identifier(col), sql.SQL(COLUMN_TYPES[kind]))
            for col, kind in self.columns.items()
        ]
        if self.primary_key:
            parts.append(sql.SQL("PRIMARY KEY ({})").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in self.primary_key)))
        return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
            sql.Identifier(self.physical), sql.SQL(", ").join(parts))

    def drop_sql(self) -> sql.Composed:
        return sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(self.physical))


def parse_tables(plugin: str, raw: Any) -> dict[str, TableSpec]:
    """Validate the ``[tables]`` section; errors name the offending key (``tables.x.columns``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TableError("tables: must be a table of [tables.<name>] sections")
    specs: dict[str, TableSpec] = {}
    for name, decl in raw.items():
        where = f"tables.{name}"
        problem = table_name_problem(plugin, name)
        if problem is not None:
            raise TableError(f"{where}: {problem}")
        if not isinstance(decl, dict):
            raise TableError(f"{where}: must be a table with columns and primary_key")
        unknown = sorted(set(decl) - {"columns", "primary_key"})
        if unknown:
            raise TableError(f"{where}: unknown key(s) {', '.join(unknown)}")
        columns = decl.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise TableError(f"{where}.columns: declare at least one column")
        for col, kind in columns.items():
            if not isinstance(col, str) or not COLUMN_NAME.fullmatch(col):
                raise TableError(f"{where}.columns: column names match [a-z][a-z0-9_]*: {col!r}")
            if kind not in COLUMN_TYPES:
                raise TableError(
                    f"{where}.columns.{col}: unknown type {kind!r}; "
                    f"allowed: {', '.join(COLUMN_TYPES)}")
        primary_key = decl.get("primary_key", [])
        if not isinstance(primary_key, list) or not all(isinstance(c, str) for c in primary_key):
            raise TableError(f"{where}.primary_key: must be a list of column names")
        missing = [c for c in primary_key if c not in columns]
        if missing:
            raise TableError(f"{where}.primary_key: not a declared column: {', '.join(missing)}")
        specs[name] = TableSpec(plugin, name, dict(columns), tuple(primary_key))
    return specs


async def create_tables(conn: AsyncConnection[Any], specs: dict[str, TableSpec]) -> None:
    for spec in specs.values():
        await conn.execute(spec.create_sql())


async def drop_tables(conn: AsyncConnection[Any], specs: dict[str, TableSpec]) -> None:
    for spec in specs.values():
        await conn.execute(spec.drop_sql())


def _out(value: Any) -> Any:
    """A column value as JSON-ready data."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class PluginTables:
    """Runs structured db requests against the tables each plugin declared."""

    def __init__(self, db: Database, specs: dict[str, dict[str, TableSpec]]) -> None:
        self.db = db
        self.specs = specs  # plugin -> table name -> spec

    def _spec(self, plugin: str, table: Any) -> TableSpec:
        spec = self.specs.get(plugin, {}).get(table) if isinstance(table, str) else None
        if spec is None:
            declared = ", ".join(sorted(self.specs.get(plugin, {}))) or "none"
            raise TableError(f"unknown table {table!r} (this plugin's tables: {declared})")
        return spec

    @staticmethod
    def _column(spec: TableSpec, column: Any) -> str:
        if not isinstance(column, str) or column not in spec.columns:
            raise TableError(f"unknown column {column!r} of table {spec.name!r}")
        return column

    def _where(self, spec: TableSpec, where: Any, params: list[Any]) -> sql.Composable:
        if where is None:
            where = {}
        if not isinstance(where, dict):
            raise TableError("where must be an object of column -> value")
        clauses: list[sql.Composable] = []
        for column, value in where.items():
            ident = sql.Identifier(self._column(spec, column))
            if value is None:
                clauses.append(sql.SQL("{} IS NULL").format(ident))
            else:
                clauses.append(sql.SQL("{} = {}").format(ident, self._param(spec, column, value,
                                                                            params)))
        return sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")

    @staticmethod
    def _param(spec: TableSpec, column: str, value: Any, params: list[Any]) -> sql.Composable:
        kind = COLUMN_TYPES[spec.columns[column]]
        if kind == "jsonb":
            params.append(Jsonb(value))
        else:
            if isinstance(value, (dict, list)):
                raise TableError(f"column {column!r} is {kind}, not a JSON value")
            params.append(value)
        return sql.SQL("%s::{}").format(sql.SQL(kind))

    async def execute(self, plugin: str, request: Any) -> Any:
        """Run one request; rows for select, the affected row count otherwise."""
        if not isinstance(request, dict):
            raise TableError("a db request is a JSON object")
        op = request.get("op")
        if op not in OPS:
            raise TableError(f"unknown op {op!r}; use one of {', '.join(OPS)}")
        spec = self._spec(plugin, request.get("table"))
        table = sql.Identifier(spec.physical)
        params: list[Any] = []
        if op == "select":
            return await self._select(spec, table, request, params)
        if op == "insert":
            values = request.get("values")
            if not isinstance(values, dict) or not values:
                raise TableError("insert needs values: an object of column -> value")
            columns = [self._column(spec, c) for c in values]
            placeholders = [self._param(spec, c, values[c], params) for c in columns]
            query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                table, sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(placeholders))
            return await self._run(query, params)
        where_raw = request.get("where")
        # A missing where clause on update/delete is almost always a bug; refuse it.
        if not where_raw:
            raise TableError(f"{op} needs a where clause")
        if op == "update":
            values = request.get("values")
            if not isinstance(values, dict) or not values:
                raise TableError("update needs values: an object of column -> value")
            sets = [
                sql.SQL("{} = {}").format(sql.Identifier(self._column(spec, c)),
                                          self._param(spec, c, v, params))
                for c, v in values.items()
            ]
            where = self._where(spec, where_raw, params)
            query = sql.SQL("UPDATE {} SET {} WHERE {}").format(
                table, sql.SQL(", ").join(sets), where)
            return await self._run(query, params)
        where = self._where(spec, where_raw, params)
        return await self._run(sql.SQL("DELETE FROM {} WHERE {}").format(table, where), params)

    async def _select(self, spec: TableSpec, table: sql.Identifier, request: dict[str, Any],
                      params: list[Any]) -> list[dict[str, Any]]:
        columns = request.get("columns") or list(spec.columns)
        if not isinstance(columns, list):
            raise TableError("columns must be a list of column names")
        fields = sql.SQL(", ").join(sql.Identifier(self._column(spec, c)) for c in columns)
        where = self._where(spec, request.get("where"), params)
        order_parts: list[sql.Composable] = []
        order = request.get("order") or []
        if not isinstance(order, list):
            raise TableError('order must be a list like ["col", "-col"]')
        for item in order:
            if not isinstance(item, str):
                raise TableError('order must be a list like ["col", "-col"]')
            column = self._column(spec, item.lstrip("-"))
            direction = sql.SQL("DESC") if item.startswith("-") else sql.SQL("ASC")
            order_parts.append(sql.SQL("{} {}").format(sql.Identifier(column), direction))
        limit = request.get("limit")
        try:
            count = MAX_ROWS if limit is None else max(0, min(int(limit), MAX_ROWS))
        except (TypeError, ValueError):
            raise TableError(f"limit must be an integer, not {limit!r}") from None
        query = sql.SQL("SELECT {} FROM {} WHERE {}{} LIMIT {}").format(
            fields, table, where,
            sql.SQL(" ORDER BY ") + sql.SQL(", ").join(order_parts) if order_parts
            else sql.SQL(""),
            sql.Literal(count))
        async with self.db.connection() as conn:
            try:
                cur = await conn.execute(query, params)
                rows = await cur.fetchall()
            except PsycopgError as exc:
                raise TableError(f"database refused the request: {exc}".strip()) from None
        return [{k: _out(v) for k, v in row.items()} for row in rows]

    async def _run(self, query: sql.Composed, params: list[Any]) -> int:
        async with self.db.connection() as conn:
            try:
                cur = await conn.execute(query, params)
            except PsycopgError as exc:
                # Constraint and cast errors are the plugin's problem: report, don't crash.
                raise TableError(f"database refused the request: {exc}".strip()) from None
            return cur.rowcount
