"""The tile service: placements stored in ``tile`` (managed with ``administer tiles``) and what
each page shows in its slots.

**Storage.** A placement is checked (:func:`~trovato.tiles.model.parse`) and its source must
exist: a Gather listing with a tile display, or a tile a plugin declares (``tile_info``); its
slot must be one of the theme's slots but ``content`` (which the page's own content fills).
Every change drops the cache tag ``tiles`` here and, through the kernel's invalidation, in every
process and on every cached page.

**A page's tiles** (:meth:`Tiles.page`). What a page needs — the enabled placements and the
Gather page displays' menu links — is one cached entry (the *furniture*, in Gather's
tag-invalidated cache under ``tiles`` and ``gather_paths``), so a site without tiles pays one
dictionary lookup per page. Each placement visible on the path, to the reader's roles and in
the stage is then built as a render tree:

* a Gather tile runs the listing as the reader in the stage (its access check, and every item
  through the one read path: a tile never shows what the reader may not see; its results come
  from Gather's cache). A listing the reader may not see, or with nothing to show, leaves no
  tile; the page carries the listing's cache tags so an item write drops cached pages showing
  it.
* a plugin tile is ``tile_view`` sent to its plugin only; the tree it returns is rendered as
  untrusted (sanitized) and a failing plugin leaves no tile (fail open).

The main menu (the ``navigation`` slot) lists the page displays' menu links whose listing the
reader may see and the administrators' links (``menu_link``, menu ``main``) whose permission
the reader holds, lightest first.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from trovato.content.access import ACCESS_CONTENT
from trovato.gather import Gather, GatherError
from trovato.gather.cache import TagCache
from trovato.gather.storage import PATHS_TAG
from trovato.plugins import PluginUser
from trovato.plugins.taps import Taps
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.tiles.model import (
    ADMINISTER_TILES,
    GATHER_SOURCE,
    PLUGIN_SOURCE,
    MenuLink,
    Placement,
    PlacementDef,
    Source,
    TileError,
    Visibility,
    parse,
    parse_link,
)
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.tiles")

TILES_TAG: Final = "tiles"
# What every page showing the site's furniture carries: a placement or a menu link changing
# drops it.
FURNITURE_TAGS: Final = (TILES_TAG, PATHS_TAG)
CONTENT_SLOT: Final = "content"
NAVIGATION_SLOT: Final = "navigation"
_FURNITURE_KEY: Final = ("tiles", "furniture")

Invalidate = Callable[[list[str]], Awaitable[None]]


MAIN_MENU: Final = "main"


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A link of the main menu and the permission a reader needs to see it (a listing's, or
    the one an administrator gave their link)."""

    title: str
    path: str
    weight: int
    permission: str


@dataclass(frozen=True, slots=True)
class Furniture:
    """What every page consults: the enabled placements (by slot, weight) and the main menu
    (the listings' links and the administrators', lightest first)."""

    placements: tuple[Placement, ...]
    menu: tuple[MenuItem, ...]


@dataclass(frozen=True, slots=True)
class ShownTile:
    """One tile of a page: its slot, its tree, and how to render it (``trusted`` False and
    ``source`` ``plugin:<name>`` for a plugin's tree, which is sanitized)."""

    slot: str
    tree: RenderElement
    source: str = "kernel"
    trusted: bool = True


