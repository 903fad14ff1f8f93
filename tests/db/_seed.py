"""Rows the migration tests (and the search command's test) seed with plain SQL, valid at every
schema they run against: an author, the ``page`` type and its fields' storage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import psycopg

FIELDS = (("field_body", "text_long"), ("field_n", "integer"))


def seed_page_type(conn: psycopg.Connection[tuple[object, ...]], *,
                   fields: Sequence[tuple[str, str]] = FIELDS,
                   stage: str | None = None) -> uuid.UUID:
    """The author ``a``, the ``page`` type, ``fields`` (name, type) and, if given, the stage
    ``stage``; returns the author's id."""
    author = conn.execute(
        "INSERT INTO users (name, name_key) VALUES ('a', 'a') RETURNING id").fetchone()
    assert author is not None
    conn.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
    if stage is not None:
        conn.execute("INSERT INTO stage (id, label) VALUES (%s, %s)", (stage, stage.title()))
    for name, field_type in fields:
        conn.execute("INSERT INTO field_config (field_name, field_type) VALUES (%s, %s)",
                     (name, field_type))
    author_id = author[0]
    assert isinstance(author_id, uuid.UUID)
    return author_id
