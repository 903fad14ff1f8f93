"""THE item query path: every read of items — routes, the JSON API, plugin host functions, the
front page, and later Gather, search and feeds — goes through :class:`ItemQuery`.

It owns the rules of what a reader sees (DESIGN §2.7):

* **Stage**: every statement's stage condition comes from the stages service
  (:func:`trovato.stages.stage_condition`), and a read in a stage other than live reads items
  through the stage *overlay* (:func:`item_source`): the items created in any stage of the
  chain, with the nearest stage's edit (``stage_association``) replacing an item's title,
  status, promote, sticky and fields, and without the items a stage of the chain deleted
  (``stage_deletion``). Live reads the item table itself: the overlay costs live nothing. A
  stage the reader may not reach is a 404 (:meth:`trovato.stages.Stages.view`).
* **Status and role access**: ``access content``; unpublished items only for ``view unpublished
  content``, ``administer content`` or their (authenticated) author. Listings filter by this
  rule in SQL (:func:`trovato.content.access.visibility_scope`), so no hidden row leaves the
  database and the SQL count is exactly what the reader sees.
* **Plugin votes** (``item_access``) cannot be written in SQL, so they are applied to the rows
  SQL returns. One item (:meth:`ItemQuery.load`) is voted on directly: a deny is a 403 (or a
  404 for an unpublished item), as on ``/item/{id}``. A listing, while any voter is enabled,
  votes on *every* match in the listing's order, in batches, and builds the page and the total
  from the items that passed: the total never counts an item the reader may not see, and a page
  is never short because of a deny. Without voters the SQL answer is final and the listing is
  one statement. A grant vote does not add items to a listing that the role rule hides (as in
  Drupal without node grants); it does open the item's own page.

Statements (:mod:`trovato.content.statements`) are built with SQLAlchemy Core and compiled
once per *shape* (what filters are present, the sort, the page size, the visibility scope,
live or not) to SQL text kept in a bounded memo; values that vary per request (the viewer,
the type, the author, the stage chain) are bound by name. Validated numbers and flags (LIMIT,
OFFSET, status, promote, sticky) are written in as literals, so PostgreSQL keeps one generic
plan for the prepared statement (a generic plan cannot use the ``status = 1`` partial index
or know the LIMIT). Rows are read as tuples in column order
(:meth:`trovato.db.pool.Database.fetch_tuples`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from psycopg import AsyncConnection
from psycopg.rows import DictRow, tuple_row
from sqlalchemy import (
    BindParameter,
    Select,
    any_,
    literal_column,
    select,
)

from trovato.content.access import (
    ACCESS_CONTENT,
    Operation,
    item_access,
    scope_condition,
    visibility_scope,
)
from trovato.content.model import Item, ItemError, ItemHooks, ItemPage, not_found, parse_id
from trovato.content.statements import (
    COLUMN_COUNT,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SORTS,
    TITLE_MATCH_LIMIT,
    TITLE_MATCH_MAX,
    VOTE_BATCH,
    Listing,
    TagFilter,
    count_sql,
    flat,
    item_columns,
    item_from_row,
    item_source,
    listing_sql,
    load_sql,
    many_sql,
    title_match_sql,
    type_lock_sql,
    vote_batch_sql,
    where_params,
    words_query,
)
from trovato.db.pool import Database
from trovato.patterns import like_literal
from trovato.records import Lookup
from trovato.stages import LIVE, StageError, Stages, StageView, stage_condition, stage_params
from trovato.users.accounts import CurrentUser

_Items = list[Item]


class TotalsCache(Protocol):
    """Where listings keep their totals between item writes: an in-process cache whose
    entries carry cache tags (``item_list:<type>``), dropped by every write of an item of
    such a type — here and, through the shared pub/sub, in every other process — and which
    refuses a value computed before the last drop (``generation``). The kernel's Gather
    cache (:class:`trovato.gather.cache.TagCache`) is one."""

    generation: int

    def get(self, key: Hashable) -> Any | None: ...

    def put(self, key: Hashable, value: Any, tags: Iterable[str], generation: int, *,
            size: int = 0) -> None: ...


TypeNames = Callable[[], Awaitable[Mapping[str, Any]]]


def _hashable(value: object) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, Hashable):
        return value
    raise TypeError(f"unhashable listing parameter {type(value).__name__}")


_STATUS_COUNTS_SQL = (
    "SELECT count(*) FILTER (WHERE status = 1), count(*) FILTER (WHERE status <> 1)"
    " FROM item WHERE stage_id = %s"
)


class ItemQuery:
    """Item reads with status, access votes and the stage rule applied (module docstring).

    ``voter`` answers ``item_access`` (the content service's hooks: plugin taps); its
    ``reads_items()`` says whether any vote may be cast, which puts listings on the voted
    path."""

    def __init__(self, db: Database, stages: Stages, voter: ItemHooks, *,
                 totals: TotalsCache | None = None, type_names: TypeNames | None = None
                 ) -> None:
        self.db = db
        self.stages = stages
        self.voter = voter
        # Live listings' totals between item writes (counting every match of a 10,000-item
        # site costs more than reading a page of it); ``type_names`` names the types an
        # all-types listing's total is tagged with.
        self.totals = totals if type_names is not None else None
        self.type_names = type_names

    async def view(self, user: CurrentUser, stage: str) -> StageView:
        """The view of ``stage`` for ``user``: :class:`ItemError` 404 when the stage does not
        exist for them (live costs no query)."""
        try:
            return await self.stages.view(stage, user)
        except StageError as exc:
            raise ItemError(exc.status, exc.message) from None

    async def load(self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
                   ) -> Item:
        """One item ``user`` may view; :class:`ItemError` 404 (missing, hidden, malformed id,
        not in the stage, a stage they may not reach) or 403 (published but refused)."""
        key = parse_id(item_id)
        view = await self.view(user, stage)
        params = stage_params(view)
        params["id"] = key
        row = await self.db.fetchrow_tuple(load_sql(view.live, flat=flat(view)), params)
        if row is None:
            raise not_found()
        item = item_from_row(row)
        await self.require(user, item, "view")
        return item

    async def load_many(self, user: CurrentUser, ids: Iterable[uuid.UUID | str], *,
                        stage: str = LIVE) -> _Items:
        """The items among ``ids`` that ``user`` may view, in the order asked, in ONE query.
        Ids that are malformed, missing or not visible are left out."""
        keys: list[uuid.UUID] = []
        for raw in ids:
            try:
                keys.append(parse_id(raw))
            except ItemError:
                continue
        view = await self.view(user, stage)
        if not keys or not user.can(ACCESS_CONTENT):
            return []
        scope = visibility_scope(user)
        params: dict[str, Any] = {**stage_params(view), "ids": keys}
        if scope == "published_or_own":
            params["viewer"] = user.id
        rows = await self.db.fetch_tuples(many_sql(scope, view.live, flat(view)), params)
        by_id = {row[0]: item_from_row(row) for row in rows}
        result: _Items = []
        seen: set[uuid.UUID] = set()
        async with self.voter.voting(user):
            for key in keys:
                item = by_id.get(key)
                if item is None or key in seen:
                    continue
                seen.add(key)
                if await item_access(user, item, "view", self.voter):
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
        summary: bool = True,
        tagged: TagFilter | None = None,
        title: str | None = None,
        words: str | None = None,
    ) -> ItemPage:
        """A page of the items ``user`` may see (``page`` counts from 0) and their total;
        with ``tagged``, only those referring to its tag.

        ``title``: only items whose title contains it (case-insensitive; wildcards in it are
        plain characters).

        ``words``: only items whose words match it in web search syntax, the most relevant
        first (by ``ts_rank_cd``, title words weighing most), then in ``sort`` order.

        ``limit`` is capped at :data:`MAX_LIMIT`. ``fields=False`` is for listings that show
        teasers: items come with their stored summary instead of their fields
        (``Item.partial``) where it is known — unless a plugin votes on access, which needs
        whole items. ``fields=False, summary=False`` is for tables of items that show neither
        (the admin content list): items come without both, nor their revision id and creation
        date (``Item.partial``, those None) — unless a plugin votes."""
        if not user.can(ACCESS_CONTENT):
            raise ItemError(403, f"You need the permission {ACCESS_CONTENT!r} to list content.")
        errors: dict[str, str] = {}
        if sort not in SORTS:
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
                author_id = parse_id(author)
            except ItemError:
                errors["author"] = "must be a user id (UUID)"
        if errors:
            raise ItemError(422, "Invalid listing parameters.", errors)
        limit = min(limit, MAX_LIMIT)
        votes = self.voter.reads_items()
        view = await self.view(user, stage)
        shape = Listing(
            live=view.live, scope=visibility_scope(user), by_type=type is not None,
            status=status, by_author=author_id is not None, promote=promote, sticky=sticky,
            sort=sort, limit=limit, offset=page * limit, teasers=not fields and not votes,
            bare=not fields and not summary and not votes,
            tag_fields=None if tagged is None else tagged.fields,
            by_title=bool(title),
            flat=flat(view),
            words=bool(words),
        )
        params = where_params(view, shape, viewer=user.id, type=type, author=author_id,
                               tagged=tagged, title=title, words=words)
        if votes:
            async with self.voter.voting(user):
                return await self._voted(user, shape, params, page, limit)
        key = self._total_key(shape, params) if tagged is None else None
        known = self.totals.get(key) if self.totals is not None and key is not None else None
        if isinstance(known, int):
            rows = await self.db.fetch_tuples(listing_sql(shape, total=False), params)
            return ItemPage([item_from_row(r) for r in rows], known, page, limit)
        generation = self.totals.generation if self.totals is not None else 0
        rows = await self.db.fetch_tuples(listing_sql(shape), params)
        total = int(rows[0][COLUMN_COUNT]) if rows else 0
        if not rows and page > 0:
            # Past the last page there is no row to report the total on.
            total = int(await self.db.fetchval(count_sql(shape), params) or 0)
        if self.totals is not None and key is not None and self.type_names is not None:
            tagged_types = [type] if type is not None else list(await self.type_names())
            self.totals.put(key, total, [f"item_list:{t}" for t in tagged_types], generation)
        return ItemPage([item_from_row(r) for r in rows], total, page, limit)

    @staticmethod
    def _total_key(shape: Listing, params: Mapping[str, Any]) -> Hashable | None:
        """What a listing's total depends on — its conditions and their values, not its
        order or page — for live listings only (a stage's view changes with its own writes
        too) and not by author (deleting an account gives its items to Anonymous without an
        item write) and not for a search (its words would be keys without end); None when it
        cannot be a key."""
        if not shape.live or shape.by_author or shape.words:
            return None
        counted = replace(shape, sort="", limit=0, offset=0, teasers=False, bare=False)
        try:
            return ("item_total", counted, tuple(sorted(
                (name, _hashable(value)) for name, value in params.items())))
        except TypeError:
            return None

    async def _voted(self, user: CurrentUser, shape: Listing, params: dict[str, Any],
                     page: int, limit: int) -> ItemPage:
        """The page and total of a listing filtered by plugin votes: every SQL match is voted
        on, in order, so the total counts exactly the items that passed."""
        first, visible, offset = page * limit, 0, 0
        items: list[Item] = []
        query = vote_batch_sql(shape)
        while True:
            rows = await self.db.fetch_tuples(query, {**params, "offset": offset})
            for row in rows:
                item = item_from_row(row)
                if await item_access(user, item, "view", self.voter):
                    if first <= visible < first + limit:
                        items.append(item)
                    visible += 1
            if len(rows) < VOTE_BATCH:
                return ItemPage(items, visible, page, limit)
            offset += VOTE_BATCH

    async def match_titles(self, user: CurrentUser, text: str, *,
                           types: Sequence[str] = (), limit: int = 10,
                           stage: str = LIVE) -> _Items:
        """Up to ``limit`` items ``user`` may view whose title contains ``text`` (case
        insensitive; ``%`` and ``_`` are plain characters), of ``types`` (empty: any), those
        whose title starts with it first: what a reference autocomplete offers. The read path
        of every listing: ``access content``, the role rule, the stage and plugin votes.
        ``text`` longer than :data:`TITLE_MATCH_MAX` is refused (422)."""
        if len(text) > TITLE_MATCH_MAX:
            raise ItemError(422, "Invalid title search.",
                            {"q": f"must be at most {TITLE_MATCH_MAX} characters"})
        text = text.strip()
        limit = max(1, min(limit, TITLE_MATCH_LIMIT))
        if not text or not user.can(ACCESS_CONTENT):
            return []
        view = await self.view(user, stage)
        scope = visibility_scope(user)
        votes = self.voter.reads_items()
        literal = like_literal(text)
        params: dict[str, Any] = {**stage_params(view), "pattern": f"%{literal}%",
                                  "prefix": f"{literal}%"}
        if scope == "published_or_own":
            params["viewer"] = user.id
        if types:
            params["types"] = list(types)
        # With votes, a batch of candidates is read and voted on: a vote may refuse some.
        rows = await self.db.fetch_tuples(
            title_match_sql(scope, view.live, bool(types), VOTE_BATCH if votes else limit),
            params)
        found: _Items = []
        async with self.voter.voting(user):
            for row in rows:
                item = item_from_row(row)
                if not votes or await item_access(user, item, "view", self.voter):
                    found.append(item)
                if len(found) == limit:
                    break
        return found

    async def status_counts(self) -> tuple[int, int]:
        """How many live items are published and how many are not, in one aggregate (the
        dashboard's facts; the caller decides who may see the second number)."""
        row = await self.db.fetchrow_tuple(_STATUS_COUNTS_SQL, (LIVE,))
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def require(self, user: CurrentUser, item: Item, op: Operation) -> None:
        """Raise unless ``user`` may ``op`` the item: 404 when they may not even see it (so an
        unpublished item's existence is not revealed), else 403.

        Edit and delete rights stand on their own, as in Drupal: ``edit any article content``
        covers unpublished articles without ``view unpublished content``."""
        if op != "view" and await item_access(user, item, op, self.voter):
            return
        if not await item_access(user, item, "view", self.voter):
            if item.status != 1:
                raise not_found()
            raise ItemError(403, "You may not view this item.")
        if op != "view":
            verb = "edit" if op == "update" else "delete"
            raise ItemError(403, f"You may not {verb} this item.")

    def references(self, user: CurrentUser, view: StageView) -> Lookup:
        """How a save's references to items are resolved (a :data:`~trovato.records.Resolver`):
        an item of the stage view is usable when the role rule lets the saver see it."""
        scope = visibility_scope(user)
        live, joined = view.live, flat(view)

        def build(ids: BindParameter[Any]) -> Select[Any]:
            i = item_source(live, "i", flat=joined)
            return select(i.c.id, i.c.type.label("bundle"),
                          scope_condition(scope, i).label("visible"),
                          literal_column("FALSE").label("image")).where(
                i.c.id == any_(ids), stage_condition(live, i.c.stage_id))

        params = stage_params(view)
        if scope == "published_or_own":
            params["viewer"] = user.id
        return Lookup(shape=(scope, live, joined), build=build, params=params)

    # -- locked reads inside a write's transaction ----------------------------------------------

    async def lock(self, conn: AsyncConnection[DictRow], key: uuid.UUID, view: StageView
                   ) -> Item | None:
        """The item ``key`` as seen in ``view``, its row locked ``FOR UPDATE`` on ``conn``."""
        if not view.live:
            await conn.execute("SELECT 1 FROM item WHERE id = %s FOR UPDATE", (key,))
        cur = await conn.cursor(row_factory=tuple_row).execute(
            load_sql(view.live, lock=view.live, flat=flat(view)),
            {**stage_params(view), "id": key})
        row = await cur.fetchone()
        return None if row is None else item_from_row(row)

    async def seen_in(self, conn: AsyncConnection[DictRow], keys: Iterable[uuid.UUID],
                      view: StageView) -> dict[uuid.UUID, Item]:
        """The items among ``keys`` as ``view`` sees them, read on ``conn`` with no access
        rule: what a stage's diff and publish compare (they answer to stage permissions)."""
        params = {**stage_params(view), "ids": list(keys)}
        cur = await conn.cursor(row_factory=tuple_row).execute(
            many_sql("all", view.live, flat(view)), params)
        return {row[0]: item_from_row(row) for row in await cur.fetchall()}

    async def lock_type(self, conn: AsyncConnection[DictRow], type_name: str) -> _Items:
        """Every item of ``type_name`` in every stage, locked on ``conn`` (a forced type
        delete)."""
        cur = await conn.cursor(row_factory=tuple_row).execute(type_lock_sql(),
                                                               {"type": type_name})
        return [item_from_row(r) for r in await cur.fetchall()]


__all__ = [
    "COLUMN_COUNT",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SORTS",
    "VOTE_BATCH",
    "ItemQuery",
    "Listing",
    "TagFilter",
    "TotalsCache",
    "item_columns",
    "item_from_row",
    "item_source",
    "listing_sql",
    "words_query",
]
