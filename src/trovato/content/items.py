"""THE content service: every path that reads or writes items goes through :class:`Items`.

* **Writes** (create, update, delete, revert) run in one transaction each. Every save writes a
  revision (author, time, log message). The plugin taps ``item_presave``, ``item_insert``,
  ``item_update`` and ``item_delete`` run *inside* that transaction through the
  :class:`ItemHooks` interface, so a hook that raises :class:`ItemHookError` rolls the whole
  write back (no item row, no revision row) and the caller gets a 422 naming the plugin.
* **Reads** are stage-aware: every statement gets its stage condition from one private function,
  :func:`_stage_condition`. Live reads see ``stage_id = 'live'``. In another stage a read sees the
  live items plus the items created in that stage — the first step of stage reads; the stages
  service adds overrides (``stage_association``) and deletions on top of this same function.
* **Access** is checked here, not in the routes, so the HTML pages, the JSON API and plugin host
  functions share one rule (:mod:`trovato.content.access`). Unpublished items a user may not see
  are "not found"; listings leave them out in SQL.
* Field values are validated by the field registry (:mod:`trovato.content.fields`); references
  (items, users, tags, files) are checked with one query per save for all of them.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow, tuple_row
from psycopg.types.json import Jsonb

from trovato.content.access import (
    ACCESS_CONTENT,
    ADMINISTER_CONTENT,
    REVERT_REVISIONS,
    USE_FULL_HTML,
    VIEW_REVISIONS,
    Operation,
    VisibilityScope,
    Vote,
    item_access,
    listing_visibility,
    scope_condition,
    visibility_scope,
)
from trovato.content.fields import (
    KNOWN_FORMATS,
    FieldEnv,
    FieldRegistry,
    Reference,
    validate_fields,
)
from trovato.content.summary import summarize
from trovato.content.types import ItemType, ItemTypeError, ItemTypes
from trovato.db.pool import Database
from trovato.ids import NIL, uuid7
from trovato.observability.audit import audit
from trovato.render.dates import local_time
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

LIVE: Final = "live"
MAX_LIMIT: Final = 100
DEFAULT_LIMIT: Final = 25
TITLE_MAX: Final = 255
LOG_MAX: Final = 10_000
# Sort keys a client may name, mapped to the (fixed) SQL they order by.
SORTS: Final[Mapping[str, sql.Composable]] = {
    "created": sql.SQL("i.created ASC, i.id ASC"),
    "-created": sql.SQL("i.created DESC, i.id DESC"),
    "changed": sql.SQL("i.changed ASC, i.id ASC"),
    "-changed": sql.SQL("i.changed DESC, i.id DESC"),
    "title": sql.SQL("i.title ASC, i.id ASC"),
    "-title": sql.SQL("i.title DESC, i.id DESC"),
    # Drupal's front-page order: sticky items first, then the newest.
    "-sticky": sql.SQL("i.sticky DESC, i.created DESC, i.id DESC"),
}
# Text formats that need a permission beyond being able to edit the item.
DEFAULT_FORMAT_PERMISSIONS: Final[Mapping[str, str]] = {"full_html": USE_FULL_HTML}

def _columns(fields: str) -> sql.Composed:
    """The item columns, in the order :func:`_item` reads them by position."""
    return sql.SQL(
        "i.id, i.type, i.title, i.status, i.promote, i.sticky, i.author_id, i.created,"
        " i.changed, i.current_revision_id, i.stage_id, {fields}, i.summary,"
        # The author's name rides along (a scalar subquery, so ``FOR UPDATE`` still locks
        # only the item row): every page showing an item shows its byline, and a second
        # query for it would double the reads of an item page.
        " (SELECT u.name FROM users u WHERE u.id = i.author_id) AS author_name"
    ).format(fields=sql.SQL(fields))  # only the two constant column lists below


_COLUMNS = _columns("i.fields")
_COLUMN_COUNT = 14  # a listing's total follows them
# A teaser listing's columns: the stored summary instead of the fields, which are most of an
# item's bytes (a 25-teaser page of 20-field items shipped 60 KB of JSON for 25 summaries).
# Only where the summary is not known do the fields come along, to compute it from.
_TEASER_COLUMNS = _columns("CASE WHEN i.summary IS NULL THEN i.fields END AS fields")


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
    # Listed for a teaser without its fields (``Items.list(fields=False)``): such an item is
    # only shown, never saved or handed to a plugin.
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


def _item(row: Sequence[Any]) -> Item:
    """An item from a row of :func:`_columns` (read as a tuple: see ``fetch_tuples``)."""
    (id_, type_, title, status, promote, sticky, author_id, created, changed, revision_id,
     stage, fields, summary, author_name) = row[:_COLUMN_COUNT]
    return Item(
        id=id_, type=type_, title=title, author_id=author_id, status=status, promote=promote,
        sticky=sticky, created=created, changed=changed, revision_id=revision_id, stage=stage,
        fields=fields or {}, author_name=author_name, summary=summary,
        # ``fields`` is NOT NULL in the table: None means a teaser read left it out.
        partial=fields is None,
    )


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


def _revision(row: Mapping[str, Any]) -> Revision:
    return Revision(
        id=row["id"], item_id=row["item_id"], author_id=row["author_id"],
        created=row["created"], title=row["title"], status=row["status"], log=row["log"],
        fields=row["fields"] or {},
    )


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    limit: int


# -- errors and hooks ---------------------------------------------------------------------------


class ItemError(Exception):
    """A refused item operation: HTTP ``status``, a message and per-field ``errors``."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


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
        """``item_presave``: may change the item (returned) or raise :class:`ItemHookError`."""
        return item

    async def insert(self, item: Item, ctx: HookContext) -> None:
        """``item_insert``: the item and its first revision are written."""

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        """``item_update``: the item and its new revision are written."""

    async def delete(self, item: Item, ctx: HookContext) -> None:
        """``item_delete``: called before the rows go, so the plugin can clean up."""

    def reads_items(self) -> bool:
        """Whether reads hand items to an extension (``item_access`` votes): listings then
        load items whole, even for teasers."""
        return False

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        """``item_access``: vote on one operation."""
        return Vote.NEUTRAL


