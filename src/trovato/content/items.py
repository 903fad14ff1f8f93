"""THE content service: every path that reads or writes items goes through :class:`Items`.

* **Writes** (create, update, delete, revert) run in one transaction each. Every save writes a
  revision (author, time, log message, the stage it was written in). The plugin taps
  ``item_presave``, ``item_insert``, ``item_update`` and ``item_delete`` run *inside* that
  transaction through the :class:`ItemHooks` interface (with the stage in their context), so a
  hook that raises :class:`ItemHookError` rolls the whole write back (no item row, no revision
  row) and the caller gets a 422 naming the plugin. A write made from such a hook (a plugin's
  ``ctx.items.save``) joins that transaction, and its cache tags are dropped once it commits.
* **Writes in a stage** (DESIGN §10) reach only open stages the user may reach (409, 404). An
  item created in a stage is a row of that stage. An item from upstream (live, or a stage the
  stage builds on) is never written: an edit is a revision of the stage plus a
  ``stage_association`` (target: that revision; base: the revision the first edit started
  from), a delete is a ``stage_deletion`` marker. Reads overlay both
  (:mod:`trovato.content.query`); :mod:`trovato.content.staging` discards and publishes them.
* **Reads** go through the one item query path (:mod:`trovato.content.query`), which owns
  status, access (role rule and plugin votes) and the stage rule. Readers use it directly
  (``ContentServices.query``); :class:`Items` uses it for the item behind a revision and for
  the locked reads of its writes, so the HTML pages, the JSON API and plugin host functions
  all see one rule.
* Field values are validated by the field registry (:mod:`trovato.content.fields`); references
  (items, users, tags, files) are checked through the resolvers each record kind's owner
  registers (:mod:`trovato.content.references`), one statement per kind a save refers to.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.access import (
    ADMINISTER_CONTENT,
    REVERT_REVISIONS,
    USE_FULL_HTML,
    VIEW_REVISIONS,
    Operation,
    item_access,
)
from trovato.content.fields import (
    KNOWN_FORMATS,
    FieldEnv,
    FieldRegistry,
    Reference,
    validate_fields,
)
from trovato.content.model import (
    REVISION_INSERT,
    HookContext,
    Item,
    ItemError,
    ItemHookError,
    ItemHooks,
    Revision,
    not_found,
    parse_id,
    revision_from_row,
    write_revision,
)
from trovato.content.query import ItemQuery, TotalsCache
from trovato.content.references import ReferenceResolvers, standard_resolvers
from trovato.content.staging import Staging
from trovato.content.summary import summarize
from trovato.content.type_service import ItemTypes
from trovato.content.types import ItemType, ItemTypeError
from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.ids import NIL, uuid7
from trovato.observability.audit import INSERT as AUDIT_INSERT
from trovato.observability.audit import audit
from trovato.observability.audit import entry as audit_entry
from trovato.render.dates import local_time
from trovato.stages import LIVE, StageError, Stages, StageView
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

TITLE_MAX: Final = 255
LOG_MAX: Final = 10_000
# Text formats that need a permission beyond being able to edit the item.
DEFAULT_FORMAT_PERMISSIONS: Final[Mapping[str, str]] = {"full_html": USE_FULL_HTML}
_SELECT_REVISION = "SELECT id, item_id, author_id, created, title, status, log, fields"
# An item's revisions as a stage sees them: its own and its chain's, never a downstream one's.
_REVISIONS_SEEN = " FROM item_revision WHERE item_id = %s AND stage_id = ANY(%s)"
# An edit of an item's own row, in one statement: the row (only while it is still at the
# revision the edit started from and its type has the fields it was validated against), then
# its new revision made of what the row now holds, and the audit entry, both inserted only
# when the row was written.
_GUARDED_WRITE: Final = (
    "WITH updated AS (UPDATE item SET title = %s,"  # noqa: S608 (built from constants)
    " status = %s, promote = %s, sticky = %s, fields = %s, summary = %s,"
    " changed = greatest(now(), changed), current_revision_id = %s"
    " WHERE id = %s AND stage_id = %s AND current_revision_id IS NOT DISTINCT FROM %s"
    # The type still has the fields the edit was validated against: a type change that
    # removed or added fields (and so rewrote the type's rows: field data, summaries) and
    # committed after the type was read must not be written over.
    # (The names joined by commas, in code point order as Python sorts them: one text
    # parameter, which costs less to send than an array.)
    " AND (SELECT coalesce(string_agg(f.field_name, ',' ORDER BY f.field_name COLLATE \"C\"),"
    " '') FROM field_instance f WHERE f.bundle = item.type) = %s"
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


class FreeTagging(Protocol):
    """Tags given by name in a tag reference field (the categories service answers):
    ``wanted`` is ``(error key, name)`` pairs; the answer their tag ids, in order, found in
    ``vocabularies`` or created — inside the save's transaction, on its connection."""

    async def resolve_names(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                            stage: str, vocabularies: Sequence[str],
                            wanted: Sequence[tuple[str, str]]) -> list[uuid.UUID]: ...