@dataclass(frozen=True, slots=True)
class PageTiles:
    """A page's tiles in slot and weight order, and the cache tags of what they show."""

    tiles: tuple[ShownTile, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SourceOption:
    """A source an administrator may place: its source text and a label naming it."""

    source: str
    label: str


def _link(row: Mapping[str, Any]) -> MenuLink:
    return MenuLink(row["id"], row["title"], row["path"], row["weight"],
                    str((row["data"] or {}).get("permission") or "access content"))


def _placement(row: Mapping[str, Any]) -> Placement:
    return Placement(row["id"], row["source"], row["slot"], row["weight"], row["status"],
                     row["title"], Visibility.model_validate(row["visibility"]),
                     dict(row["settings"] or {}))


class Tiles:
    def __init__(self, gather: Gather, taps: Taps, slots: Iterable[str], *,
                 cache: TagCache | None = None, invalidate: Invalidate | None = None) -> None:
        self.gather = gather
        self.db = gather.db
        self.taps = taps
        self.slots = tuple(s for s in slots if s != CONTENT_SLOT)
        self.cache = cache if cache is not None else gather.cache
        # Drops tags here, in every other process and on cached pages (the kernel's).
        self.invalidate = invalidate

    # -- storage --------------------------------------------------------------------------------

    @staticmethod
    def require_admin(user: CurrentUser) -> None:
        if not user.can(ADMINISTER_TILES):
            raise TileError(403, f"You need the permission {ADMINISTER_TILES!r}.")

    async def all(self, user: CurrentUser) -> list[Placement]:
        self.require_admin(user)
        rows = await self.db.fetch("SELECT * FROM tile ORDER BY slot, weight, id")
        return [_placement(row) for row in rows]

    async def get(self, user: CurrentUser, placement_id: str | uuid.UUID) -> Placement:
        self.require_admin(user)
        try:
            key = uuid.UUID(str(placement_id))
        except ValueError:
            raise TileError(404, "There is no such tile.") from None
        row = await self.db.fetchrow("SELECT * FROM tile WHERE id = %s", (key,))
        if row is None:
            raise TileError(404, "There is no such tile.")
        return _placement(row)

    async def sources(self, user: CurrentUser) -> list[SourceOption]:
        """Every source that may be placed: the listings' tile displays, the plugins' tiles."""
        self.require_admin(user)
        options = [SourceOption(f"{GATHER_SOURCE}:{s.name}", f"Listing: {s.definition.label}")
                   for s in await self.gather.with_display("tile")]
        outcome = await self.taps.fire("tile_info", user=PluginUser.from_current_user(user))
        for reply in outcome.replies:
            for declared in reply.value or ():
                options.append(SourceOption(f"{PLUGIN_SOURCE}:{reply.plugin}:{declared['name']}",
                                            f"{reply.plugin}: {declared['title']}"))
        return options

    async def _checked(self, user: CurrentUser, document: Any) -> PlacementDef:
        placed = parse(document)
        errors: dict[str, str] = {}
        if placed.slot not in self.slots:
            errors["slot"] = f"must be one of the theme's slots: {', '.join(self.slots)}"
        if placed.source not in {o.source for o in await self.sources(user)}:
            errors["source"] = (f"{placed.source!r} is neither a listing with a tile display"
                                " nor a tile an enabled plugin declares")
        if errors:
            first = next(iter(errors.items()))
            raise TileError(422, f"Invalid tile placement: {first[0]}: {first[1]}.",
                            errors=errors)
        return placed

    @staticmethod
    def _values(placed: PlacementDef) -> tuple[Any, ...]:
        return (placed.source, placed.slot, placed.weight, placed.enabled, placed.title,
                json.dumps(placed.visibility.model_dump(mode="json")),
                json.dumps(placed.settings))

    async def create(self, user: CurrentUser, document: Any) -> Placement:
        self.require_admin(user)
        placed = await self._checked(user, document)
        row = await self.db.fetchrow(
            "INSERT INTO tile (source, slot, weight, status, title, visibility, settings)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *", self._values(placed))
        assert row is not None
        await self._changed()
        return _placement(row)

    async def update(self, user: CurrentUser, placement_id: str | uuid.UUID,
                     document: Any) -> Placement:
        current = await self.get(user, placement_id)
        placed = await self._checked(user, document)
        row = await self.db.fetchrow(
            "UPDATE tile SET source = %s, slot = %s, weight = %s, status = %s, title = %s,"
            " visibility = %s, settings = %s, changed = now() WHERE id = %s RETURNING *",
            (*self._values(placed), current.id))
        if row is None:  # deleted meanwhile
            raise TileError(404, "There is no such tile.")
        await self._changed()
        return _placement(row)

    async def delete(self, user: CurrentUser, placement_id: str | uuid.UUID) -> None:
        current = await self.get(user, placement_id)
        await self.db.execute("DELETE FROM tile WHERE id = %s", (current.id,))
        await self._changed()

    async def links(self, user: CurrentUser) -> list[MenuLink]:
        """The administrators' main-menu links, lightest first."""
        self.require_admin(user)
        rows = await self.db.fetch(
            "SELECT * FROM menu_link WHERE menu_name = %s ORDER BY weight, title, id",
            (MAIN_MENU,))
        return [_link(row) for row in rows]

    async def add_link(self, user: CurrentUser, document: Any) -> MenuLink:
        self.require_admin(user)
        link = parse_link(document)
        row = await self.db.fetchrow(
            "INSERT INTO menu_link (menu_name, title, path, weight, data)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING *",
            (MAIN_MENU, link.title, link.path, link.weight,
             json.dumps({"permission": link.permission})))
        assert row is not None
        await self._changed()
        return _link(row)

    async def link(self, user: CurrentUser, link_id: str | uuid.UUID) -> MenuLink:
        self.require_admin(user)
        try:
            key = uuid.UUID(str(link_id))
        except ValueError:
            raise TileError(404, "There is no such menu link.") from None
        row = await self.db.fetchrow("SELECT * FROM menu_link WHERE id = %s AND menu_name = %s",
                                     (key, MAIN_MENU))
        if row is None:
            raise TileError(404, "There is no such menu link.")
        return _link(row)

    async def delete_link(self, user: CurrentUser, link_id: str | uuid.UUID) -> None:
        found = await self.link(user, link_id)
        await self.db.execute("DELETE FROM menu_link WHERE id = %s", (found.id,))
        await self._changed()

    async def _changed(self) -> None:
        if self.invalidate is not None:
            await self.invalidate([TILES_TAG])
        else:
            self.cache.drop([TILES_TAG])

    # -- pages ----------------------------------------------------------------------------------

    async def furniture(self) -> Furniture:
        """The enabled placements and the menu links (module docstring), cached."""
        found = self.cache.get(_FURNITURE_KEY)
        if isinstance(found, Furniture):
            return found
        generation = self.cache.generation
        rows = await self.db.fetch("SELECT * FROM tile WHERE status ORDER BY slot, weight, id")
        links = await self.db.fetch(
            "SELECT * FROM menu_link WHERE menu_name = %s AND enabled", (MAIN_MENU,))
        menu = [MenuItem(e.title, e.path, e.weight, e.access)
                for e in await self.gather.menu_entries()]
        menu += [MenuItem(link.title, link.path, link.weight, link.permission)
                 for link in map(_link, links)]
        menu.sort(key=lambda m: (m.weight, m.title.casefold(), m.path))
        furniture = Furniture(tuple(_placement(row) for row in rows), tuple(menu))
        self.cache.put(_FURNITURE_KEY, furniture, FURNITURE_TAGS, generation,
                       size=512 * (len(furniture.placements) + len(furniture.menu)))
        return furniture

    async def page(self, user: CurrentUser, path: str, stage: str) -> PageTiles:
        """The tiles ``user`` sees on ``path`` in ``stage`` (module docstring)."""
        furniture = await self.furniture()
        if not furniture.placements and not furniture.menu:
            return _NOTHING
        shown: list[ShownTile] = []
        tags: list[str] = [*FURNITURE_TAGS]
        menu = [el.link(entry.title, entry.path) for entry in furniture.menu
                if user.can(ACCESS_CONTENT) and user.can(entry.permission)]
        if menu:
            shown.append(ShownTile(NAVIGATION_SLOT, el.item_list(
                menu, attributes={"class": "menu menu--main"})))
        for placement in furniture.placements:
            if placement.slot not in self.slots or \
                    not placement.visibility.shows(path, user.roles, stage):
                continue
            source = placement.parsed
            if source.kind == GATHER_SOURCE:
                tile = await self._gather_tile(user, placement, source, stage, tags)
            else:
                tile = await self._plugin_tile(user, placement, source)
            if tile is not None:
                shown.append(tile)
        return PageTiles(tuple(shown), tuple(dict.fromkeys(tags)))

    async def _gather_tile(self, user: CurrentUser, placement: Placement, source: Source,
                           stage: str, tags: list[str]) -> ShownTile | None:
        try:
            stored = await self.gather.stored(source.name)
            display = stored.definition.displays.tile
            if display is None:
                return None
            result = await self.gather.run(user, source.name, stage=stage,
                                           per_page=display.per_page, teasers=True)
        except GatherError as exc:
            if exc.status != 403:  # a reader without access simply sees no tile
                log.warning("gather tile %s not shown: %s", source.name, exc.message)
            return None
        tags.extend(self.gather.tags(result.resolved))
        definition = stored.definition
        if result.items:
            body = el.item_list([el.link(item.title, f"/item/{item.id}")
                                 for item in result.items], ordered=display.style == "ordered")
        elif definition.empty_text:
            body = el.markup(definition.empty_text, tag="p")
        else:
            return None
        children: dict[str, RenderElement] = {"items": {**body, "#weight": 1}}
        page = definition.displays.page
        title = placement.title or display.title or definition.label
        if page is not None and "{" not in page.path and result.items:
            # "More" alone says nothing in a screen reader's list of links: name the listing.
            children["more"] = el.link("More", page.path, weight=2, attributes={
                "class": "tile__more", "aria-label": f"More: {title}"})
        return ShownTile(placement.slot, self._frame(placement, title, children,
                                                     f"tile--{source.name}"))

    async def _plugin_tile(self, user: CurrentUser, placement: Placement,
                           source: Source) -> ShownTile | None:
        outcome = await self.taps.fire(
            "tile_view", {"tile": source.name, "settings": placement.settings},
            user=PluginUser.from_current_user(user), plugins=[source.plugin])
        for failure in outcome.failures:
            log.warning("plugin tile %s not shown: %s", placement.source, failure)
        if not isinstance(outcome.value, dict):
            return None
        tree = self._frame(placement, placement.title, {"body": {**outcome.value, "#weight": 1}},
                           f"tile--{source.plugin}-{source.name}")
        return ShownTile(placement.slot, tree, f"plugin:{source.plugin}", trusted=False)

    @staticmethod
    def _frame(placement: Placement, title: str, children: dict[str, RenderElement],
               modifier: str) -> RenderElement:
        """A tile's box: a section with its heading (escaped text) and its content."""
        if title:
            children = {"title": el.markup(title, tag="h2", attributes={"class": "tile__title"}),
                        **children}
        return el.container(children, tag="section", weight=placement.weight,
                            attributes={"class": f"tile {modifier}"})


_NOTHING: Final = PageTiles((), FURNITURE_TAGS)
