"""The Gather service: running stored listings (storing them is
:mod:`~trovato.gather.storage`'s, which :class:`Gather` extends).

**Running** (:meth:`Gather.run`) reads the definition (cached), lets ``gather_alter`` change it
when a plugin listens, resolves it against the item types, reads the exposed filters' values
from the caller's query parameters (a bad one is a 400 naming the parameter), and reads items
through the item query path's rules (:mod:`trovato.gather.compiler`). The pagers:

* ``full`` — the total and the keyset anchor of every page come from one pass (the ``map``
  statement), cached under the listing's tags; a page is then one statement read in index
  order from its anchor, so page 150 costs what page 1 costs. Sorts on JSONB fields cannot be
  keyed: their pages use ``OFFSET`` and their total a cached ``count``.
* ``mini`` — ``per_page + 1`` rows tell whether a next page exists; never a count (its
  ``total`` is None).
* ``none`` — the first ``per_page`` matches (``total`` None).

A page past the last is a 404 naming ``page`` (page 0 of an empty listing is an empty page).
Result pages are cached too, under ``gather:<name>``, ``item_list:<type>`` for each type the
listing can show and ``item:<id>`` for each item on it; item writes drop those tags through
the content service's invalidation, which reaches every process.

While a plugin votes on ``item_access`` the SQL answer is not final: like the item query
path, every match is then voted on in order and the page and total are built from the items
that passed (nothing of it is cached: votes depend on the reader). ``gather_result_alter``
may drop or reorder the items of a page (by id; it cannot add items the reader may not see)
and change the total.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from psycopg.rows import tuple_row

from trovato.content.access import ACCESS_CONTENT, item_access, visibility_scope
from trovato.content.model import Item
from trovato.content.query import ItemQuery
from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.gather.cache import TagCache
from trovato.gather.compiler import (
    Plan,
    Plans,
    Shape,
    anchor_parameters,
    compile_plan,
    parameters,
)
from trovato.gather.definition import (
    MAX_PER_PAGE,
    Extensions,
    GatherError,
    parse,
)
from trovato.gather.fields import SEARCH_FIELD, field_specs
from trovato.gather.resolution import Condition, Resolved, resolve
from trovato.gather.results import GatherResult, Preview, Rows, follow, read_rows
from trovato.gather.storage import Definitions, Invalidate, Stored
from trovato.gather.values import convert_value
from trovato.plugins import PluginUser
from trovato.plugins.taps import Taps
from trovato.search.service import SEARCH_TAG
from trovato.stages import LIVE, stage_params
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.gather")


ADMINISTER_USERS: Final = "administer users"
# What reading each base needs, besides the definition's own ``access``.
BASE_PERMISSIONS: Final[Mapping[str, str]] = {"item": ACCESS_CONTENT,
                                              "user": "access user profiles",
                                              "tag": ACCESS_CONTENT}
MAX_PAGE: Final = 100_000
# Pages whose keyset anchor is kept per listing; deeper pages read on by OFFSET from the last.
MAX_ANCHORS: Final = 4000
# The longest a listing's statement that reads every match may run (a guardrail against a
# costly definition; the first page and keyset pages read at most a page in index order).
STATEMENT_TIMEOUT_MS: Final = 5000

_UUID_TEXT: Final = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                               r"[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class _Map:
    total: int
    anchors: tuple[tuple[Any, ...], ...]


# Casts PostgreSQL counts as immutable (an index expression must be): text to date or to
# timestamptz depends on the session's settings, so those fields cannot be indexed this way.
_INDEXABLE: Final[Mapping[str, str]] = {"text": "", "int": "::bigint", "decimal": "::numeric",
                                        "float": "::double precision", "bool": "::boolean",
                                        "uuid": "::uuid", "tag": "::uuid"}


def index_name(field: str) -> str:
    return f"gather_{field}_idx"


def _size(item: Item) -> int:
    """About the bytes a cached item holds: its texts and its fields as JSON."""
    fields = 0 if item.partial else len(orjson.dumps(item.fields))
    return 512 + len(item.title) + len(item.summary or "") + fields


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


class Gather(Definitions):
    """Running the stored listings: a page as a reader sees it, previews, statements and
    their plans, and the expression indexes that serve them."""

    def __init__(self, db: Database, query: ItemQuery, types: ItemTypes, taps: Taps, *,
                 cache: TagCache | None = None, invalidate: Invalidate | None = None) -> None:
        super().__init__(db, types, taps, cache=cache, invalidate=invalidate)
        self.query = query
        self.plans = Plans()
        self._resolved: dict[tuple[str, int], tuple[object, Extensions, Resolved]] = {}

    async def resolved(self, stored: Stored) -> tuple[Resolved, int]:
        """``stored`` resolved against the item types and the plugins' filters and sorts
        (memoised while both are the same objects), after ``gather_alter``; with the
        resolution's key for the statement memo (0 unless a plugin altered the definition)."""
        types = await self.types.cached()
        extensions = await self.extensions()
        if self.taps.listens("gather_alter"):
            outcome = await self.taps.fire("gather_alter", {"query": stored.definition.document()})
            if isinstance(outcome.value, dict) and outcome.value != stored.definition.document():
                try:
                    altered = resolve(parse({**outcome.value, "name": stored.name}), types,
                                      extensions)
                except GatherError as exc:
                    # The visitor cannot mend a plugin's change: it is checked like any
                    # definition, and a refused one is logged and the stored one runs.
                    log.warning("gather_alter: %s: change refused: %s", stored.name,
                                exc.message, extra={"data": {"errors": exc.errors}})
                else:
                    return altered, hash(json.dumps(outcome.value, sort_keys=True))
        key = (stored.name, stored.version)
        memo = self._resolved.get(key)
        if memo is not None and memo[0] is types and memo[1] is extensions:
            return memo[2], 0
        result = resolve(stored.definition, types, extensions)
        # One resolution per listing: an older version's goes.
        for old in [k for k in self._resolved if k[0] == stored.name]:
            del self._resolved[old]
        self._resolved[key] = (types, extensions, result)
        return result, 0

    @staticmethod
    def exposed_values(resolved: Resolved, given: Mapping[str, str]
                       ) -> tuple[dict[int, Any], dict[str, str]]:
        """The exposed filters' values from query parameters (an empty one counts as not
        given); :class:`GatherError` 400 naming the first bad parameter."""
        values: dict[int, Any] = {}
        used: dict[str, str] = {}
        errors: dict[str, str] = {}
        for cond in resolved.exposed():
            assert cond.exposed is not None
            raw = given.get(cond.exposed)
            if raw is None or raw.strip() == "":
                continue
            try:
                if cond.options and raw not in cond.options:
                    raise ValueError(f"must be one of: {', '.join(cond.options[:20])}")
                values[cond.index] = convert_value(cond.spec, cond.op, raw, from_text=True)
            except ValueError as exc:
                errors[cond.exposed] = str(exc)
                continue
            used[cond.exposed] = raw
        if errors:
            name, message = next(iter(errors.items()))
            raise GatherError(400, f"The query parameter {name!r} {message}.", field=name,
                              errors=errors)
        return values, used

    async def argument_values(self, resolved: Resolved, given: Mapping[str, str],
                              user: CurrentUser) -> dict[int, Any]:
        """The contextual arguments' values (``given`` by name: path segments or query
        parameters), after their defaults; a tag's may be its slug. A missing argument whose
        default is ``not_found``, or one that resolves to nothing, is a 404 naming it."""
        values: dict[int, Any] = {}
        for cond in resolved.arguments():
            assert cond.argument is not None
            raw = given.get(cond.argument, "")
            if raw == "":
                if cond.default == "not_found":
                    raise GatherError(404, f"This listing needs its argument "
                                           f"{cond.argument!r}.", field=cond.argument)
                if cond.default == "current_user":
                    values[cond.index] = user.id
                continue
            if cond.spec.kind == "tag" and not _UUID_TEXT.match(raw):
                raw = await self._tag_by_slug(cond, raw)
            try:
                values[cond.index] = convert_value(cond.spec, cond.op, raw, from_text=True)
            except ValueError:
                raise GatherError(404, f"Nothing matches the argument {cond.argument!r}.",
                                  field=cond.argument) from None
        return values

    async def _tag_by_slug(self, cond: Condition, slug: str) -> str:
        """The id of the live tag ``slug`` in the field's vocabularies (404 unless one)."""
        rows = await self.db.fetch(
            "SELECT t.id FROM category_tag t JOIN category_vocabulary v"
            " ON v.id = t.vocabulary_id WHERE t.slug = %s AND t.stage_id = %s"
            " AND (cardinality(%s::text[]) = 0 OR v.machine_name = ANY(%s::text[]))"
            " ORDER BY t.id LIMIT 2",
            (slug, LIVE, list(cond.spec.bundles), list(cond.spec.bundles)))
        if len(rows) != 1:
            raise GatherError(404, f"No single tag has the slug {slug!r}.",
                              field=cond.argument)
        return str(rows[0]["id"])

    async def run(self, user: CurrentUser, name: str, *, page: int = 0,
                  exposed: Mapping[str, str] | None = None,
                  arguments: Mapping[str, str] | None = None, stage: str = LIVE,
                  per_page: int | None = None, teasers: bool = False) -> GatherResult:
        """One page of the listing ``name`` as ``user`` sees it in ``stage`` (module
        docstring). ``arguments`` are the contextual arguments by name; ``per_page``
        overrides the definition's (the front page's setting); ``teasers`` lets items come
        without their fields when nothing needs them."""
        stored = await self.stored(name)
        definition = stored.definition
        if not user.can(BASE_PERMISSIONS[definition.base]) or not user.can(definition.access):
            raise GatherError(403, "You may not view this listing.")
        if not 0 <= page <= MAX_PAGE:
            raise GatherError(404, "No such page.", field="page")
        resolved, resolution = await self.resolved(stored)
        # Again for what runs: ``gather_alter`` may have changed the base or the access.
        if not user.can(BASE_PERMISSIONS[resolved.base]) or \
                not user.can(resolved.definition.access):
            raise GatherError(403, "You may not view this listing.")
        if resolved.private and not user.can(ADMINISTER_USERS):
            raise GatherError(403, "This listing reads users' mail addresses: you need the "
                                   f"permission {ADMINISTER_USERS!r}.")
        values, used = self.exposed_values(resolved, exposed or {})
        values.update(await self.argument_values(resolved, arguments or {}, user))
        pager = resolved.definition.pager
        size = min(per_page or pager.per_page, MAX_PER_PAGE)
        if pager.type == "none" and page > 0:
            raise GatherError(404, "No such page: this listing has one page.", field="page")
        view = await self.query.view(user, stage)
        items = resolved.base == "item"
        votes = items and self.query.voter.reads_items()
        alters = items and self.taps.listens("gather_result_alter")
        shape = Shape(
            live=view.live, scope=visibility_scope(user), present=frozenset(values),
            teasers=items and teasers and not votes and not alters,
            per_page=size + 1 if pager.type == "mini" else size,
            anonymous=not user.is_authenticated, users_admin=user.can(ADMINISTER_USERS),
        )
        plan = self.plans.get(resolved, stored.version, shape, resolution)
        params = {**stage_params(view), **parameters(
            resolved, shape, values, viewer=user.id, now=datetime.now(UTC))}
        if votes:
            async with self.query.voter.voting(user):
                rows, total = await self._voted(user, resolved, shape, plan, params, page, size,
                                                stage=stage)
            has_next = (page + 1) * size < total
            if page > 0 and not rows.records:
                raise GatherError(404, "No such page.", field="page")
            result = GatherResult(resolved, rows.items, rows.records, page, size,
                                  total if pager.type == "full" else None, has_next, used,
                                  rows.tags)
        else:
            result = await self._cached_page(resolved, stored.version, resolution, shape, plan,
                                             params, page, size, used)
        if alters:
            result = await self._alter(user, result)
        return result

    def tags(self, resolved: Resolved) -> list[str]:
        """The cache tags of a listing (its results and the pages showing them; a page also
        carries its result's ``joined_tags``): a listing matching words (a ``fulltext``
        filter, the ``search`` field) also carries the search's, which a change of the search
        language or weights, and each step of rebuilding the index, drop."""
        tags = [f"gather:{resolved.name}", *(f"item_list:{t}" for t in resolved.types)]
        if any(c.op == "fulltext" for c in resolved.conditions()):  # the search field's too
            tags.append(SEARCH_TAG)
        return tags

    @staticmethod
    def cacheable(resolved: Resolved) -> bool:
        """Whether a listing's results may be cached: an item listing's are dropped by the
        item writes' tags; user and tag listings have no tag that every write of their
        records drops, so they are read each time."""
        return resolved.base == "item"

    async def _cached_page(self, resolved: Resolved, version: int, resolution: int,
                           shape: Shape, plan: Plan, params: dict[str, Any], page: int,
                           size: int, used: dict[str, str]) -> GatherResult:
        base = (resolved.name, version, resolution, shape, _freeze(params))
        cacheable = self.cacheable(resolved)
        found = self.cache.get(("page", base, page)) if cacheable else None
        tags = self.tags(resolved)
        if found is not None:
            return GatherResult(resolved, found[0], found[1], page, size, found[2], found[3],
                                used, found[4])
        generation = self.cache.generation
        pager = resolved.definition.pager.type
        total: int | None = None
        if pager == "full":
            mapped = await self._map(base, plan, params, tags if cacheable else None, size)
            total = mapped.total
            if page > 0 and page * size >= total:
                raise GatherError(404, "No such page.", field="page")
            if page > 0 and plan.after is not None and page - 1 < len(mapped.anchors):
                rows = await self.db.fetch_tuples(plan.after, {
                    **params, **anchor_parameters(mapped.anchors[page - 1])})
            else:
                rows = await self._page(plan, params, page * size)
            has_next = (page + 1) * size < total
        else:
            rows = await self._page(plan, params, page * size)
            has_next = pager == "mini" and len(rows) > size
            rows = rows[:size]
            if page > 0 and not rows:
                raise GatherError(404, "No such page.", field="page")
        read = read_rows(resolved, shape, rows)
        if cacheable:
            self.cache.put(("page", base, page),
                           (read.items, read.records, total, has_next, read.tags),
                           [*tags, *read.tags, *(f"item:{item.id}" for item in read.items)],
                           generation, size=sum(_size(item) for item in read.items)
                           + 256 * len(read.records))
        return GatherResult(resolved, read.items, read.records, page, size, total, has_next,
                            used, read.tags)

    async def _map(self, base: Hashable, plan: Plan, params: dict[str, Any],
                   tags: list[str] | None, size: int) -> _Map:
        """The total and the page anchors (cached under ``tags``; not cached without)."""
        found = self.cache.get(("map", base)) if tags is not None else None
        if isinstance(found, _Map):
            return found
        generation = self.cache.generation
        if plan.map is None:
            rows = await self._rows(plan.count, params)
            mapped = _Map(int(rows[0][0]), ())
        else:
            rows = await self._rows(plan.map, params)
            keys = plan.keys
            mapped = _Map(
                int(rows[0][keys + 1]) if rows else 0,
                tuple(tuple(row[:keys]) for row in rows
                      if row[keys] % size == 0)[:MAX_ANCHORS],
            )
        if tags is not None:
            self.cache.put(("map", base), mapped, tags, generation,
                           size=64 * (len(mapped.anchors) + 1))
        return mapped

    async def _page(self, plan: Plan, params: dict[str, Any], offset: int
                    ) -> list[tuple[Any, ...]]:
        """A page by OFFSET: the first page reads at most LIMIT rows in the sort's order; a
        later one may read every row it skips, so it runs under the guardrail."""
        if offset == 0:
            return await self.db.fetch_tuples(plan.page, {**params, "offset": 0})
        return await self._rows(plan.page, {**params, "offset": offset})

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """One statement under the listing guardrail (:data:`STATEMENT_TIMEOUT_MS`): what may
        read every match (the map, a count, a page by OFFSET) runs in a transaction that
        bounds it."""
        async with self.db.transaction() as conn:
            await conn.execute("SELECT set_config('statement_timeout', %s, true)",
                               (str(STATEMENT_TIMEOUT_MS),))
            cur = await conn.cursor(row_factory=tuple_row).execute(sql, params)
            return await cur.fetchall()

    async def _voted(self, user: CurrentUser, resolved: Resolved, shape: Shape, plan: Plan,
                     params: dict[str, Any], page: int, size: int, *, stage: str
                     ) -> tuple[Rows, int]:
        """Every match voted on in order, ``shape.per_page`` rows (the plan's LIMIT) per
        statement; the page and the total of those that passed. A joined item is voted on
        too: where the reader may not view it its fields are None (or, through a required
        relationship, the row does not pass)."""
        first, visible, offset = page * size, 0, 0
        items: list[Item] = []
        records: list[dict[str, Any]] = []
        tags: list[str] = []
        joined = [r for r in resolved.relationships if r.target == "item"]
        while True:
            rows = await self._rows(plan.page, {**params, "offset": offset})
            read = read_rows(resolved, shape, rows)
            wanted = {ids[r.index] for ids in read.related for r in joined} - {None}
            allowed = {item.id for item in await self.query.load_many(
                user, [w for w in wanted if w is not None], stage=stage)} if wanted else set()
            for item, record, ids in zip(read.items, read.records, read.related, strict=True):
                if not await item_access(user, item, "view", self.query.voter) or \
                        not follow(resolved, joined, record, ids, allowed):
                    continue
                if first <= visible < first + size:
                    items.append(item)
                    records.append(record)
                visible += 1
            tags += read.tags
            if len(rows) < shape.per_page:
                return Rows(items, records, sorted(set(tags)), []), visible
            offset += len(rows)

    async def _alter(self, user: CurrentUser, result: GatherResult) -> GatherResult:
        payload = {"result": {"items": [item.public() for item in result.items],
                              "page": result.page, "per_page": result.per_page,
                              "total": result.total},
                   "query": result.resolved.definition.document()}
        outcome = await self.taps.fire("gather_result_alter", payload,
                                       user=PluginUser.from_current_user(user))
        changed = outcome.value
        if not isinstance(changed, dict):
            return result
        by_id = {str(item.id): (item, record)
                 for item, record in zip(result.items, result.records, strict=True)}
        items, records = result.items, result.records
        if isinstance(changed.get("items"), list):
            wanted = [i.get("id") if isinstance(i, dict) else i for i in changed["items"]]
            kept = [by_id[i] for i in dict.fromkeys(w for w in wanted if isinstance(w, str))
                    if i in by_id]
            items, records = [k[0] for k in kept], [k[1] for k in kept]
        total = result.total
        if isinstance(changed.get("total"), int) and result.total is not None:
            total = max(0, changed["total"])
        return GatherResult(result.resolved, items, records, result.page, result.per_page,
                            total, result.has_next, result.exposed, result.joined_tags)

    async def _indexable(self, field: str) -> str:
        """The expression an index on ``field`` must have to serve Gather's filters and sorts
        (the compiler's own, as PostgreSQL normalises it)."""
        if field == SEARCH_FIELD:
            raise GatherError(422, f"{field!r} matches the site search's words, which the"
                                   " search index every site has serves.", field="field")
        spec = field_specs(await self.types.cached()).get(field)
        if spec is None or spec.key is None:
            raise GatherError(422, f"{field!r} is not a field of an item type (base columns "
                                   "have their own indexes).", field="field")
        if spec.multiple:
            raise GatherError(422, f"{field!r} has several values: its listings use the "
                                   "GIN index of all fields.", field="field")
        cast = _INDEXABLE.get(spec.kind)
        if cast is None:
            raise GatherError(422, f"{field!r} is a {spec.kind}: PostgreSQL cannot index its "
                                   "comparison (the cast depends on session settings).",
                              field="field")
        return f"((fields -> '{spec.key}') ->> '{spec.prop}'){cast}"

    async def create_index(self, user: CurrentUser, field: str) -> str:
        """An expression index for a hot JSONB field, built without locking writes out;
        returns its name."""
        self.require_admin(user)
        expression = await self._indexable(field)
        name = index_name(field)
        await self.db.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON item"
                              f" USING btree (({expression}))")
        return name

    async def drop_index(self, user: CurrentUser, field: str) -> bool:
        """Drop ``field``'s expression index; whether there was one."""
        self.require_admin(user)
        await self._indexable(field)
        name = index_name(field)
        existed = await self.db.fetchval("SELECT to_regclass(%s) IS NOT NULL", (name,))
        await self.db.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        return bool(existed)

    async def statement(self, reader: CurrentUser, name: str, *, stage: str = LIVE,
                        exposed: Mapping[str, str] | None = None, teasers: bool = False
                        ) -> tuple[Plan, dict[str, Any]]:
        """The compiled statements of the listing's pages as ``reader`` reads them in
        ``stage``, and the first page's parameters (what ``explain`` and the benchmarks run)."""
        stored = await self.stored(name)
        resolved, resolution = await self.resolved(stored)
        values, _ = self.exposed_values(resolved, exposed or {})
        view = await self.query.view(reader, stage)
        shape = Shape(live=view.live, scope=visibility_scope(reader),
                      present=frozenset(values), teasers=teasers,
                      per_page=resolved.definition.pager.per_page,
                      anonymous=not reader.is_authenticated)
        plan = self.plans.get(resolved, stored.version, shape, resolution)
        params = {**stage_params(view), **parameters(
            resolved, shape, values, viewer=reader.id, now=datetime.now(UTC)), "offset": 0}
        return plan, params

    async def explain(self, admin: CurrentUser, name: str, *,
                      reader: CurrentUser | None = None, stage: str = LIVE,
                      exposed: Mapping[str, str] | None = None) -> str:
        """PostgreSQL's plan of the listing's first page as ``reader`` (default: the admin
        asking) would read it."""
        self.require_admin(admin)
        plan, params = await self.statement(reader or admin, name, stage=stage,
                                            exposed=exposed)
        return await self._explain(plan, params)

    async def _explain(self, plan: Plan, params: dict[str, Any]) -> str:
        rows = await self._rows(f"EXPLAIN {plan.page}", {**params, "offset": 0})
        return "\n".join(str(row[0]) for row in rows)

    async def preview(self, admin: CurrentUser, document: Any, *, stage: str = LIVE,
                      given: Mapping[str, str] | None = None) -> Preview:
        """The first page of an unsaved definition as ``admin`` reads it, with its compiled
        statement, PostgreSQL's plan of it, the number of matches and the time the reading
        took: what the admin builder shows before anything is saved. Nothing is stored or
        cached; the definition is checked as a save checks it (its display paths aside).
        ``given`` are the exposed filters' and contextual arguments' values by name (the
        others are left out or take their defaults, as on the listing's pages)."""
        self.require_admin(admin)
        resolved = resolve(parse(document), await self.types.cached(), await self.extensions())
        values, _ = self.exposed_values(resolved, given or {})
        values.update(await self.argument_values(resolved, given or {}, admin))
        size = resolved.definition.pager.per_page
        view = await self.query.view(admin, stage)
        shape = Shape(live=view.live, scope=visibility_scope(admin),
                      present=frozenset(values), teasers=False, per_page=size,
                      anonymous=not admin.is_authenticated,
                      users_admin=admin.can(ADMINISTER_USERS))
        plan = compile_plan(resolved, shape)
        params = {**stage_params(view), **parameters(
            resolved, shape, values, viewer=admin.id, now=datetime.now(UTC))}
        started = time.perf_counter()
        items = resolved.base == "item"
        if items and self.query.voter.reads_items():
            async with self.query.voter.voting(admin):
                read, total = await self._voted(admin, resolved, shape, plan, params, 0, size,
                                                stage=stage)
        else:
            read = read_rows(resolved, shape, await self._page(plan, params, 0))
            total = int((await self._rows(plan.count, params))[0][0])
        elapsed = time.perf_counter() - started
        result = GatherResult(resolved, read.items, read.records, 0, size, total, total > size,
                              {}, read.tags)
        if items and self.taps.listens("gather_result_alter"):
            result = await self._alter(admin, result)
        return Preview(result, total, elapsed, plan.page, await self._explain(plan, params))


__all__ = ["MAX_PAGE", "Gather"]
