"""The Gather service: stored definitions (``gather_query``, versioned) and running them.

**Storage.** A definition is one row: its name, label, JSON document and version; every change
bumps the version (the compiled statements are memoised per version) and drops the cache tag
``gather:<name>`` here and in every other process. Managing definitions needs ``administer
gather``.

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
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from psycopg.rows import tuple_row
from pydantic import ValidationError

from trovato.content.access import ACCESS_CONTENT, item_access, visibility_scope
from trovato.content.model import Item
from trovato.content.query import COLUMN_COUNT, ItemQuery, item_from_row
from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.gather.cache import TagCache
from trovato.gather.compiler import (
    SEARCH_INDEX_EXPRESSION,
    Plan,
    Plans,
    Shape,
    anchor_parameters,
    compile_plan,
    parameters,
    record_names,
)
from trovato.gather.definition import (
    MAX_FILTERS,
    MAX_PER_PAGE,
    NO_EXTENSIONS,
    Definition,
    Extensions,
    GatherError,
    PluginFilter,
    PluginSort,
    parse,
)
from trovato.gather.fields import SEARCH_FIELD, field_specs
from trovato.gather.resolution import Condition, Relationship, Resolved, resolve
from trovato.gather.values import convert_value
from trovato.plugins import PluginUser
from trovato.plugins.taps import Taps
from trovato.stages import LIVE, stage_params
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.gather")

ADMINISTER_GATHER: Final = "administer gather"
ADMINISTER_USERS: Final = "administer users"
# What reading each base needs, besides the definition's own ``access``.
BASE_PERMISSIONS: Final[Mapping[str, str]] = {"item": ACCESS_CONTENT,
                                              "user": "access user profiles",
                                              "tag": ACCESS_CONTENT}
FRONT_PAGE: Final = "frontpage"
MAX_PAGE: Final = 100_000
# Pages whose keyset anchor is kept per listing; deeper pages read on by OFFSET from the last.
MAX_ANCHORS: Final = 4000
# The longest a listing's statement that reads every match may run (a guardrail against a
# costly definition; the first page and keyset pages read at most a page in index order).
STATEMENT_TIMEOUT_MS: Final = 5000

_UUID_TEXT: Final = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                               r"[0-9a-fA-F]{12}$")
PATHS_TAG: Final = "gather_paths"
# Paths of the kernel's own routes, which a listing's display cannot take.
RESERVED_PATHS: Final = ("/api", "/item", "/admin", "/user", "/stage", "/install", "/static",
                         "/metrics", "/health", "/favicon", "/tags")

Invalidate = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Stored:
    """One stored definition."""

    definition: Definition
    version: int
    plugin: str | None
    changed: datetime

    @property
    def name(self) -> str:
        return self.definition.name

    def public(self) -> dict[str, Any]:
        """The JSON shape of a stored definition (``/api/v1/gather-definitions``)."""
        return {**self.definition.document(), "version": self.version,
                "plugin": self.plugin, "changed": self.changed.isoformat()}


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A page display's link in the main menu (``displays.page.menu``); ``access`` is the
    listing's permission, which a reader needs to see the link."""

    listing: str
    path: str
    title: str
    weight: int
    access: str


@dataclass(frozen=True, slots=True)
class GatherResult:
    """One page of a listing. ``total`` is None for the mini and none pagers. ``items`` are
    an item listing's items and ``records`` one record per row: for items, the ``fields``
    read through relationships (``{"author.name": …}``, None where the reader may not see
    the joined record); for users and tags, the row's public columns."""

    resolved: Resolved
    items: list[Item]
    records: list[dict[str, Any]]
    page: int
    per_page: int
    total: int | None
    has_next: bool
    exposed: dict[str, str]  # the exposed filters' values as given (for the form and links)
    # The cache tags of the records joined through relationships (``item:<id>``,
    # ``tag:<id>``), which a page showing their fields carries too.
    joined_tags: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.per_page))

    def public(self) -> list[dict[str, Any]]:
        """The rows as the JSON display shows them: items in the shape of ``/api/v1/items``
        (with ``related``, the relationships' fields, when the definition has some), users
        and tags as their records."""
        if self.resolved.base != "item":
            return self.records
        if not self.resolved.related_columns():
            return [item.public() for item in self.items]
        return [{**item.public(), "related": record}
                for item, record in zip(self.items, self.records, strict=True)]


