"""The wiring of one kernel's content services (:class:`ContentServices`): which objects there
are and how they share one another. Kept apart from the services themselves so each module
holds one service and this one only builds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from trovato.content.fields import KNOWN_FORMATS, FieldRegistry
from trovato.content.items import FileUsage, FreeTagging, Invalidate, Items
from trovato.content.model import ItemHooks
from trovato.content.query import ItemQuery, TotalsCache
from trovato.content.staging import Staging
from trovato.content.summary_backfill import SummaryBackfill
from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.stages import Stages
from trovato.users.permissions import PermissionRegistry

Subscribe = Callable[[str, Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class ContentServices:
    """The content services of one kernel: the field registry, item types, the one item read
    path (``query``), the item writes (``items``, which read through that same query, and
    whose ``revisions`` read an item's history), the content of stages and the filling in of
    unknown summaries (``summaries``, which cron runs)."""

    fields: FieldRegistry
    types: ItemTypes
    items: Items
    query: ItemQuery
    staging: Staging
    summaries: SummaryBackfill

    @classmethod
    async def start(
        cls,
        db: Database,
        permissions: PermissionRegistry,
        *,
        subscribe: Subscribe | None = None,
        publish: Publish | None = None,
        invalidate: Invalidate | None = None,
        hooks: ItemHooks | None = None,
        formats: Iterable[str] = KNOWN_FORMATS,
        stages: Stages | None = None,
        on_types_change: Callable[[], None] | None = None,
        tags: FreeTagging | None = None,
        files: FileUsage | None = None,
        totals: TotalsCache | None = None,
    ) -> ContentServices:
        """Build the services and register the content permissions (now, and in this process
        whenever another one changes an item type: ``subscribe``/``publish`` are the shared
        store's pub/sub)."""
        fields = FieldRegistry()
        types = ItemTypes(db, fields, permissions, publish=publish, on_change=on_types_change)
        await types.start(subscribe)
        items = Items(db, types, stages=stages, hooks=hooks, formats=formats,
                      invalidate=invalidate, tags=tags, files=files, totals=totals)
        return cls(fields=fields, types=types, items=items, query=items.query,
                   staging=Staging(items), summaries=SummaryBackfill(db, types))
