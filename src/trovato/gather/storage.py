"""Stored Gather definitions (``gather_query``, versioned): managing them, the paths and menu
links of their displays, and the plugins' filters and sorts a definition may use.

A definition is one row: its name, label, JSON document and version; every change bumps the
version (the compiled statements are memoised per version) and drops the cache tag
``gather:<name>`` here and in every other process. Managing definitions needs ``administer
gather``. :class:`~trovato.gather.service.Gather` runs what :class:`Definitions` stores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError

from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.gather.cache import TagCache
from trovato.gather.definition import (
    MAX_FILTERS,
    NO_EXTENSIONS,
    Definition,
    Extensions,
    GatherError,
    PluginFilter,
    PluginSort,
    parse,
)
from trovato.gather.resolution import resolve
from trovato.plugins.taps import Taps
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.gather")

ADMINISTER_GATHER: Final = "administer gather"
FRONT_PAGE: Final = "frontpage"
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


class Definitions:
    """The stored definitions and what checking one needs (the item types, the plugins'
    filters and sorts, the paths other listings hold)."""

    def __init__(self, db: Database, types: ItemTypes, taps: Taps, *,
                 cache: TagCache | None = None, invalidate: Invalidate | None = None) -> None:
        self.db = db
        self.types = types
        self.taps = taps
        self.cache = cache if cache is not None else TagCache()
        # Drops tags here and in every other process (the kernel's page-cache invalidation,
        # which this process's cache also hears).
        self.invalidate = invalidate
        self._extensions: tuple[tuple[str, ...], Extensions] | None = None


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


__all__ = ["ADMINISTER_GATHER", "FRONT_PAGE", "PATHS_TAG", "Definitions", "MenuEntry", "Stored"]
