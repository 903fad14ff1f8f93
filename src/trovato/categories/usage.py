"""Deleting a tag takes it out of the items that refer to it, in the delete's transaction.

A deleted tag must not linger as a bare id in items' reference fields (an item page would show
a number, a listing filtered by it would match nothing, and an edit form would refuse to save
the item until someone removed it). So :func:`remove_references` rewrites every item that
refers to any of the deleted tags, in every stage:

* an **item row** (live, or an item created in a stage) gets the tag out of its fields, a new
  revision saying why (written by the deleting user) and a new ``changed`` time;
* a **staged edit** (``stage_association``) gets a new revision without the tag in its stage,
  and the stage points at it, so publishing the stage later does not bring the tag back.

This is one SQL statement per kind rather than a save per item through the content service:
the categories service sits beside the content service and cannot call it, and a vocabulary
of thousands of tags on thousands of items must delete in one transaction. What a save would
do besides is done here too (revision, audit, the caches of each item and of its type's
listings, dropped by the caller after the commit) except the ``item_update`` tap, which
does not fire for these rewrites, as for other bulk rewrites the kernel makes.

A reference field holds ``{"target_id": …}`` (one value) or a list of them; a list emptied
by the removal is dropped like an empty field, a single value is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow, tuple_row
from psycopg.types.json import Jsonb

# ``{fields}`` without the values whose ``target_id`` is in ``%(tags)s``.
_STRIPPED: Final = sql.SQL("""(
    SELECT coalesce(jsonb_object_agg(kept.key, kept.value), '{{}}'::jsonb)
    FROM (SELECT f.key, f.value AS was, CASE WHEN jsonb_typeof(f.value) = 'array' THEN (
              SELECT coalesce(jsonb_agg(e.value ORDER BY e.n), '[]'::jsonb)
              FROM jsonb_array_elements(f.value) WITH ORDINALITY AS e(value, n)
              WHERE e.value ->> 'target_id' IS NULL
                 OR NOT e.value ->> 'target_id' = ANY(%(tags)s::text[]))
              ELSE f.value END AS value
          FROM jsonb_each({fields}) AS f
          WHERE f.value ->> 'target_id' IS NULL
             OR NOT f.value ->> 'target_id' = ANY(%(tags)s::text[])) AS kept
    WHERE kept.value <> '[]'::jsonb OR kept.was = '[]'::jsonb)""")

# Item rows: the tag out, a new current revision (its id chosen in the UPDATE, so the row is
# written once), the revision inserted from what the UPDATE returned.
_ITEMS_SQL: Final = sql.SQL("""
WITH changed AS (
    UPDATE item SET fields = {stripped}, changed = now(), current_revision_id = trovato_uuid7()
    WHERE {refers}
    RETURNING id, type, current_revision_id, title, status, promote, sticky, fields, summary,
              stage_id
), revised AS (
    INSERT INTO item_revision (id, item_id, author_id, title, status, promote, sticky, fields,
                               summary, log, stage_id)
    SELECT current_revision_id, id, %(author)s, title, status, promote, sticky, fields,
           summary, %(log)s, stage_id FROM changed
)
SELECT id, type FROM changed
""")

# Staged edits: a new revision in the stage without the tag, and the stage's pointer moved to
# it (foreign keys are checked at the statement's end, when the revision exists).
_STAGED_SQL: Final = sql.SQL("""
WITH stale AS MATERIALIZED (
    SELECT trovato_uuid7() AS fresh, a.stage_id, a.item_id, r.title, r.status, r.promote,
           r.sticky, {stripped} AS fields, r.summary
    FROM stage_association a JOIN item_revision r ON r.id = a.target_revision_id
    WHERE {refers}
), revised AS (
    INSERT INTO item_revision (id, item_id, author_id, title, status, promote, sticky, fields,
                               summary, log, stage_id)
    SELECT fresh, item_id, %(author)s, title, status, promote, sticky, fields, summary,
           %(log)s, stage_id FROM stale
), moved AS (
    UPDATE stage_association a SET target_revision_id = s.fresh FROM stale s
    WHERE a.stage_id = s.stage_id AND a.item_id = s.item_id
)
SELECT s.item_id, i.type FROM stale s JOIN item i ON i.id = s.item_id
""")


# Up to this many containment tests are ORed, each answered by the GIN index of all fields
# (``@> ANY(…)`` is not: an index cannot take an array of them). More of them (deleting a
# vocabulary of many tags) read every row's references once instead.
_INDEXED_TESTS: Final = 32
_REFERS_ANY: Final = sql.SQL(
    "EXISTS (SELECT 1 FROM jsonb_path_query({fields}, 'lax $.*.target_id') AS t(id)"
    " WHERE t.id #>> '{{}}' = ANY(%(tags)s::text[]))")


def _refers(fields: sql.Identifier, tests: Sequence[str]) -> sql.Composable:
    """The condition that ``fields`` refers to one of the tags: the containment tests whose
    parameters ``tests`` names, or (none: too many) the scan of every reference."""
    if not tests:
        return _REFERS_ANY.format(fields=fields)
    return sql.SQL("({})").format(sql.SQL(" OR ").join(
        sql.SQL("{} @> {}").format(fields, sql.Placeholder(name)) for name in tests))


async def remove_references(conn: AsyncConnection[DictRow], tags: Sequence[uuid.UUID],
                            author: uuid.UUID, log: str) -> list[tuple[uuid.UUID, str]]:
    """Take ``tags`` out of every item and staged edit referring to them (module docstring);
    returns each rewritten item's (id, type), once per item."""
    if not tags:
        return []
    cur = await conn.execute("SELECT field_name FROM field_config WHERE field_type = 'reference'")
    fields = [row["field_name"] for row in await cur.fetchall()]
    if not fields:
        return []
    # What the item's JSONB contains when a field refers to a tag, as a list or one value.
    matches = [{name: shape} for name in fields for tag in tags
               for shape in ([{"target_id": str(tag)}], {"target_id": str(tag)})]
    indexed = matches if len(matches) <= _INDEXED_TESTS else []
    tests = [f"m{n}" for n in range(len(indexed))]
    params: dict[str, Any] = {"tags": [str(tag) for tag in tags], "author": author, "log": log,
                              **{f"m{n}": Jsonb(match) for n, match in enumerate(indexed)}}
    rewritten: dict[uuid.UUID, str] = {}
    for template, table in ((_ITEMS_SQL, "item"), (_STAGED_SQL, "r")):
        column = sql.Identifier(table, "fields")
        statement = template.format(stripped=_STRIPPED.format(fields=column),
                                    refers=_refers(column, tests))
        rows = await (await conn.cursor(row_factory=tuple_row).execute(statement, params)
                      ).fetchall()
        rewritten.update((key, type_) for key, type_ in rows)
    return list(rewritten.items())
