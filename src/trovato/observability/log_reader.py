"""Reading the audit log (``watchdog``) back: the newest entries, filtered and paged, one entry
in full, and an entry's message with its variables filled in.

The admin's reports pages (``/admin/reports``) show what :mod:`~trovato.observability.audit`
wrote. Filters are bound parameters of fixed statements, never SQL text; a message is filled
in as plain text (each ``%(name)s`` replaced by its value with a pattern that cannot
backtrack), and the page escapes the result, since the values are what users typed.

The base layer imports no database code, so the reader takes anything with the pool's
``fetch``/``fetchrow``/``fetchval`` (:class:`Rows`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# RFC 5424 severities by number, as :mod:`~trovato.observability.audit` stores them.
SEVERITIES: Mapping[int, str] = {
    0: "emergency", 1: "alert", 2: "critical", 3: "error",
    4: "warning", 5: "notice", 6: "info", 7: "debug",
}
# The locations of entries the system wrote (:func:`trovato.observability.audit.from_system`):
# no request, and no account but the nil id the process acts with. A one-off ``trovato``
# command writes COMMAND_LINE; the long-running ``trovato worker``, QUEUE_WORKER.
COMMAND_LINE = "command line"
QUEUE_WORKER = "queue worker"
SYSTEM_LOCATIONS = frozenset({COMMAND_LINE, QUEUE_WORKER})
PER_PAGE = 50
# Deeper pages than this are refused: OFFSET reads every skipped row, and nobody pages a
# million entries by hand (filter instead).
MAX_PAGE = 1000
_PLACEHOLDER = re.compile(r"%\(([A-Za-z0-9_]{1,64})\)[sd]")


class Rows(Protocol):
    """What the reader needs of the database pool."""

    async def fetch(self, sql: str, params: Sequence[Any] | None = None
                    ) -> Sequence[Mapping[str, Any]]: ...

    async def fetchrow(self, sql: str, params: Sequence[Any] | None = None
                       ) -> Mapping[str, Any] | None: ...

    async def fetchval(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: uuid.UUID
    type: str
    severity: int
    message: str  # filled in: plain text, to be escaped where it is shown
    user_id: uuid.UUID | None
    user_name: str | None  # None: no such account (any more); "" is the anonymous user
    created: datetime
    # The system process that wrote it (one of SYSTEM_LOCATIONS, its location), or "".
    system: str = ""
    location: str = ""
    hostname: str = ""
    variables: Mapping[str, Any] | None = None

    @property
    def severity_name(self) -> str:
        return SEVERITIES.get(self.severity, str(self.severity))


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry]
    total: int  # entries matching the filters
    page: int  # 0-based
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def fill_message(message: str, variables: Mapping[str, Any] | None) -> str:
    """``message`` with each ``%(name)s`` replaced by its variable (left as written when the
    entry has no such variable): plain text, never HTML."""
    values = variables or {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(value, message)


def _entry(row: Mapping[str, Any], *, full: bool = False) -> LogEntry:
    variables = row["variables"] if isinstance(row["variables"], Mapping) else {}
    return LogEntry(
        id=row["id"], type=row["type"], severity=row["severity"],
        message=fill_message(row["message"], variables), user_id=row["user_id"],
        user_name=row["user_name"], created=row["created"],
        system=row["location"] if row["location"] in SYSTEM_LOCATIONS else "",
        location=row["location"] if full else "", hostname=row["hostname"] if full else "",
        variables=variables if full else None)


# Fixed statements whatever the filters: a filter left out is a NULL parameter.
_COUNT = ("SELECT count(*) FROM watchdog w"
          " WHERE (%s::text IS NULL OR w.type = %s) AND (%s::int IS NULL OR w.severity = %s)")
_PAGE = ("SELECT w.id, w.type, w.severity, w.message, w.variables, w.user_id,"
         " w.location, w.hostname, w.created, u.name AS user_name"
         " FROM watchdog w LEFT JOIN users u ON u.id = w.user_id"
         " WHERE (%s::text IS NULL OR w.type = %s) AND (%s::int IS NULL OR w.severity = %s)"
         " ORDER BY w.created DESC, w.id DESC LIMIT %s OFFSET %s")
_ONE = ("SELECT w.id, w.type, w.severity, w.message, w.variables, w.user_id,"
        " w.location, w.hostname, w.created, u.name AS user_name"
        " FROM watchdog w LEFT JOIN users u ON u.id = w.user_id WHERE w.id = %s")


async def read_log(db: Rows, *, type_: str | None = None, severity: int | None = None,
                   page: int = 0, per_page: int = PER_PAGE) -> LogPage:
    """The newest entries first, of ``type_`` and ``severity`` when given, page ``page``."""
    if not 0 <= page <= MAX_PAGE:
        raise ValueError(f"page must be from 0 to {MAX_PAGE}")
    filters = (type_, type_, severity, severity)
    total = await db.fetchval(_COUNT, filters)
    rows = await db.fetch(_PAGE, (*filters, per_page, page * per_page))
    return LogPage([_entry(row) for row in rows], int(total or 0), page, per_page)


async def log_entry(db: Rows, entry_id: uuid.UUID) -> LogEntry | None:
    """One entry with every detail, or None."""
    row = await db.fetchrow(_ONE, (entry_id,))
    return _entry(row, full=True) if row is not None else None


async def log_types(db: Rows) -> list[str]:
    """The types the log holds, for the filter's choices."""
    # A loose index scan on (type, created): one index probe per type, not a scan of the log.
    rows = await db.fetch(
        "WITH RECURSIVE t(type) AS (SELECT min(type) FROM watchdog UNION ALL"
        " SELECT (SELECT min(type) FROM watchdog WHERE type > t.type) FROM t"
        " WHERE t.type IS NOT NULL) SELECT type FROM t WHERE type IS NOT NULL")
    return [str(row["type"]) for row in rows]