# -- the stage-aware base query ------------------------------------------------------------------


_SELECT_REVISION = "SELECT id, item_id, author_id, created, title, status, log, fields"


def _stage_condition(stage: str, alias: str = "i") -> tuple[sql.Composable, list[Any]]:
    """THE stage rule of every item read (see the module docstring)."""
    column = sql.SQL("{}.stage_id").format(sql.Identifier(alias))
    if stage == LIVE:
        return sql.SQL("{} = 'live'").format(column), _stage_params(stage)
    return sql.SQL("{} IN ('live', %s)").format(column), _stage_params(stage)


def _stage_params(stage: str) -> list[Any]:
    """The parameters of :func:`_stage_condition` (without composing its SQL)."""
    return [] if stage == LIVE else [stage]


def _select(
    stage: str, conditions: Sequence[sql.Composable] = (), params: Sequence[Any] = (),
) -> tuple[sql.Composed, list[Any]]:
    """``SELECT <item columns> FROM item i WHERE <stage> AND <conditions>``."""
    stage_sql, stage_params = _stage_condition(stage)
    query = sql.SQL("SELECT {} FROM item i WHERE {}").format(
        _COLUMNS, sql.SQL(" AND ").join([stage_sql, *conditions])
    )
    return query, [*stage_params, *params]


@functools.lru_cache(maxsize=64)
def _load_query(stage: str) -> tuple[str, tuple[Any, ...]]:
    """The one-item query for ``stage`` as text (composed once: it runs on every item page)
    and its stage parameters; the item id is the last parameter."""
    query, params = _select(stage, [sql.SQL("i.id = %s")])
    return query.as_string(), tuple(params)


@dataclass(frozen=True, slots=True)
class _Listing:
    """Everything that shapes a listing's SQL text (values that vary by request, such as the
    user's id, the type name or the author, are parameters)."""

    stage: str
    scope: VisibilityScope
    by_type: bool
    status: int | None
    by_author: bool
    promote: bool | None
    sticky: bool | None
    sort: str
    limit: int
    offset: int
    teasers: bool


def _listing_params(shape: _Listing, *, user_id: uuid.UUID | None, type: str | None,
                    author_id: uuid.UUID | None) -> list[Any]:
    """The parameters of :func:`_listing_where`, in its order."""
    params = _stage_params(shape.stage)
    if shape.scope == "published_or_own":
        params.append(user_id)
    if shape.by_type:
        params.append(type)
    if shape.by_author:
        params.append(author_id)
    return params


