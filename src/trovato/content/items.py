"""THE content service: every path that writes items goes through :class:`Items`.

* **Writes** (create, update, delete; a revert is an update) run in one transaction each.
  Every save writes a revision (author, time, log message, the stage it was written in). The
  plugin taps ``item_presave``, ``item_insert``, ``item_update`` and ``item_delete`` run
  *inside* that transaction through the :class:`ItemHooks` interface (with the stage in their
  context), so a hook that raises :class:`ItemHookError` rolls the whole write back (no item
  row, no revision row) and the caller gets a 422 naming the plugin. A write made from such a
  hook (a plugin's ``ctx.items.save``) joins that transaction, and its cache tags are dropped
  once it commits.
* **Writes in a stage** (DESIGN §10) reach only open stages the user may reach (409, 404). An
  item created in a stage is a row of that stage. An item from upstream (live, or a stage the
  stage builds on) is never written: an edit is a revision of the stage plus a
  ``stage_association`` (target: that revision; base: the revision the first edit started
  from), a delete is a ``stage_deletion`` marker. Reads overlay both
  (:mod:`trovato.content.query`); :mod:`trovato.content.staging` discards and publishes them.
* **Reads** go through the one item query path (:mod:`trovato.content.query`), which owns
  status, access (role rule and plugin votes) and the stage rule. Readers use it directly
  (``ContentServices.query``); :class:`Items` uses it for the locked reads of its writes, and
  its revisions (``Items.revisions``, :mod:`trovato.content.revisions`) for the item behind a
  revision, so the HTML pages, the JSON API and plugin host functions all see one rule.
* An edit of an item's own row is one guarded statement (:mod:`trovato.content.guarded_write`);
  filling in unknown summaries (:mod:`trovato.content.summary_backfill`) and building the
  content services (:mod:`trovato.content.services`) live in their own modules.
* Field values are validated by the field registry (:mod:`trovato.content.fields`); references
  (items, users, tags, files) are checked through the resolvers each record kind's owner
  registers (:mod:`trovato.content.references`), one statement per kind a save refers to.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, Protocol

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.access import (
    ADMINISTER_CONTENT,
    USE_FULL_HTML,
    Operation,
    item_access,
)
from trovato.content.fields import (
    KNOWN_FORMATS,
    FieldDefinition,
    FieldEnv,
    Reference,
    validate_fields,
)
from trovato.content.guarded_write import conflict, updated_entry, write_edit
from trovato.content.model import (
    HookContext,
    Item,
    ItemError,
    ItemHookError,
    ItemHooks,
    not_found,
    parse_id,
    write_revision,
)
from trovato.content.query import ItemQuery, TotalsCache
from trovato.content.references import ReferenceResolvers, standard_resolvers
from trovato.content.revisions import Revisions
from trovato.content.summary import summarize
from trovato.content.type_service import ItemTypes
from trovato.content.types import ItemType
from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.ids import NIL, uuid7
from trovato.observability.audit import audit
from trovato.stages import LIVE, StageError, Stages, StageView, is_live
from trovato.users.accounts import CurrentUser

TITLE_MAX: Final = 255
LOG_MAX: Final = 10_000
# Text formats that need a permission beyond being able to edit the item.
DEFAULT_FORMAT_PERMISSIONS: Final[Mapping[str, str]] = {"full_html": USE_FULL_HTML}


class FreeTagging(Protocol):
    """Tags given by name in a tag reference field (the categories service answers):
    ``wanted`` is ``(error key, name)`` pairs; the answer their tag ids, in order, found in
    ``vocabularies`` or created — inside the save's transaction, on its connection."""

    async def resolve_names(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                            stage: str, vocabularies: Sequence[str],
                            wanted: Sequence[tuple[str, str]], *,
                            create: bool = True) -> list[uuid.UUID]: ...