@dataclass(frozen=True, slots=True)
class _Rows:
    """Rows read into what a result holds, with the cache tags of the joined records."""

    items: list[Item]
    records: list[dict[str, Any]]
    tags: list[str]
    related: list[tuple[uuid.UUID | None, ...]]  # each row's joined record ids


_RECORD_TAGS: Final[Mapping[str, str]] = {"item": "item", "tag": "tag"}


def read_rows(resolved: Resolved, shape: Shape, rows: list[tuple[Any, ...]]) -> _Rows:
    """``rows`` of :func:`~trovato.gather.compiler.row_columns` as items and records."""
    names = record_names(resolved, shape)
    joined = len(resolved.relationships)
    related = resolved.related_columns()
    items: list[Item] = []
    records: list[dict[str, Any]] = []
    ids: list[tuple[uuid.UUID | None, ...]] = []
    tags: set[str] = set()
    for row in rows:
        start = COLUMN_COUNT if resolved.base == "item" else len(names)
        if resolved.base == "item":
            items.append(item_from_row(row))
            record: dict[str, Any] = {}
        else:
            record = dict(zip(names, row[:start], strict=True))
        keys = tuple(row[start:start + joined])
        ids.append(keys)
        record.update((spec.name, value) for spec, value
                      in zip(related, row[start + joined:], strict=True))
        records.append(record)
        for relationship, key in zip(resolved.relationships, keys, strict=True):
            kind = _RECORD_TAGS.get(relationship.target)
            if key is not None and kind is not None:
                tags.add(f"{kind}:{key}")
    return _Rows(items, records, sorted(tags), ids)


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


def _follow(resolved: Resolved, joined: list[Relationship], record: dict[str, Any],
            ids: tuple[uuid.UUID | None, ...], allowed: set[uuid.UUID]) -> bool:
    """Blank the fields of ``record`` read through an item relationship whose item the
    reader may not view (in place); False when such a relationship is required."""
    for relationship in joined:
        key = ids[relationship.index]
        if key is None or key in allowed:
            continue
        if relationship.required:
            return False
        for spec in resolved.related_columns():
            if spec.relation == relationship.index:
                record[spec.name] = None
    return True


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


