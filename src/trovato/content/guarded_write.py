"""The guarded write of an edit to an item's own row: one statement, and what its refusal means.

An edit writes the row only while it is still at the revision the edit started from and its
type still has the fields the edit was validated against; the same statement inserts the new
revision (made of what the row now holds) and the audit entry, and may carry the notice telling
the other processes to drop the item's cache tags. Kept apart from the items service
(:mod:`trovato.content.items`, which calls it from ``Items.update``) because it is one statement
with its own invariants; a row that moved on is a 409 naming its current revision
(:func:`conflict`), a type that changed meanwhile a 409 asking to save again.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.model import REVISION_INSERT, Item, ItemError, not_found
from trovato.content.type_service import ItemTypes
from trovato.content.types import ItemType
from trovato.ids import uuid7
from trovato.observability.audit import INSERT as AUDIT_INSERT
from trovato.observability.audit import entry as audit_entry
from trovato.users.accounts import CurrentUser

# An edit of an item's own row, in one statement: the row (only while it is still at the
# revision the edit started from and its type has the fields it was validated against), then
# its new revision made of what the row now holds, and the audit entry, both inserted only
# when the row was written.
_GUARDED_WRITE: Final = (
    "WITH updated AS (UPDATE item SET title = %s,"  # noqa: S608 (built from constants)
    " status = %s, promote = %s, sticky = %s, fields = %s, summary = %s,"
    " changed = greatest(now(), changed), current_revision_id = %s"
    " WHERE id = %s AND stage_id = %s AND current_revision_id IS NOT DISTINCT FROM %s"
    # The type still has the fields the edit was validated against: a change to them (a
    # field added or removed, which also rewrites the type's rows, or its settings or storage
    # changed) committed after the type was read must not be written over. Triggers count
    # the changes (migration 0017).
    " AND (SELECT t.fields_version FROM item_type t WHERE t.type = item.type) = %s"
    " AND (SELECT s.version FROM field_storage_version s) = %s"
    " RETURNING id, current_revision_id, title, status, promote, sticky, fields, summary,"
    " stage_id, changed), revised AS (" + REVISION_INSERT
    + " SELECT current_revision_id, id, %s, title, status, promote, sticky, fields, summary,"
    " %s, stage_id FROM updated), logged AS ("
    + AUDIT_INSERT + " SELECT %s, %s, %s, %s, %s, %s, %s FROM updated)")
_GUARDED_UPDATE: Final = _GUARDED_WRITE + " SELECT changed FROM updated"  # noqa: S608
# The same, also telling the other processes to drop the item's cache tags: a notification
# sent only when the row was written, delivered when the save commits (never if it rolls back).
_GUARDED_UPDATE_NOTIFYING: Final = (
    _GUARDED_WRITE + " SELECT changed, pg_notify(%s, %s) FROM updated")  # noqa: S608


async def write_edit(conn: AsyncConnection[DictRow], types: ItemTypes, item_type: ItemType,
                     item: Item, original: Item, user: CurrentUser, log: str,
                     notice: tuple[str, str] | None) -> Item:
    """Store an edit of the item's own row in one statement: the row, guarded by the
    revision ``original`` is at (every save moves it on, so a row changed since it was read
    is never written over: 409), its new revision, the audit entry and, when given, the
    ``notice`` (channel, payload) telling the other processes to drop its cache tags.
    ``log`` is the revision's log message, already checked."""
    revision_id = uuid7()
    message, variables = updated_entry(item, item_type)
    values = (item.title, item.status, item.promote, item.sticky, Jsonb(item.fields),
              item.summary, revision_id, item.id, item.stage, original.revision_id,
              item_type.fields_version, item_type.storage_version, user.id,
              log, *audit_entry("content", message, variables, user_id=user.id))
    cur = await conn.execute(
        *((_GUARDED_UPDATE, values) if notice is None
          else (_GUARDED_UPDATE_NOTIFYING, (*values, *notice))))
    row = await cur.fetchone()
    if row is None:
        current = await _current_revision(conn, item.id)
        if current == original.revision_id:  # the row is as read: its type changed
            # The cached type is stale (this process has not heard of the change yet):
            # the next read of the cache reads the types again, so a new try uses it.
            types.forget()
            raise ItemError(409, f"The fields of {item_type.label} changed while this"
                                 " edit was made, so it was not saved; review it and save"
                                 " again.", {"type": item_type.type})
        raise conflict(current)
    return replace(item, changed=row["changed"], revision_id=revision_id)


async def _current_revision(conn: AsyncConnection[DictRow], key: uuid.UUID) -> uuid.UUID | None:
    """The item's current revision now (what a refused edit's 409 names)."""
    cur = await conn.execute("SELECT current_revision_id FROM item WHERE id = %s", (key,))
    row = await cur.fetchone()
    if row is None:
        raise not_found()
    current: uuid.UUID | None = row["current_revision_id"]
    return current


def updated_entry(item: Item, item_type: ItemType) -> tuple[str, dict[str, Any]]:
    """The audit entry of an item update: its message and variables."""
    return ("%(label)s “%(title)s” updated.",
            {"type": item.type, "label": item_type.label, "title": item.title,
             "id": str(item.id)})


def conflict(current: uuid.UUID | None) -> ItemError:
    """The refusal of a change made from a revision that is no longer the item's current one
    (409); ``current_revision`` names the one it is at now, so a client can fetch it."""
    return ItemError(409, "This item was changed by someone else after you started editing"
                     " it, so your changes were not saved.",
                     {"current_revision": str(current) if current else "unknown"})