class FileUsage(Protocol):
    """The files an item refers to (the files service answers), inside the save's
    transaction: ``track`` after a save (``after``: error key and file id of each reference;
    ``replace``: the item's own row was written), ``release`` when items are deleted."""

    async def track(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                    item_id: uuid.UUID, before: Sequence[uuid.UUID],
                    after: Sequence[tuple[str, uuid.UUID]], *, replace: bool) -> None: ...

    async def release(self, conn: AsyncConnection[DictRow],
                      item_ids: Sequence[uuid.UUID]) -> None: ...


# The field types whose values are files, whose use the files service tracks.
_FILE_FIELDS: Final = frozenset({"file", "image"})


def _free_tagging(definition: FieldDefinition) -> bool:
    """Whether ``definition`` is a tag reference field, whose values may name tags to find or
    create."""
    return definition.type == "reference" \
        and definition.settings.get("target_type") == "category_tag"


def file_references(item_type: ItemType, fields: Mapping[str, Any]
                    ) -> list[tuple[str, uuid.UUID]]:
    """(error key, file id) of every file and image value of ``fields``."""
    found: list[tuple[str, uuid.UUID]] = []
    for definition in item_type.fields:
        if definition.type not in _FILE_FIELDS:
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
    """Create, update and delete items, with access and validation; their revisions (read,
    compared, reverted to) through ``revisions``."""

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
        # The item's history: its revisions, one of them, two to compare, and reverting.
        self.revisions = Revisions(self)

    @property
    def hooks(self) -> ItemHooks:
        """The extension points (plugin taps); the query path asks them for access votes."""
        return self.query.voter

    @hooks.setter
    def hooks(self, hooks: ItemHooks) -> None:
        self.query.voter = hooks

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
        alone = isinstance(item_id, Item) and await self._alone(item_id, stage)
        async with self.db.one_statement() if alone else self.db.transaction() as conn:
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
            # is guarded by the count of the type's field changes (a type that changed since,
            # in any process, is caught there). A stage's edit has no such guard: it reads the
            # type now.
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
                _check_log(log)
                item = await write_edit(conn, self.types, item_type, item, original, user,
                                        log, notice)
            else:
                item = await self._stage_edit(conn, item, original, user, log, stage)
            await self._track_files(ctx, item_type, item, original,
                                    replace=original.stage == stage)
            await self.hooks.update(item, original, ctx)
            if original.stage != stage:
                await audit(conn, "content", *updated_entry(item, item_type), user_id=user.id)
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

    # -- internals -----------------------------------------------------------------------------

    async def _alone(self, original: Item, stage: str) -> bool:
        """Whether an edit of ``original`` (the item as the caller read it) writes nothing
        but its guarded statement (:func:`write_edit`), which then needs no transaction
        around it: the item's own row in live (a write in a stage holds the stage open in
        its transaction), no extension acting inside the save, and a type none of whose
        fields write beside it (tags created by name, file usage)."""
        if original.stage != stage or not is_live(stage) or self.hooks.acts_on_update():
            return False
        item_type = await self.types.get_cached(original.type)
        return item_type is not None and not any(
            _free_tagging(definition) or definition.type in _FILE_FIELDS
            for definition in item_type.fields)

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
            if not _free_tagging(definition):
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
                    tuple(definition.settings.get("target_bundles") or ()), wanted,
                    create=definition.settings.get("free_tagging", True) is not False)
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


def _check_log(log: object) -> None:
    """A revision's log message: text of at most ``LOG_MAX`` characters, no NUL."""
    if not isinstance(log, str) or len(log) > LOG_MAX or "\x00" in log:
        raise ItemError(422, "The log message is invalid.",
                        {"log": f"must be text of at most {LOG_MAX} characters"})


__all__ = [
    "FileUsage",
    "FreeTagging",
    "HookContext",
    "Item",
    "ItemError",
    "ItemHookError",
    "ItemHooks",
    "Items",
]
