"""Read-only, stage- and access-aware item reads (DESIGN §2.4).

This is the small service the plugin host functions ``item-load``/``item-query`` use. Every
read goes through :func:`visible_stage` and the published-status rule here, so when the content
service grows real stage overlays only this module changes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg import sql

from trovato.db.pool import Database

LIVE_STAGE = "live"
VIEW_UNPUBLISHED = "view unpublished content"
MAX_LIMIT = 100
_COLUMNS = ("id", "type", "title", "author_id", "status", "promote", "sticky", "created",
            "changed", "fields", "stage_id")
# Sorting is by name from plugin input, so only these columns may be named.
_SORTABLE = frozenset({"created", "changed", "title", "status", "sticky", "promote", "type",
                       "id"})


class QueryError(ValueError):
    """An item query names something that cannot be queried."""


def visible_stage(requested: str | None = None) -> str:
    """The stage whose content a read sees.

    Only ``live`` exists until the stages service lands; ``requested`` is accepted now so
    callers already pass the request's stage and need no change later.
    """
    return LIVE_STAGE


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _COLUMNS:
        value = row.get(key)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    return out


def _select() -> sql.Composed:
    return sql.SQL("SELECT {} FROM item").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS)
    )


async def load_item(
    db: Database, item_id: str, *, can_view_unpublished: bool, stage: str | None = None
) -> dict[str, Any] | None:
    """One item as JSON-ready data, or None when missing, unpublished and not viewable, or
    not in the visible stage. A malformed id is simply not found."""
    try:
        key = uuid.UUID(str(item_id))
    except ValueError:
        return None
    query = sql.SQL("{} WHERE id = %s AND stage_id = %s").format(_select())
    row = await db.fetchrow(query.as_string(), (key, visible_stage(stage)))
    if row is None or (row["status"] != 1 and not can_view_unpublished):
        return None
    return _as_json(row)


async def query_items(
    db: Database,
    *,
    can_view_unpublished: bool,
    type: str | None = None,
    status: int | None = None,
    sort: str | None = "-created",
    limit: int = 10,
    stage: str | None = None,
) -> list[dict[str, Any]]:
    """Items matching the filters, in one statement, capped at :data:`MAX_LIMIT`."""
    conditions = [sql.SQL("stage_id = %s")]
    params: list[Any] = [visible_stage(stage)]
    if type is not None:
        conditions.append(sql.SQL("type = %s"))
        params.append(str(type))
    if status is not None:
        conditions.append(sql.SQL("status = %s"))
        params.append(int(status))
    if not can_view_unpublished:
        conditions.append(sql.SQL("status = 1"))
    spec = sort or "-created"
    column = spec.lstrip("-")
    if column not in _SORTABLE:
        raise QueryError(f"cannot sort by {column!r}; sortable: {', '.join(sorted(_SORTABLE))}")
    direction = sql.SQL("DESC") if spec.startswith("-") else sql.SQL("ASC")
    try:
        count = int(limit)
    except (TypeError, ValueError):
        raise QueryError(f"limit must be an integer, not {limit!r}") from None
    count = max(0, min(count, MAX_LIMIT))
    query = sql.SQL("{} WHERE {} ORDER BY {} {}, id LIMIT %s").format(
        _select(), sql.SQL(" AND ").join(conditions), sql.Identifier(column), direction
    )
    rows = await db.fetch(query.as_string(), (*params, count))
    return [_as_json(row) for row in rows]