class Gather:
    def __init__(self, db: Database, query: ItemQuery, types: ItemTypes, taps: Taps, *,
                 cache: TagCache | None = None, invalidate: Invalidate | None = None) -> None:
        self.db = db
        self.query = query
        self.types = types
        self.taps = taps
        self.cache = cache if cache is not None else TagCache()
        self.plans = Plans()
        # Drops tags here and in every other process (the kernel's page-cache invalidation,
        # which this process's cache also hears).
        self.invalidate = invalidate
        self._resolved: dict[tuple[str, int], tuple[object, Extensions, Resolved]] = {}
        self._extensions: tuple[tuple[str, ...], Extensions] | None = None

    # -- storage --------------------------------------------------------------------------------

    @staticmethod
    def require_admin(user: CurrentUser) -> None:
        if not user.can(ADMINISTER_GATHER):
            raise GatherError(403, f"You need the permission {ADMINISTER_GATHER!r}.")

    async def all(self, user: CurrentUser) -> list[Stored]:
        self.require_admin(user)
        rows = await self.db.fetch("SELECT * FROM gather_query ORDER BY name")
        return [self._stored(row) for row in rows]

    async def get(self, user: CurrentUser, name: str) -> Stored:
        self.require_admin(user)
        return await self.stored(name)

    async def stored(self, name: str) -> Stored:
        """The definition ``name`` (cached until it changes); 404 when there is none."""
        key = ("definition", name)
        found = self.cache.get(key)
        if isinstance(found, Stored):
            return found
        generation = self.cache.generation
        row = await self.db.fetchrow("SELECT * FROM gather_query WHERE name = %s", (name,))
        if row is None:
            raise GatherError(404, f"There is no Gather listing {name!r}.")
        stored = self._stored(row)
        self.cache.put(key, stored, [f"gather:{name}"], generation)
        return stored

    @staticmethod
    def _stored(row: Mapping[str, Any]) -> Stored:
        document = {**row["definition"], "name": row["name"], "label": row["label"]}
        return Stored(parse(document), row["version"], row["plugin"], row["changed"])

    async def _checked(self, document: Any) -> Definition:
        definition = parse(document)
        resolve(definition, await self.types.cached(), await self.extensions())
        await self._check_paths(definition)
        return definition

    async def create(self, user: CurrentUser, document: Any) -> Stored:
        self.require_admin(user)
        definition = await self._checked(document)
        row = await self.db.fetchrow(
            "INSERT INTO gather_query (name, label, definition) VALUES (%s, %s, %s)"
            " ON CONFLICT (name) DO NOTHING RETURNING *",
            (definition.name, definition.label, json.dumps(definition.document())))
        if row is None:
            raise GatherError(409, f"A Gather listing named {definition.name!r} exists.",
                              field="name")
        await self._changed(definition.name)
        return self._stored(row)

    async def put(self, user: CurrentUser, name: str, document: Any) -> Stored:
        """Replace ``name``'s definition (its version goes up), or create it."""
        self.require_admin(user)
        if isinstance(document, dict) and document.get("name", name) != name:
            raise GatherError(409, "The definition's name must be the one in the path.",
                              field="name")
        definition = await self._checked({**document, "name": name}
                                         if isinstance(document, dict) else document)
        row = await self.db.fetchrow(
            "INSERT INTO gather_query (name, label, definition) VALUES (%s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET label = EXCLUDED.label,"
            " definition = EXCLUDED.definition, version = gather_query.version + 1,"
            " changed = now() RETURNING *",
            (definition.name, definition.label, json.dumps(definition.document())))
        assert row is not None
        await self._changed(name)
        return self._stored(row)

    async def delete(self, user: CurrentUser, name: str) -> None:
        self.require_admin(user)
        if name == FRONT_PAGE:
            raise GatherError(409, "The front page listing can be changed but not deleted.")
        if not await self.db.execute("DELETE FROM gather_query WHERE name = %s", (name,)):
            raise GatherError(404, f"There is no Gather listing {name!r}.")
        await self._changed(name)

    async def paths(self) -> dict[str, tuple[str, str]]:
        """Each page and feed display's path → (listing name, ``page`` or ``feed``), cached
        until a definition changes."""
        found = self.cache.get(("paths",))
        if isinstance(found, dict):
            return found
        generation = self.cache.generation
        rows = await self.db.fetch(
            "SELECT name, definition->'displays' AS displays FROM gather_query ORDER BY name")
        index: dict[str, tuple[str, str]] = {}
        for row in rows:
            displays = row["displays"] if isinstance(row["displays"], dict) else {}
            for kind in ("page", "feed"):
                shown = displays.get(kind)
                path = shown.get("path") if isinstance(shown, dict) else None
                if isinstance(path, str):
                    index.setdefault(path.rstrip("/") or "/", (row["name"], kind))
        self.cache.put(("paths",), index, [PATHS_TAG], generation)
        return index

    async def with_display(self, kind: str) -> list[Stored]:
        """Every listing having the display ``kind`` (``page``, ``tile``…), by name; uncached
        (the admin screens, and the tile service, which keeps what it needs)."""
        rows = await self.db.fetch("SELECT * FROM gather_query WHERE definition->'displays' ? %s"
                                   " ORDER BY name", (kind,))
        return [self._stored(row) for row in rows]

    async def menu_entries(self) -> list[MenuEntry]:
        """Every page display's menu link, lightest first (uncached: the tile service keeps
        them with the rest of a page's furniture, dropped by :data:`PATHS_TAG`)."""
        entries = []
        for stored in await self.with_display("page"):
            definition = stored.definition
            page = definition.displays.page
            if page is not None and page.menu is not None:
                entries.append(MenuEntry(definition.name, page.path, page.menu.title,
                                         page.menu.weight, definition.access))
        return sorted(entries, key=lambda e: (e.weight, e.title.casefold(), e.listing))

    async def match_path(self, path: str) -> tuple[str, str, dict[str, str]] | None:
        """The listing display at ``path``: (listing, ``page`` or ``feed``, the arguments its
        ``{placeholders}`` took), a path without placeholders first."""
        index = await self.paths()
        path = path.rstrip("/") or "/"
        found = index.get(path)
        if found is not None:
            return found[0], found[1], {}
        segments = path.split("/")
        for template, (name, kind) in index.items():
            if "{" not in template:
                continue
            parts = template.split("/")
            if len(parts) != len(segments):
                continue
            arguments: dict[str, str] = {}
            for part, segment in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    if not segment:
                        break
                    arguments[part[1:-1]] = segment
                elif part != segment:
                    break
            else:
                return name, kind, arguments
        return None

    async def _check_paths(self, definition: Definition) -> None:
        """A display's path must be free: not a kernel path, not another listing's."""
        taken = await self.paths()
        errors: dict[str, str] = {}
        for kind in ("page", "feed"):
            shown = getattr(definition.displays, kind)
            if shown is None:
                continue
            path = shown.path.rstrip("/") or "/"
            owner = taken.get(path)
            if path.startswith(RESERVED_PATHS) or (path == "/" and definition.name != FRONT_PAGE):
                errors[f"displays.{kind}.path"] = f"{path!r} is one of the site's own paths"
            elif owner is not None and owner[0] != definition.name:
                errors[f"displays.{kind}.path"] = f"{path!r} is the listing {owner[0]!r}'s"
        if errors:
            first = next(iter(errors.items()))
            raise GatherError(409, f"{first[0]}: {first[1]}.", errors=errors)

    async def _changed(self, name: str) -> None:
        tags = [f"gather:{name}", PATHS_TAG]
        self.cache.drop(tags)
        if self.invalidate is not None:
            await self.invalidate(tags)

    # -- running --------------------------------------------------------------------------------

    async def extensions(self) -> Extensions:
        """The enabled plugins' filters and sorts (``gather_info``), by ``<plugin>.<name>``;
        asked again when the plugins implementing the tap change. An entry that is not a
        :class:`PluginFilter` or :class:`PluginSort` (anything but a definition's own
        filters and sorts) is logged and left out, naming the plugin."""
        if not self.taps.listens("gather_info"):
            return NO_EXTENSIONS
        implementers = self.taps.implementers("gather_info")
        if self._extensions is not None and self._extensions[0] == implementers:
            return self._extensions[1]
        outcome = await self.taps.fire("gather_info")
        filters: dict[str, PluginFilter] = {}
        sorts: dict[str, PluginSort] = {}
        for reply in outcome.replies:
            value = reply.value if isinstance(reply.value, dict) else {}
            for kind, model, found in (("filters", PluginFilter, filters),
                                       ("sorts", PluginSort, sorts)):
                entries = value.get(kind)
                for n, entry in enumerate(entries[:MAX_FILTERS]
                                          if isinstance(entries, list) else []):
                    try:
                        parsed = model.model_validate(entry)
                    except ValidationError as exc:
                        log.warning("gather_info: %s: %s.%d refused: %s", reply.plugin, kind,
                                    n, exc.errors(include_url=False)[0]["msg"])
                        continue
                    found[f"{reply.plugin}.{parsed.name}"] = parsed  # type: ignore[assignment]
        extensions = Extensions(filters, sorts)
        self._extensions = (implementers, extensions)
        return extensions

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
        carries its result's ``joined_tags``)."""
        return [f"gather:{resolved.name}", *(f"item_list:{t}" for t in resolved.types)]

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
                     ) -> tuple[_Rows, int]:
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
                        not _follow(resolved, joined, record, ids, allowed):
                    continue
                if first <= visible < first + size:
                    items.append(item)
                    records.append(record)
                visible += 1
            tags += read.tags
            if len(rows) < shape.per_page:
                return _Rows(items, records, sorted(set(tags)), []), visible
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
            return SEARCH_INDEX_EXPRESSION
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
        """An expression index for a hot JSONB field, or for ``search`` a GIN index of every
        item's words (the ``fulltext`` document); built without locking writes out; returns
        its name."""
        self.require_admin(user)
        expression = await self._indexable(field)
        name = index_name(field)
        method = "gin" if field == SEARCH_FIELD else "btree"
        await self.db.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON item"
                              f" USING {method} (({expression}))")
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


@dataclass(frozen=True, slots=True)
class Preview:
    """An unsaved definition's first page (:meth:`Gather.preview`): ``total`` matches the
    reader may see, found in ``seconds``; ``sql`` is the compiled page statement (its values
    bound parameters) and ``plan`` PostgreSQL's plan of it."""

    result: GatherResult
    total: int
    seconds: float
    sql: str
    plan: str


__all__ = ["ADMINISTER_GATHER", "FRONT_PAGE", "PATHS_TAG", "Gather", "GatherResult", "MenuEntry",
           "Preview", "Stored"]