class FileUsage(Protocol):
    """The files an item refers to (the files service answers), inside the save's
    transaction: ``track`` after a save (``after``: error key and file id of each reference;
    ``replace``: the item's own row was written), ``release`` when items are deleted."""

    async def track(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                    item_id: uuid.UUID, before: Sequence[uuid.UUID],
                    after: Sequence[tuple[str, uuid.UUID]], *, replace: bool) -> None: ...

    async def release(self, conn: AsyncConnection[DictRow],
                      item_ids: Sequence[uuid.UUID]) -> None: ...


def file_references(item_type: ItemType, fields: Mapping[str, Any]
                    ) -> list[tuple[str, uuid.UUID]]:
    """(error key, file id) of every file and image value of ``fields``."""
    found: list[tuple[str, uuid.UUID]] = []
    for definition in item_type.fields:
        if definition.type not in ("file", "image"):
            continue
        value = fields.get(definition.name)
        values = value if isinstance(value, list) else [value] if value else []
        for delta, entry in enumerate(values):
            target = entry.get("target_id") if isinstance(entry, Mapping) else None
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                key = f"fields.{definition.name}"
                found.append((f"{key}.{delta}" if definition.multiple else key,
                              uuid.UUID(str(target))))
    return found


# -- the service ---------------------------------------------------------------------------------


_UNSET: Any = object()
SUMMARY_BATCH = 500  # unknown summaries filled per cron run


class Invalidate(Protocol):
    """Dropping cached pages and listings by cache tag after a write (the kernel's), here and
    in every other process."""

    async def __call__(self, tags: Iterable[str]) -> None:
        """Drop ``tags`` here and tell every other process (after the commit)."""

    def notice(self, tags: Iterable[str]) -> tuple[str, str] | None:
        """The other processes' message as the channel and payload of a ``pg_notify`` the
        write sends in its own statement (delivered at its commit), or None when
        ``__call__`` must tell them after the commit."""

    async def here(self, tags: Iterable[str]) -> None:
        """Drop ``tags`` in this process only (the write's notice told the others)."""


