"""The audit log (``watchdog`` table): content, authentication and permission changes.

Entries are written on the caller's connection so they commit or roll back with the change
they describe. A ``trovato`` command acts with no account (the nil id) and no request: while
one runs (:func:`from_system`), its entries' location names it
(:data:`~trovato.observability.log_reader.COMMAND_LINE`, or
:data:`~trovato.observability.log_reader.QUEUE_WORKER` for the queue worker), which the
reports page shows as the system rather than as an anonymous visitor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.observability.log_reader import SYSTEM_LOCATIONS

# Syslog severities (RFC 5424), as Drupal's watchdog uses them.
ERROR = 3
WARNING = 4
NOTICE = 5
INFO = 6


# The entry's columns, in the order of :func:`entry`'s values: a write that logs from the same
# statement as its change (``INSERT INTO watchdog … SELECT``) names them through this.
INSERT: Final = ("INSERT INTO watchdog (user_id, type, message, variables, severity, location,"
                 " hostname)")
_ONE: Final = INSERT + " VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608 (constants)


# The location of entries that name none: "" in the web process (and a request's entries name
# theirs or none), one of SYSTEM_LOCATIONS while a command runs.
_LOCATION: ContextVar[str] = ContextVar("audit_location", default="")


def from_system(location: str) -> Callable[[], None]:
    """Mark the entries written from here on (in this context) as the system process
    ``location``'s (one of :data:`~trovato.observability.log_reader.SYSTEM_LOCATIONS`);
    returns the function that ends it (a command's end)."""
    if location not in SYSTEM_LOCATIONS:
        raise ValueError(f"not a system location: {location!r}")
    token = _LOCATION.set(location)
    return lambda: _LOCATION.reset(token)


def entry(
    type_: str,
    message: str,
    variables: dict[str, Any] | None = None,
    *,
    user_id: uuid.UUID | None = None,
    severity: int = NOTICE,
    location: str = "",
    hostname: str = "",
) -> tuple[Any, ...]:
    """The column values of one event, in :data:`INSERT`'s order."""
    location = location or _LOCATION.get()
    return (user_id, type_, message, Jsonb(variables or {}), severity, location[:2048],
            hostname[:255])


async def audit(
    conn: AsyncConnection[DictRow],
    type_: str,
    message: str,
    variables: dict[str, Any] | None = None,
    *,
    user_id: uuid.UUID | None = None,
    severity: int = NOTICE,
    location: str = "",
    hostname: str = "",
) -> None:
    """Record one event. ``message`` is a %-style template filled from ``variables`` on display,
    so the stored text stays translatable and untrusted values are escaped when shown."""
    await conn.execute(_ONE,
                       entry(type_, message, variables, user_id=user_id, severity=severity,
                             location=location, hostname=hostname))