def _listing_where(shape: _Listing) -> sql.Composable:
    """The listing's filter; :func:`_listing_params` gives its parameters in order."""
    conditions = [_stage_condition(shape.stage)[0], scope_condition(shape.scope)]
    if shape.by_type:
        conditions.append(sql.SQL("i.type = %s"))
    # Validated numbers and flags are written into the statement, not bound: with them as
    # parameters PostgreSQL re-plans the prepared listing on every execution (a generic plan
    # cannot use the ``status = 1`` partial index or know the LIMIT), which was ~40% of its
    # cost; as literals its plan is cached.
    if shape.status is not None:
        conditions.append(sql.SQL("i.status = {}").format(sql.Literal(int(shape.status))))
    if shape.by_author:
        conditions.append(sql.SQL("i.author_id = %s"))
    for column, wanted in (("promote", shape.promote), ("sticky", shape.sticky)):
        if wanted is not None:
            conditions.append(sql.SQL("{} = {}").format(sql.Identifier("i", column),
                                                       sql.Literal(bool(wanted))))
    return sql.SQL(" AND ").join(conditions)


@functools.lru_cache(maxsize=256)
def _listing_sql(shape: _Listing) -> str:
    """One page of a listing with the number of all matches, as text composed once per shape
    (composing it took ~4% of the front page).

    The total is an uncorrelated subquery, which PostgreSQL runs once and answers from an
    index, so the page itself stops after LIMIT rows read in index order (the front page's
    ``item_front_idx``). A ``count(*) OVER ()`` window instead had to read and sort every
    match: 22 ms for a front page over 10,000 promoted items, against ~4 ms this way."""
    where = _listing_where(shape)
    columns = _TEASER_COLUMNS if shape.teasers else _COLUMNS
    return sql.SQL(
        "SELECT {}, (SELECT count(*) FROM item i WHERE {}) AS total FROM item i WHERE {} "
        "ORDER BY {} LIMIT {} OFFSET {}"
    ).format(columns, where, where, SORTS[shape.sort], sql.Literal(shape.limit),
             sql.Literal(shape.offset)).as_string()


@functools.lru_cache(maxsize=64)
def _listing_count_sql(shape: _Listing) -> str:
    """The number of all matches of ``shape`` (for a page past the last)."""
    return sql.SQL("SELECT count(*) FROM item i WHERE {}").format(
        _listing_where(shape)).as_string()


# -- the service ---------------------------------------------------------------------------------

_UNSET: Any = object()
SUMMARY_BATCH = 500  # unknown summaries filled per cron run
# ``Items.list`` shadows the builtin inside the class body, so annotations there use these.
_Items = list[Item]
_Revisions = list[Revision]
_References = list[Reference]
Invalidate = Callable[[Iterable[str]], Awaitable[None]]


