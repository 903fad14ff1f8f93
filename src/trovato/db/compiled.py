"""SQL text from SQLAlchemy Core statements (DESIGN §3: composed queries are built with
SQLAlchemy Core, compiled once per shape, and run as text through psycopg).

Compiled for psycopg's named placeholders (``%(name)s``), so a statement runs with a dict of
parameters through :class:`trovato.db.pool.Database`. Callers memoise the text per shape.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import ClauseElement

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def sql_text(statement: ClauseElement) -> str:
    """The SQL text of ``statement`` for psycopg."""
    return str(statement.compile(dialect=_DIALECT))


__all__ = ["sql_text"]