class Items:
    """Create, read, update, delete and revise items, with access and validation."""

    def __init__(
        self,
        db: Database,
        types: ItemTypes,
        *,
        stages: Stages | None = None,
        hooks: ItemHooks | None = None,
        formats: Iterable[str] = KNOWN_FORMATS,
        format_permissions: Mapping[str, str] = DEFAULT_FORMAT_PERMISSIONS,
        invalidate: Invalidate | None = None,
        references: ReferenceResolvers | None = None,
        tags: FreeTagging | None = None,
        files: FileUsage | None = None,
        totals: TotalsCache | None = None,
    ) -> None:
        self.db = db
        self.tags = tags
        self.files = files
        self.types = types
        self.stages = stages or Stages(db)
        self.query = ItemQuery(db, self.stages, hooks or ItemHooks(), totals=totals,
                               type_names=types.cached)
        self.references = references or standard_resolvers(self.query.references)
        self.env = FieldEnv(formats=frozenset(formats))
        self.format_permissions = dict(format_permissions)
        # Cache-tag invalidation (the page and render caches), called after each commit.
        self.invalidate = invalidate

    @property
    def hooks(self) -> ItemHooks:
        """The extension points (plugin taps); the query path asks them for access votes."""
        return self.query.voter

    @hooks.setter
    def hooks(self, hooks: ItemHooks) -> None:
        self.query.voter = hooks

    # -- revisions (of an item read through the one query path) --------------------------------

    async def revisions(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> list[Revision]:
        """The item's revisions, newest first (needs ``view revisions`` and view access)."""
        item = await self.query.load(user, item_id, stage=stage)
        self._require_permission(user, VIEW_REVISIONS, "view revisions")
        view = await self.query.view(user, stage)
        rows = await self.db.fetch(
            _SELECT_REVISION + _REVISIONS_SEEN + " ORDER BY created DESC, id DESC",
            (item.id, list(view.visible)),
        )
        return [revision_from_row(r) for r in rows]

    async def load_revision(
        self, user: CurrentUser, item_id: uuid.UUID | str, revision_id: uuid.UUID | str,
        *, stage: str = LIVE,
    ) -> Revision:
        item = await self.query.load(user, item_id, stage=stage)
        self._require_permission(user, VIEW_REVISIONS, "view revisions")
        return await self._revision(user, item, revision_id, stage)

    async def _revision(self, user: CurrentUser, item: Item, revision_id: uuid.UUID | str,
                        stage: str) -> Revision:
        view = await self.query.view(user, stage)
        row = await self.db.fetchrow(
            _SELECT_REVISION + _REVISIONS_SEEN + " AND id = %s",
            (item.id, list(view.visible), parse_id(revision_id, "revision")),
        )
        if row is None:
            raise ItemError(404, "No such revision of this item.")
        return revision_from_row(row)

    # -- writes --------------------------------------------------------------------------------

    async def create(
        self,
        user: CurrentUser,
        type: str,
        *,
        title: str = "",
        status: int = 1,
        promote: bool = False,
        sticky: bool = False,
        fields: Mapping[str, Any] | None = None,
        log: str = "",
        stage: str = LIVE,
        author_id: uuid.UUID | None = None,
    ) -> Item:
        """Create an item and its first revision. Items created in a stage belong to it."""
        item_type = await self.types.get(type)
        if item_type is None:
            raise ItemError(422, f"There is no item type {type!r}.",
                            {"type": "unknown item type"})
        view = await self.query.view(user, stage)
        draft = Item(
            id=uuid7(), type=type, title=title, author_id=author_id or user.id,
            status=status, promote=promote, sticky=sticky, stage=stage,
            fields=dict(fields or {}),
        )
        if author_id is not None and author_id != user.id and not user.can(ADMINISTER_CONTENT):
            raise ItemError(403, "Only content administrators may set another author.")
        if not await item_access(user, draft, "create", self.hooks):
            raise ItemError(403, f"You may not create {item_type.label} content.")
        draft, references = self._validated(user, item_type, draft, previous=None)
        async with self.db.transaction() as conn:
            await self._hold(conn, view)
            ctx = HookContext(conn, user, stage)
            item = await self._presave(item_type, draft, references, None, ctx)
            item = replace(item, summary=summarize(item.fields, item_type))
            cur = await conn.execute(
                "INSERT INTO item (id, current_revision_id, type, title, author_id, status,"
                " promote, sticky, fields, summary, stage_id) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING created, changed",
                (item.id, None, item.type, item.title, item.author_id, item.status,
                 item.promote, item.sticky, Jsonb(item.fields), item.summary, stage),
            )
            row = await cur.fetchone()
            assert row is not None
            item = replace(item, created=row["created"], changed=row["changed"])
            item = await self._write_revision(conn, item, user, log, stage)
            await self._track_files(ctx, item_type, item, None, replace=True)
            await self.hooks.insert(item, ctx)
            await audit(conn, "content", "%(label)s “%(title)s” created.",
                        {"type": item.type, "label": item_type.label, "title": item.title,
                         "id": str(item.id)},
                        user_id=user.id)
        await self._invalidate(item)
        return item

    async def update(
        self,
        user: CurrentUser,
        item_id: uuid.UUID | str | Item,
        *,
        title: str = _UNSET,
        status: int = _UNSET,
        promote: bool = _UNSET,
        sticky: bool = _UNSET,
        fields: Mapping[str, Any] | None = None,
        log: str = "",
        stage: str = LIVE,
        replace_fields: bool = False,
        expected_revision: uuid.UUID | None = None,
    ) -> Item:
        """Patch an item: only what is given changes. ``fields`` merges by field name (a
        ``None`` value clears that field) unless ``replace_fields``. Writes a new revision.

        ``item_id`` is the item's id, or the item as the caller read it in ``stage`` through
        the query path (an edit form's): then it is not read again, and the write goes through
        only while the item is still at that revision. ``expected_revision``: the revision the
        change was made from (an edit form's, an API client's); when the item has moved on
        since, the change is refused with a 409 naming the current revision, never written
        over."""
        view = await self.query.view(user, stage)
        async with self.db.transaction() as conn:
            if isinstance(item_id, Item) and item_id.stage == stage:
                await self._hold(conn, view)
                original = item_id
                await self.query.require(user, original, "update")
            else:
                key = item_id.id if isinstance(item_id, Item) else parse_id(item_id)
                original = await self._lock(conn, user, key, view, "update")
            if expected_revision is not None and original.revision_id != expected_revision:
                raise conflict(original.revision_id)
            # An edit of the item's own row takes the type from the process cache: its write
            # is guarded by the type's field names (a type that changed since, in any process,
            # is caught there). A stage's edit has no such guard: it reads the type now.
            item_type = await (self.types.get_cached(original.type) if original.stage == stage
                               else self.types.get(original.type))
            if item_type is None:  # deleted since the caller read the item, with its items
                raise not_found()
            merged = {} if replace_fields else dict(original.fields)
            for name, value in (fields or {}).items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            changes: dict[str, Any] = {"fields": merged}
            for name, value in (("title", title), ("status", status), ("promote", promote),
                                ("sticky", sticky)):
                if value is not _UNSET:
                    changes[name] = value
            draft, references = self._validated(user, item_type,
                                                replace(original, **changes),
                                                previous=original)
            ctx = HookContext(conn, user, stage)
            item = await self._presave(item_type, draft, references, original, ctx)
            item = replace(item, summary=summarize(item.fields, item_type))
            notice = None
            if original.stage == stage:
                notice = self.invalidate.notice(_tags(item)) if self.invalidate else None
                item = await self._write(conn, item_type, item, original, user, log, notice)
            else:
                item = await self._stage_edit(conn, item, original, user, log, stage)
            await self._track_files(ctx, item_type, item, original,
                                    replace=original.stage == stage)
            await self.hooks.update(item, original, ctx)
            if original.stage != stage:
                await audit(conn, "content", *_updated(item, item_type), user_id=user.id)
        await self._invalidate(item, told=notice is not None)
        return item

    async def delete(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> Item:
        """Delete an item and its revisions; returns what was deleted."""
        key = parse_id(item_id)
        view = await self.query.view(user, stage)
        async with self.db.transaction() as conn:
            item = await self._lock(conn, user, key, view, "delete")
            await self.hooks.delete(item, HookContext(conn, user, stage))
            if item.stage == stage:
                await conn.execute("DELETE FROM item WHERE id = %s", (item.id,))
                if self.files is not None:
                    await self.files.release(conn, [item.id])
            else:
                # From upstream: hidden in the stage until it is published or discarded.
                await conn.execute(
                    "INSERT INTO stage_deletion (stage_id, entity_type, entity_id)"
                    " VALUES (%s, 'item', %s) ON CONFLICT DO NOTHING", (stage, item.id))
            gone = await self.types.get_cached(item.type)
            await audit(conn, "content", "%(label)s “%(title)s” deleted.",
                        {"type": item.type, "label": gone.label if gone else item.type,
                         "title": item.title, "id": str(item.id)},
                        user_id=user.id)
        await self._invalidate(item)
        return item

    async def revert(
        self, user: CurrentUser, item_id: uuid.UUID | str, revision_id: uuid.UUID | str,
        *, stage: str = LIVE, log: str | None = None,
    ) -> Item:
        """Make an earlier revision current again by saving its content as a new revision.

        Needs ``revert revisions`` and update access. Fields the type no longer has are left
        out; the values go through validation like any save."""
        self._require_permission(user, REVERT_REVISIONS, "revert revisions")
        item = await self.query.load(user, item_id, stage=stage)
        revision = await self._revision(user, item, revision_id, stage)
        item_type = await self.types.get(item.type)
        assert item_type is not None
        known = {f.name for f in item_type.fields}
        return await self.update(
            user, item.id,
            title=revision.title,
            status=revision.status,
            fields={k: v for k, v in revision.fields.items() if k in known},
            replace_fields=True,
            log=log if log is not None
            else "Reverted to the revision of"
            f" {local_time(revision.created, user.timezone, zone=True)}.",
            stage=stage,
        )

    async def purge_type(self, conn: AsyncConnection[DictRow], type_name: str) -> int:
        """Delete every item of a type inside the caller's transaction (a forced type delete),
        running the ``item_delete`` hook for each. Returns how many were deleted."""
        items = await self.query.lock_type(conn, type_name)
        system = CurrentUser(id=NIL, name="system", is_admin=True)
        for item in items:
            await self.hooks.delete(item, HookContext(conn, system, item.stage))
        await conn.execute("DELETE FROM item WHERE type = %s", (type_name,))
        if self.files is not None and items:
            await self.files.release(conn, [item.id for item in items])
        return len(items)

    async def fill_summaries(self, limit: int = SUMMARY_BATCH) -> int:
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

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _require_permission(user: CurrentUser, permission: str, what: str) -> None:
        if not (user.can(permission) or user.can(ADMINISTER_CONTENT)):
            raise ItemError(403, f"You need the permission {permission!r} to {what}.")

    async def _lock(
        self, conn: AsyncConnection[DictRow], user: CurrentUser, key: uuid.UUID,
        view: StageView, op: Operation,
    ) -> Item:
        """The item as ``view`` sees it, its row locked, once the stage is held open and
        ``user`` may ``op`` it."""
        await self._hold(conn, view)
        item = await self.query.lock(conn, key, view)
        if item is None:
            raise not_found()
        await self.query.require(user, item, op)
        return item

    async def _hold(self, conn: AsyncConnection[DictRow], view: StageView) -> None:
        """A write in a stage needs it open until the write commits (:meth:`Stages.hold_open`)."""
        try:
            await self.stages.hold_open(conn, view.stage)
        except StageError as exc:
            raise ItemError(exc.status, exc.message) from None

    async def _write(self, conn: AsyncConnection[DictRow], item_type: ItemType, item: Item,
                     original: Item, user: CurrentUser, log: str,
                     notice: tuple[str, str] | None) -> Item:
        """Store an edit of the item's own row in one statement: the row, guarded by the
        revision ``original`` is at (every save moves it on, so a row changed since it was read
        is never written over: 409), its new revision, the audit entry and, when given, the
        ``notice`` (channel, payload) telling the other processes to drop its cache tags."""
        _check_log(log)
        revision_id = uuid7()
        message, variables = _updated(item, item_type)
        values = (item.title, item.status, item.promote, item.sticky, Jsonb(item.fields),
                  item.summary, revision_id, item.id, item.stage, original.revision_id,
                  ",".join(sorted([f.name for f in item_type.fields])), user.id,
                  log, *audit_entry("content", message, variables, user_id=user.id))
        cur = await conn.execute(
            *((_GUARDED_UPDATE, values) if notice is None
              else (_GUARDED_UPDATE_NOTIFYING, (*values, *notice))))
        row = await cur.fetchone()
        if row is None:
            current = await self._current_revision(conn, item.id)
            if current == original.revision_id:  # the row is as read: its type changed
                # The cached type is stale (this process has not heard of the change yet):
                # the next read of the cache reads the types again, so a new try uses it.
                self.types.forget()
                raise ItemError(409, f"The fields of {item_type.label} changed while this"
                                     " edit was made, so it was not saved; review it and save"
                                     " again.", {"type": item_type.type})
            raise conflict(current)
        return replace(item, changed=row["changed"], revision_id=revision_id)

    @staticmethod
    async def _current_revision(conn: AsyncConnection[DictRow], key: uuid.UUID
                                ) -> uuid.UUID | None:
        """The item's current revision now (what a refused edit's 409 names)."""
        cur = await conn.execute("SELECT current_revision_id FROM item WHERE id = %s", (key,))
        row = await cur.fetchone()
        if row is None:
            raise not_found()
        current: uuid.UUID | None = row["current_revision_id"]
        return current

    async def _stage_edit(self, conn: AsyncConnection[DictRow], item: Item, original: Item,
                          user: CurrentUser, log: str, stage: str) -> Item:
        """An edit in ``stage`` of an item from upstream: a revision of the stage and the
        stage's association to it; the first edit's base (the revision it started from) stays."""
        item = await self._write_revision(conn, item, user, log, stage, current=False)
        await conn.execute(
            "INSERT INTO stage_association (stage_id, item_id, target_revision_id,"
            " base_revision_id) VALUES (%s, %s, %s, %s) ON CONFLICT (stage_id, item_id)"
            " DO UPDATE SET target_revision_id = EXCLUDED.target_revision_id",
            (stage, item.id, item.revision_id, original.revision_id))
        cur = await conn.execute("SELECT created FROM item_revision WHERE id = %s",
                                 (item.revision_id,))
        row = await cur.fetchone()
        assert row is not None
        return replace(item, changed=row["created"])

    def _validated(
        self, user: CurrentUser, item_type: ItemType, item: Item, previous: Item | None
    ) -> tuple[Item, list[Reference]]:
        """Check and normalise title, status and fields; :class:`ItemError` 422 lists all.
        Returns the item and the references its fields hold."""
        errors: dict[str, str] = {}
        title = item.title
        if not isinstance(title, str):
            errors["title"] = "must be a string"
            title = ""
        elif item_type.has_title and not title.strip():
            errors["title"] = "is required"
        elif len(title) > TITLE_MAX:
            errors["title"] = f"must be at most {TITLE_MAX} characters"
        elif "\x00" in title or "\n" in title or "\r" in title:
            errors["title"] = "must be a single line of text"
        if isinstance(item.status, bool) or item.status not in (0, 1):
            errors["status"] = "must be 0 (unpublished) or 1 (published)"
        for name in ("promote", "sticky"):
            if not isinstance(getattr(item, name), bool):
                errors[name] = "must be true or false"
        if not isinstance(item.fields, Mapping):
            errors["fields"] = "must be an object of field name → value"
            raise ItemError(422, "The item is invalid.", errors)
        result = validate_fields(self.types.fields, item_type.fields, item.fields, self.env)
        errors.update(result.errors)
        errors.update(self._format_errors(user, item_type, result.values, previous))
        if errors:
            raise ItemError(422, "The item is invalid.", errors)
        return replace(item, title=title, fields=result.values), result.references

    def _format_errors(
        self, user: CurrentUser, item_type: ItemType, values: Mapping[str, Any],
        previous: Item | None,
    ) -> dict[str, str]:
        """Text in a restricted format (``full_html``) may only be saved by users holding its
        permission. A value that is unchanged from the stored one passes, so such a user can
        still edit the rest of an item someone else wrote in that format."""
        errors: dict[str, str] = {}
        for definition in item_type.fields:
            if definition.type != "text_long" or definition.name not in values:
                continue
            stored = previous.fields.get(definition.name) if previous else None
            old = stored if isinstance(stored, list) else [stored] if stored else []
            new = values[definition.name]
            for delta, value in enumerate(new if isinstance(new, list) else [new]):
                fmt = value.get("format")
                permission = self.format_permissions.get(fmt) if fmt else None
                if permission is None or user.can(permission) or value in old:
                    continue
                key = f"fields.{definition.name}"
                if definition.multiple:
                    key += f".{delta}"
                errors[key] = f"you may not use the text format {fmt!r}"
        return errors

    async def _presave(
        self, item_type: ItemType, validated: Item, references: list[Reference],
        original: Item | None, ctx: HookContext,
    ) -> Item:
        """Resolve tags given by name, run the presave hook, re-validate what it returned,
        then check references (``references``: those of the ``validated`` item's fields,
        checked as they are when neither step changed it)."""
        draft = await self._named_tags(item_type, validated, ctx)
        changed = await self.hooks.presave(draft, original, ctx)
        if changed is not draft:  # (the same object: no hook changed it)
            # Hooks may change content, never identity or history.
            changed = replace(changed, id=draft.id, type=draft.type, stage=draft.stage,
                              created=draft.created, revision_id=draft.revision_id)
            if changed != draft:
                system = CurrentUser(id=NIL, name="system", is_admin=True)
                changed, _ = self._validated(system, item_type, changed, previous=None)
                changed = await self._named_tags(item_type, changed, ctx)
        if changed is not validated and changed != validated:
            references = validate_fields(self.types.fields, item_type.fields, changed.fields,
                                         self.env).references
        await self._check_references(ctx.conn, ctx.user, references, ctx.stage)
        return changed

    async def _named_tags(self, item_type: ItemType, item: Item, ctx: HookContext) -> Item:
        """Free tagging: the item with every tag given by name in a tag reference field
        replaced by the tag's id, found in the field's vocabularies or created there (by the
        categories service, in this save's transaction: a refused save creates no tag)."""
        fields: dict[str, Any] | None = None
        for definition in item_type.fields:
            if definition.type != "reference" \
                    or definition.settings.get("target_type") != "category_tag":
                continue
            value = item.fields.get(definition.name)
            values = list(value) if isinstance(value, list) else [value] if value else []
            named = [(delta, v["name"]) for delta, v in enumerate(values)
                     if isinstance(v, Mapping) and "name" in v]
            if not named:
                continue
            base = f"fields.{definition.name}"
            wanted = [(f"{base}.{delta}" if definition.multiple else base, name)
                      for delta, name in named]
            if self.tags is None:
                raise ItemError(422, "Tags can only be given by id here.",
                                {key: "give the tag's target_id" for key, _name in wanted})
            try:
                ids = await self.tags.resolve_names(
                    ctx.conn, ctx.user, ctx.stage,
                    tuple(definition.settings.get("target_bundles") or ()), wanted)
            except ServiceError as exc:
                raise ItemError(exc.status, exc.message, exc.problem_errors()) from None
            for (delta, _name), tag_id in zip(named, ids, strict=True):
                values[delta] = {"target_id": str(tag_id), "target_type": "category_tag"}
            fields = fields if fields is not None else dict(item.fields)
            fields[definition.name] = values if definition.multiple else values[0]
        return item if fields is None else replace(item, fields=fields)

    async def _write_revision(
        self, conn: AsyncConnection[DictRow], item: Item, user: CurrentUser, log: str,
        stage: str, *, current: bool = True,
    ) -> Item:
        """Write the item's values as a revision of ``stage``; ``current``: the item row's
        current revision becomes it."""
        _check_log(log)
        revision_id = await write_revision(conn, item, user.id, log, stage)
        if current:
            await conn.execute("UPDATE item SET current_revision_id = %s WHERE id = %s",
                               (revision_id, item.id))
        return replace(item, revision_id=revision_id)

    async def _track_files(self, ctx: HookContext, item_type: ItemType, item: Item,
                           original: Item | None, *, replace: bool) -> None:
        """Tell the files service which files the saved item uses (a refusal: 422)."""
        if self.files is None:
            return
        after = file_references(item_type, item.fields)
        before = [fid for _, fid in file_references(item_type, original.fields)] \
            if original is not None else []
        if not after and not before:
            return
        try:
            await self.files.track(ctx.conn, ctx.user, item.id, before, after, replace=replace)
        except ServiceError as exc:
            raise ItemError(exc.status, exc.message, exc.problem_errors()) from None

    async def _check_references(
        self, conn: AsyncConnection[DictRow], user: CurrentUser, refs: list[Reference],
        stage: str,
    ) -> None:
        """Every referenced record must exist and be usable by ``user`` (each kind's owner
        resolves it: see :mod:`trovato.content.references`)."""
        if refs:
            await self.references.check(conn, user, refs, await self.stages.view(stage))

    async def _invalidate(self, item: Item, *, told: bool = False) -> None:
        """Drop the item's cache tags once it is committed: now, or — for a write made inside
        another's transaction (a plugin's save from a content tap) — when that one commits.
        ``told``: the write's own statement told the other processes (its notice), so only
        this one drops them."""
        invalidate = self.invalidate
        if invalidate is None:
            return
        tags = _tags(item)

        async def drop() -> None:
            await (invalidate.here(tags) if told else invalidate(tags))

        if not self.db.after_commit(drop):
            await drop()


def _tags(item: Item) -> list[str]:
    """The cache tags a write of ``item`` drops: its pages and its type's listings."""
    return [f"item:{item.id}", f"item_list:{item.type}"]


def _updated(item: Item, item_type: ItemType) -> tuple[str, dict[str, Any]]:
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


def _check_log(log: object) -> None:
    """A revision's log message: text of at most ``LOG_MAX`` characters, no NUL."""
    if not isinstance(log, str) or len(log) > LOG_MAX or "\x00" in log:
        raise ItemError(422, "The log message is invalid.",
                        {"log": f"must be text of at most {LOG_MAX} characters"})


# -- wiring ------------------------------------------------------------------------------------

Subscribe = Callable[[str, Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class ContentServices:
    """The content services of one kernel: the field registry, item types, the one item read
    path (``query``), the item writes (``items``, which read through that same query) and the
    content of stages."""

    fields: FieldRegistry
    types: ItemTypes
    items: Items
    query: ItemQuery
    staging: Staging

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
                   staging=Staging(items))


__all__ = [
    "ContentServices",
    "FileUsage",
    "FreeTagging",
    "HookContext",
    "Item",
    "ItemError",
    "ItemHookError",
    "ItemHooks",
    "Items",
    "Revision",
]
