"""Filling in unknown item summaries, a batch per cron run.

An item's stored summary (:mod:`trovato.content.summary`) is NULL when the item was written
before summaries were stored or its type's text fields changed since; listings then compute it
from the fields each time. This fills them in without waiting for an edit. It is kept apart
from the items service because it writes no revision, runs no tap and checks no access: it only
stores what :func:`~trovato.content.summary.summarize` computes from what is already saved.
"""

from __future__ import annotations

import contextlib
from typing import Final

from trovato.content.summary import summarize
from trovato.content.type_service import ItemTypes
from trovato.content.types import ItemType, ItemTypeError
from trovato.db.pool import Database

SUMMARY_BATCH: Final = 500  # unknown summaries filled per cron run


class SummaryBackfill:
    """Stores the summaries of items whose summary is not known (cron's ``fill_summaries``)."""

    def __init__(self, db: Database, types: ItemTypes) -> None:
        self.db = db
        self.types = types

    async def fill(self, limit: int = SUMMARY_BATCH) -> int:
        """Compute and store up to ``limit`` unknown (NULL) summaries; returns how many.

        Cron calls this, so items saved before summaries were stored, or whose type's text
        fields changed, stop costing their listings the fields without waiting for an edit.

        Locks are taken in a type change's order, types first, so the two never deadlock: a
        share lock on the types (a change to them waits; new items of them do not), then the
        rows, skipping any that an edit holds. A type change therefore cannot slip in
        between computing a summary and storing it."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT type FROM (SELECT type FROM item WHERE summary IS NULL"
                " ORDER BY id LIMIT %s) AS t", (limit,))
            names = sorted(row["type"] for row in await cur.fetchall())
            if not names:
                return 0
            types: dict[str, ItemType] = {}
            for name in names:
                with contextlib.suppress(ItemTypeError):  # deleted meanwhile, with its items
                    types[name] = await self.types.lock(conn, name, share=True)
            cur = await conn.execute(
                "SELECT id, type, fields FROM item WHERE summary IS NULL AND type = ANY(%s)"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (list(types), limit))
            rows = await cur.fetchall()
            ids = [row["id"] for row in rows]
            summaries = [summarize(row["fields"] or {}, types[row["type"]]) for row in rows]
            await conn.execute(
                "UPDATE item AS i SET summary = v.summary"
                " FROM unnest(%s::uuid[], %s::text[]) AS v(id, summary) WHERE i.id = v.id",
                (ids, summaries))
        return len(rows)
