"""The content model: items, revisions and listing pages as values; the content service's
errors; and :class:`ItemHooks`, the extension points (plugin taps) reads and writes call.

Shared by the query path (:mod:`trovato.content.query`) and the write service
(:mod:`trovato.content.items`), so neither imports the other for its types.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.access import Operation, Vote
from trovato.errors import ServiceError
from trovato.ids import uuid7
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser

# -- values -------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(slots=True)
class Item:
    """One item. ``fields`` holds the stored value shapes of DESIGN §5."""

    id: uuid.UUID
    type: str
    title: str
    author_id: uuid.UUID
    status: int = 1
    promote: bool = False
    sticky: bool = False
    created: datetime | None = None
    changed: datetime | None = None
    revision_id: uuid.UUID | None = None
    stage: str = LIVE
    fields: dict[str, Any] = field(default_factory=dict)
    # Read along with the item for bylines; not part of the API shape (which has author_id)
    # nor of an item's identity.
    author_name: str | None = field(default=None, compare=False)
    # The teaser text stored with the item (see trovato.content.summary); None: not known.
    summary: str | None = field(default=None, compare=False)
    # Listed for a teaser without its fields (``ItemQuery.list(fields=False)``), or for a table
    # without its summary, revision id and creation date either (``summary=False``): such an
    # item is only shown, never saved or handed to a plugin.
    partial: bool = field(default=False, compare=False)

    @property
    def published(self) -> bool:
        return self.status == 1

    def public(self) -> dict[str, Any]:
        """The JSON shape of an item (``/api/v1/items``, plugin tap payloads)."""
        if self.partial:
            raise ValueError(f"item {self.id} was listed without its fields: it has no "
                             "public shape")
        return {
            "id": str(self.id),
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "promote": self.promote,
            "sticky": self.sticky,
            "author_id": str(self.author_id),
            "created": _iso(self.created),
            "changed": _iso(self.changed),
            "revision_id": str(self.revision_id) if self.revision_id else None,
            "stage": self.stage,
            "fields": self.fields,
        }


@dataclass(frozen=True, slots=True)
class Revision:
    id: uuid.UUID
    item_id: uuid.UUID
    author_id: uuid.UUID
    created: datetime
    title: str
    status: int
    log: str
    fields: dict[str, Any]

    def public(self) -> dict[str, Any]:
        """The JSON shape of a revision in a list (``/api/v1/items/{id}/revisions``)."""
        return {
            "id": str(self.id),
            "created": self.created.isoformat(),
            "author_id": str(self.author_id),
            "title": self.title,
            "log": self.log,
        }


def revision_from_row(row: Mapping[str, Any]) -> Revision:
    return Revision(
        id=row["id"], item_id=row["item_id"], author_id=row["author_id"],
        created=row["created"], title=row["title"], status=row["status"], log=row["log"],
        fields=row["fields"] or {},
    )


# A revision's columns: a write that inserts the revision from the same statement as the item
# row (``INSERT … SELECT``) names them through this.
REVISION_INSERT = ("INSERT INTO item_revision (id, item_id, author_id, title, status, promote,"
                   " sticky, fields, summary, log, stage_id)")


async def write_revision(conn: AsyncConnection[DictRow], item: Item, author_id: uuid.UUID,
                         log: str, stage: str) -> uuid.UUID:
    """Insert a revision of ``stage`` holding the item's values (and its summary, which the
    caller computed from these fields: a read in a stage shows it in teasers); returns its
    new id."""
    revision_id = uuid7()
    await conn.execute(
        REVISION_INSERT + " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (revision_id, item.id, author_id, item.title, item.status, item.promote, item.sticky,
         Jsonb(item.fields), item.summary, log, stage),
    )
    return revision_id


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    limit: int


# -- errors and hooks ---------------------------------------------------------------------------


class ItemError(ServiceError):
    """A refused item operation: HTTP ``status``, a message and per-field ``errors``."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, message, errors=errors)


class ItemHookError(ItemError):
    """Raised by a hook (a plugin tap) to refuse a write; the transaction is rolled back."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(
            422,
            f"The plugin {plugin!r} refused the change: {message}",
            {"plugin": f"{plugin}: {message}"},
        )
        self.plugin = plugin
        self.plugin_message = message


@dataclass(frozen=True, slots=True)
class HookContext:
    """What a hook gets besides the item: the transaction's connection, the acting user and the
    stage. Writing through ``conn`` makes the hook's changes commit or roll back with the item."""

    conn: AsyncConnection[DictRow]
    user: CurrentUser
    stage: str


class ItemHooks:
    """The extension points of the content service; the plugin dispatcher implements them by
    calling the taps of the same names. This base class does nothing (no plugins)."""

    async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
        """``item_presave``: may change the item — returned as a new item, the one given is
        never changed in place (the service compares the two to know whether to validate
        again) — or raise :class:`ItemHookError`."""
        return item

    async def insert(self, item: Item, ctx: HookContext) -> None:
        """``item_insert``: the item and its first revision are written."""

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        """``item_update``: the item and its new revision are written."""

    async def delete(self, item: Item, ctx: HookContext) -> None:
        """``item_delete``: called before the rows go, so the plugin can clean up."""

    async def publish_before(self, stage: str, changes: list[dict[str, Any]],
                             ctx: HookContext) -> list[str]:
        """``stage_publish_before``: the reasons to refuse publishing ``stage`` (none: go),
        asked inside the publish's transaction before anything is written."""
        return []

    async def publish_after(self, stage: str, changes: list[dict[str, Any]],
                            user: CurrentUser) -> None:
        """``stage_publish_after``: the stage was published (after the commit)."""

    def acts_on_update(self) -> bool:
        """Whether an update hands the item to an extension (``item_presave``,
        ``item_update``), which runs inside the save's transaction and may write in it (an
        edit that is one statement otherwise needs no transaction around it). Here: whether a
        subclass implements either."""
        cls = type(self)
        return cls.presave is not ItemHooks.presave or cls.update is not ItemHooks.update

    def reads_items(self) -> bool:
        """Whether reads hand items to an extension (``item_access`` votes): listings then
        load items whole, even for teasers."""
        return False

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        """``item_access``: vote on one operation."""
        return Vote.NEUTRAL

    def voting(self, user: CurrentUser) -> contextlib.AbstractAsyncContextManager[None]:
        """Brackets the many votes of one read for ``user`` (a listing, a batch load), so an
        implementation can answer them all from one plugin session."""
        return contextlib.nullcontext()


def parse_id(value: uuid.UUID | str, what: Literal["item", "revision"] = "item") -> uuid.UUID:
    """An id from a path or a payload; a malformed one is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ItemError(404, f"No such {what}.") from None


def not_found() -> ItemError:
    return ItemError(404, "No such item.")