class Items:
    """Create, read, update, delete and revise items, with access and validation."""

    def __init__(
        self,
        db: Database,
        types: ItemTypes,
        *,
        hooks: ItemHooks | None = None,
        formats: Iterable[str] = KNOWN_FORMATS,
        format_permissions: Mapping[str, str] = DEFAULT_FORMAT_PERMISSIONS,
        invalidate: Invalidate | None = None,
    ) -> None:
        self.db = db
        self.types = types
        self.hooks = hooks or ItemHooks()
        self.env = FieldEnv(formats=frozenset(formats))
        self.format_permissions = dict(format_permissions)
        # Cache-tag invalidation (the page and render caches), called after each commit.
        self.invalidate = invalidate

    # -- reads ---------------------------------------------------------------------------------

    async def load(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> Item:
        """One item ``user`` may view; :class:`ItemError` 404 (missing or hidden) or 403."""
        key = _parse_id(item_id)
        query, params = _load_query(stage)
        row = await self.db.fetchrow_tuple(query, [*params, key])
        if row is None:
            raise _not_found()
        item = _item(row)
        await self._require(user, item, "view")
        return item

    async def load_many(
        self, user: CurrentUser, ids: Iterable[uuid.UUID | str], *, stage: str = LIVE
    ) -> _Items:
        """The items among ``ids`` that ``user`` may view, in the order asked, in ONE query.
        Ids that are malformed, missing or not visible are left out."""
        keys: list[uuid.UUID] = []
        for raw in ids:
            try:
                keys.append(_parse_id(raw))
            except ItemError:
                continue
        if not keys or not user.can(ACCESS_CONTENT):
            return []
        visible, visible_params = listing_visibility(user)
        query, params = _select(stage, [sql.SQL("i.id = ANY(%s::uuid[])"), visible],
                                [keys, *visible_params])
        rows = await self.db.fetch_tuples(query.as_string(), params)
        by_id = {row[0]: _item(row) for row in rows}
        result: _Items = []
        seen: set[uuid.UUID] = set()
        for key in keys:
            item = by_id.get(key)
            if item is None or key in seen:
                continue
            seen.add(key)
            # Plugin votes cost no query; a deny hides the item here as on its own page.
            if await item_access(user, item, "view", self.hooks):
                result.append(item)
        return result

    async def list(
        self,
        user: CurrentUser,
        *,
        type: str | None = None,
        status: int | None = None,
        author: uuid.UUID | str | None = None,
        promote: bool | None = None,
        sticky: bool | None = None,
        sort: str = "-created",
        page: int = 0,
        limit: int = DEFAULT_LIMIT,
        stage: str = LIVE,
        fields: bool = True,
    ) -> ItemPage:
        """A page of items (``page`` counts from 0), with the total, in one statement.

        ``limit`` is capped at :data:`MAX_LIMIT`. Items the user may not see by role are
        excluded in SQL, so the total counts only what they see; a plugin's ``item_access``
        deny (a vote, no query) then drops an item from the page, as on its own page.

        ``fields=False`` is for listings that show teasers, not fields: items come with their
        stored summary and without their fields (``Item.partial``), except where the summary
        is not known. While a plugin votes on item access it must see whole items, so then
        they are loaded whole anyway."""
        if not user.can(ACCESS_CONTENT):
            raise ItemError(403, f"You need the permission {ACCESS_CONTENT!r} to list content.")
        errors: dict[str, str] = {}
        order = SORTS.get(sort)
        if order is None:
            errors["sort"] = f"must be one of: {', '.join(SORTS)}"
        if status is not None and status not in (0, 1):
            errors["status"] = "must be 0 or 1"
        if page < 0:
            errors["page"] = "must be 0 or more"
        if limit < 1:
            errors["limit"] = "must be at least 1"
        author_id: uuid.UUID | None = None
        if author is not None:
            try:
                author_id = _parse_id(author)
            except ItemError:
                errors["author"] = "must be a user id (UUID)"
        if errors or order is None:
            raise ItemError(422, "Invalid listing parameters.", errors)
        limit = min(limit, MAX_LIMIT)
        shape = _Listing(
            stage=stage, scope=visibility_scope(user), by_type=type is not None, status=status,
            by_author=author_id is not None, promote=promote, sticky=sticky, sort=sort,
            limit=limit, offset=page * limit,
            teasers=not fields and not self.hooks.reads_items(),
        )
        where_params = _listing_params(shape, user_id=user.id, type=type, author_id=author_id)
        # The count subquery and the listing filter alike: the parameters come twice.
        rows = await self.db.fetch_tuples(_listing_sql(shape), [*where_params, *where_params])
        total = int(rows[0][_COLUMN_COUNT]) if rows else 0
        if not rows and page > 0:
            # Past the last page there is no row to report the total on.
            total = int(await self.db.fetchval(_listing_count_sql(shape), where_params) or 0)
        items = [_item(r) for r in rows]
        return ItemPage([i for i in items if await item_access(user, i, "view", self.hooks)],
                        total, page, limit)

    async def revisions(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> _Revisions:
        """The item's revisions, newest first (needs ``view revisions`` and view access)."""
        item = await self.load(user, item_id, stage=stage)
        self._require_permission(user, VIEW_REVISIONS, "view revisions")
        rows = await self.db.fetch(
            _SELECT_REVISION +
            " FROM item_revision WHERE item_id = %s ORDER BY created DESC, id DESC",
            (item.id,),
        )
        return [_revision(r) for r in rows]

    async def load_revision(
        self, user: CurrentUser, item_id: uuid.UUID | str, revision_id: uuid.UUID | str,
        *, stage: str = LIVE,
    ) -> Revision:
        item = await self.load(user, item_id, stage=stage)
        self._require_permission(user, VIEW_REVISIONS, "view revisions")
        row = await self.db.fetchrow(
            _SELECT_REVISION +
            " FROM item_revision WHERE id = %s AND item_id = %s",
            (_parse_id(revision_id, "revision"), item.id),
        )
        if row is None:
            raise ItemError(404, "No such revision of this item.")
        return _revision(row)

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
        draft = Item(
            id=uuid7(), type=type, title=title, author_id=author_id or user.id,
            status=status, promote=promote, sticky=sticky, stage=stage,
            fields=dict(fields or {}),
        )
        if author_id is not None and author_id != user.id and not user.can(ADMINISTER_CONTENT):
            raise ItemError(403, "Only content administrators may set another author.")
        if not await item_access(user, draft, "create", self.hooks):
            raise ItemError(403, f"You may not create {item_type.label} content.")
        draft = self._validated(user, item_type, draft, previous=None)
        async with self.db.transaction() as conn:
            ctx = HookContext(conn, user, stage)
            item = await self._presave(item_type, draft, None, ctx)
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
            item = await self._write_revision(conn, item, user, log)
            await self.hooks.insert(item, ctx)
            await audit(conn, "content", "Created %(type)s %(title)s.",
                        {"type": item.type, "title": item.title, "id": str(item.id)},
                        user_id=user.id)
        await self._invalidate(item)
        return item

    async def update(
        self,
        user: CurrentUser,
        item_id: uuid.UUID | str,
        *,
        title: str = _UNSET,
        status: int = _UNSET,
        promote: bool = _UNSET,
        sticky: bool = _UNSET,
        fields: Mapping[str, Any] | None = None,
        log: str = "",
        stage: str = LIVE,
        replace_fields: bool = False,
    ) -> Item:
        """Patch an item: only what is given changes. ``fields`` merges by field name (a
        ``None`` value clears that field) unless ``replace_fields``. Writes a new revision."""
        key = _parse_id(item_id)
        item_type: ItemType | None = None
        async with self.db.transaction() as conn:
            original = await self._lock(conn, user, key, stage, "update")
            item_type = await self.types.get(original.type)
            assert item_type is not None  # item.type references item_type
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
            draft = self._validated(user, item_type, replace(original, **changes),
                                    previous=original)
            ctx = HookContext(conn, user, stage)
            item = await self._presave(item_type, draft, original, ctx)
            item = replace(item, summary=summarize(item.fields, item_type))
            cur = await conn.execute(
                "UPDATE item SET title = %s, status = %s, promote = %s, sticky = %s,"
                " fields = %s, summary = %s, changed = greatest(now(), changed) WHERE id = %s"
                " RETURNING changed",
                (item.title, item.status, item.promote, item.sticky, Jsonb(item.fields),
                 item.summary, item.id),
            )
            row = await cur.fetchone()
            assert row is not None
            item = replace(item, changed=row["changed"])
            item = await self._write_revision(conn, item, user, log)
            await self.hooks.update(item, original, ctx)
            await audit(conn, "content", "Updated %(type)s %(title)s.",
                        {"type": item.type, "title": item.title, "id": str(item.id)},
                        user_id=user.id)
        await self._invalidate(item)
        return item

    async def delete(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> Item:
        """Delete an item and its revisions; returns what was deleted."""
        key = _parse_id(item_id)
        async with self.db.transaction() as conn:
            item = await self._lock(conn, user, key, stage, "delete")
            await self.hooks.delete(item, HookContext(conn, user, stage))
            await conn.execute("DELETE FROM item WHERE id = %s", (item.id,))
            await audit(conn, "content", "Deleted %(type)s %(title)s.",
                        {"type": item.type, "title": item.title, "id": str(item.id)},
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
        item = await self.load(user, item_id, stage=stage)
        row = await self.db.fetchrow(
            _SELECT_REVISION +
            " FROM item_revision WHERE id = %s AND item_id = %s",
            (_parse_id(revision_id, "revision"), item.id),
        )
        if row is None:
            raise ItemError(404, "No such revision of this item.")
        revision = _revision(row)
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
        cur = await conn.cursor(row_factory=tuple_row).execute(
            sql.SQL("SELECT {} FROM item i WHERE i.type = %s FOR UPDATE")
            .format(_COLUMNS).as_string(),
            (type_name,),
        )
        items = [_item(r) for r in await cur.fetchall()]
        system = CurrentUser(id=NIL, name="system", is_admin=True)
        for item in items:
            await self.hooks.delete(item, HookContext(conn, system, item.stage))
        await conn.execute("DELETE FROM item WHERE type = %s", (type_name,))
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

    async def _require(self, user: CurrentUser, item: Item, op: Operation) -> None:
        """Raise unless ``user`` may ``op`` the item: 404 when they may not even see it (so an
        unpublished item's existence is not revealed), else 403.

        Edit and delete rights stand on their own, as in Drupal: ``edit any article content``
        covers unpublished articles without ``view unpublished content``."""
        if op != "view" and await item_access(user, item, op, self.hooks):
            return
        if not await item_access(user, item, "view", self.hooks):
            if item.status != 1:
                raise _not_found()
            raise ItemError(403, "You may not view this item.")
        if op != "view":
            verb = "edit" if op == "update" else "delete"
            raise ItemError(403, f"You may not {verb} this item.")

    @staticmethod
    def _require_permission(user: CurrentUser, permission: str, what: str) -> None:
        if not (user.can(permission) or user.can(ADMINISTER_CONTENT)):
            raise ItemError(403, f"You need the permission {permission!r} to {what}.")

    async def _lock(
        self, conn: AsyncConnection[DictRow], user: CurrentUser, key: uuid.UUID, stage: str,
        op: Operation,
    ) -> Item:
        query, params = _select(stage, [sql.SQL("i.id = %s")], [key])
        cur = await conn.cursor(row_factory=tuple_row).execute(
            sql.SQL("{} FOR UPDATE").format(query).as_string(), params
        )
        row = await cur.fetchone()
        if row is None:
            raise _not_found()
        item = _item(row)
        await self._require(user, item, op)
        if item.stage != stage:
            # A live item edited from another stage must become a stage override, which is
            # the stages service's job; writing the live row here would publish the change.
            raise ItemError(
                409,
                f"This item is live; changes to it in the stage {stage!r} are made through"
                " the stages service.",
            )
        return item

    def _validated(
        self, user: CurrentUser, item_type: ItemType, item: Item, previous: Item | None
    ) -> Item:
        """Check and normalise title, status and fields; :class:`ItemError` 422 lists all."""
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
        return replace(item, title=title, fields=result.values)

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
        self, item_type: ItemType, draft: Item, original: Item | None, ctx: HookContext
    ) -> Item:
        """Run the presave hook, re-validate what it returned, then check references."""
        changed = await self.hooks.presave(draft, original, ctx)
        # Hooks may change content, never identity or history.
        changed = replace(changed, id=draft.id, type=draft.type, stage=draft.stage,
                          created=draft.created, revision_id=draft.revision_id)
        if changed is not draft and changed != draft:
            system = CurrentUser(id=NIL, name="system", is_admin=True)
            changed = self._validated(system, item_type, changed, previous=None)
        result = validate_fields(self.types.fields, item_type.fields, changed.fields, self.env)
        await self._check_references(ctx.conn, ctx.user, result.references, ctx.stage)
        return changed

    async def _write_revision(
        self, conn: AsyncConnection[DictRow], item: Item, user: CurrentUser, log: str
    ) -> Item:
        if not isinstance(log, str) or len(log) > LOG_MAX or "\x00" in log:
            raise ItemError(422, "The log message is invalid.",
                            {"log": f"must be text of at most {LOG_MAX} characters"})
        revision_id = uuid7()
        await conn.execute(
            "INSERT INTO item_revision (id, item_id, author_id, title, status, fields, log)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (revision_id, item.id, user.id, item.title, item.status, Jsonb(item.fields), log),
        )
        await conn.execute("UPDATE item SET current_revision_id = %s WHERE id = %s",
                           (revision_id, item.id))
        return replace(item, revision_id=revision_id)

    async def _check_references(
        self, conn: AsyncConnection[DictRow], user: CurrentUser, refs: _References,
        stage: str,
    ) -> None:
        """Every referenced record must exist and be visible to ``user``: ONE query for all."""
        if not refs:
            return
        wanted: dict[str, list[uuid.UUID]] = {"item": [], "user": [], "category_tag": [],
                                              "file": []}
        for ref in refs:
            wanted[ref.kind].append(ref.id)
        item_stage, stage_params = _stage_condition(stage)
        visible, visible_params = listing_visibility(user)
        query = sql.SQL(
            "SELECT 'item' AS kind, i.id, i.type AS bundle, {visible} AS visible"
            " FROM item i WHERE i.id = ANY(%s::uuid[]) AND {stage}"
            " UNION ALL SELECT 'user', u.id, NULL, u.status = 1 OR %s"
            " FROM users u WHERE u.id = ANY(%s::uuid[]) AND u.id <> %s"
            " UNION ALL SELECT 'category_tag', t.id, v.machine_name, TRUE"
            " FROM category_tag t JOIN category_vocabulary v ON v.id = t.vocabulary_id"
            " WHERE t.id = ANY(%s::uuid[]) AND {tag_stage}"
            " UNION ALL SELECT 'file', f.id, f.filename, f.filemime LIKE 'image/%%'"
            " FROM file_managed f WHERE f.id = ANY(%s::uuid[])"
        ).format(visible=visible, stage=item_stage,
                 tag_stage=_stage_condition(stage, "t")[0])
        params = [
            *visible_params, wanted["item"], *stage_params,
            user.can("administer users"), wanted["user"], NIL,
            wanted["category_tag"], *_stage_condition(stage, "t")[1],
            wanted["file"],
        ]
        cur = await conn.execute(query.as_string(), params)
        found = {(r["kind"], r["id"]): r for r in await cur.fetchall()}
        errors: dict[str, str] = {}
        for ref in refs:
            row = found.get((ref.kind, ref.id))
            noun = {"item": "an item", "user": "a user", "category_tag": "a category tag",
                    "file": "a file"}[ref.kind]
            if row is None or (ref.kind in ("item", "user") and not row["visible"]):
                errors[ref.key] = f"refers to {noun} that does not exist or that you cannot see"
            elif ref.kind == "file":
                extension = str(row["bundle"]).rsplit(".", 1)[-1].lower()
                if ref.image and not row["visible"]:
                    errors[ref.key] = "refers to a file that is not an image"
                elif ref.bundles and extension not in {b.lower() for b in ref.bundles}:
                    errors[ref.key] = (
                        f"refers to a file whose extension is not one of:"
                        f" {', '.join(ref.bundles)}"
                    )
            elif ref.bundles and row["bundle"] not in ref.bundles:
                what = "vocabularies" if ref.kind == "category_tag" else "types"
                errors[ref.key] = (
                    f"refers to {noun} of {row['bundle']!r}; allowed {what}:"
                    f" {', '.join(ref.bundles)}"
                )
        if errors:
            raise ItemError(422, "The item refers to records that cannot be used.", errors)

    async def _invalidate(self, item: Item) -> None:
        if self.invalidate is not None:
            await self.invalidate([f"item:{item.id}", f"item_list:{item.type}"])


# -- wiring ------------------------------------------------------------------------------------

Subscribe = Callable[[str, Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class ContentServices:
    """The content services of one kernel: the field registry, item types and items."""

    fields: FieldRegistry
    types: ItemTypes
    items: Items

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
    ) -> ContentServices:
        """Build the services and register the content permissions (now, and in this process
        whenever another one changes an item type: ``subscribe``/``publish`` are the shared
        store's pub/sub)."""
        fields = FieldRegistry()
        types = ItemTypes(db, fields, permissions, publish=publish)
        await types.start(subscribe)
        items = Items(db, types, hooks=hooks, formats=formats, invalidate=invalidate)
        return cls(fields=fields, types=types, items=items)


def _parse_id(value: uuid.UUID | str, what: Literal["item", "revision"] = "item") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ItemError(404, f"No such {what}.") from None


def _not_found() -> ItemError:
    return ItemError(404, "No such item.")


__all__ = [
    "DEFAULT_LIMIT",
    "LIVE",
    "MAX_LIMIT",
    "SORTS",
    "ContentServices",
    "HookContext",
    "Item",
    "ItemError",
    "ItemHookError",
    "ItemHooks",
    "ItemPage",
    "Items",
    "Revision",
]
