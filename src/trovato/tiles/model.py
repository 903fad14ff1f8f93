"""A tile placement and its visibility rules, and the document the admin screens send.

A placement (a row of ``tile``) says which *source* fills the tile — ``gather:<listing>`` (the
listing's tile display) or ``plugin:<plugin>:<tile>`` (a tile the plugin declares with
``tile_info`` and renders with ``tile_view``) — in which slot, at which weight, under which
title (empty: the source's own), and where it shows (:class:`Visibility`).

Path patterns are globs where ``*`` stands for any run of characters (``/blog/*``). They are
matched by :func:`path_matches` with plain string operations, never a regular expression built
from the pattern: each literal piece is found left to right once, so a match costs time linear
in the path whatever the administrator typed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trovato.errors import ServiceError

ADMINISTER_TILES: Final = "administer tiles"
GATHER_SOURCE: Final = "gather"
PLUGIN_SOURCE: Final = "plugin"
MAX_PATTERNS: Final = 50
NAME_PATTERN: Final = "^[a-z][a-z0-9_]*$"
# A path pattern: a slash, then printable ASCII without spaces (``*`` is the wildcard).
PATH_GLOB: Final = r"^/[!-~]{0,254}$"
# What a typed pattern may look like (a fixed expression: matching never builds one).
_GLOB_SHAPE: Final = re.compile(PATH_GLOB)
SOURCE_PATTERN: Final = r"^(?:gather:[a-z][a-z0-9_]*|plugin:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*)$"


class TileError(ServiceError):
    """A refused tile operation (bad placement 422, unknown placement 404, no permission 403)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Visibility(_Strict):
    """Where a tile shows. ``paths``: only on pages matching one of these (none: every page);
    ``hidden_paths``: never on pages matching one of these; ``roles``: only to readers having
    one of these roles (none: everyone); ``stages``: only while reading one of these stages
    (none: every stage)."""

    paths: tuple[str, ...] = Field(default=(), max_length=MAX_PATTERNS)
    hidden_paths: tuple[str, ...] = Field(default=(), max_length=MAX_PATTERNS)
    roles: tuple[uuid.UUID, ...] = Field(default=(), max_length=MAX_PATTERNS)
    stages: tuple[str, ...] = Field(default=(), max_length=MAX_PATTERNS)

    def shows(self, path: str, roles: frozenset[uuid.UUID], stage: str) -> bool:
        path = path.rstrip("/") or "/"
        if self.stages and stage not in self.stages:
            return False
        if self.roles and roles.isdisjoint(self.roles):
            return False
        if self.paths and not any(path_matches(p, path) for p in self.paths):
            return False
        return not any(path_matches(p, path) for p in self.hidden_paths)


def path_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the glob ``pattern`` (``*``: any run of characters, ``/``
    included; a trailing slash is ignored on both). Linear in the path (module docstring)."""
    pattern = pattern.rstrip("/") or "/"
    first, *rest = pattern.split("*")
    if not rest:
        return pattern == path
    *middle, last = rest
    if len(path) < len(first) + len(last) or not path.startswith(first) \
            or not path.endswith(last):
        return False
    position, end = len(first), len(path) - len(last)
    for piece in middle:
        # The leftmost place of each piece leaves the most room for the ones after it.
        found = path.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


class PlacementDef(_Strict):
    """What the admin screens (and a test or an import) send to place or change a tile."""

    source: str = Field(max_length=200, pattern=SOURCE_PATTERN)
    slot: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    weight: int = Field(default=0, ge=-1000, le=1000)
    enabled: bool = True
    title: str = Field(default="", max_length=255)
    visibility: Visibility = Field(default_factory=Visibility)
    settings: dict[str, Any] = Field(default_factory=dict)


# A local path a menu link may point to: a slash, not two, then printable ASCII.
LINK_PATH: Final = r"^/(?:[!-.0-~][!-~]{0,253})?$"


class MenuLinkDef(_Strict):
    """An administrator's link in the main menu: shown, lightest first, to readers holding
    ``permission``."""

    title: str = Field(min_length=1, max_length=255)
    path: str = Field(max_length=255, pattern=LINK_PATH)
    weight: int = Field(default=0, ge=-1000, le=1000)
    permission: str = Field(default="access content", min_length=1, max_length=128)


def parse_link(document: Any) -> MenuLinkDef:
    """``document`` as a :class:`MenuLinkDef`, or :class:`TileError` 422 naming each part."""
    try:
        return MenuLinkDef.model_validate(document)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in err["loc"]) or "link":
                  "unknown property" if err["type"] == "extra_forbidden" else err["msg"]
                  for err in exc.errors()}
        first = next(iter(errors.items()))
        raise TileError(422, f"Invalid menu link: {first[0]}: {first[1]}.",
                        errors=errors) from None


@dataclass(frozen=True, slots=True)
class MenuLink:
    """One stored main-menu link (``menu_link``, menu ``main``)."""

    id: uuid.UUID
    title: str
    path: str
    weight: int
    permission: str


def _glob_errors(patterns: Sequence[str], where: str) -> dict[str, str]:
    return {f"{where}.{n}": "must start with / and hold no spaces (at most 255 characters)"
            for n, pattern in enumerate(patterns) if not _GLOB_SHAPE.match(pattern)}


def parse(document: Any) -> PlacementDef:
    """``document`` as a :class:`PlacementDef`, or :class:`TileError` 422 naming each bad
    part (``visibility.paths.1``)."""
    try:
        placed = PlacementDef.model_validate(document)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "placement"
            errors.setdefault(key, "unknown property" if err["type"] == "extra_forbidden"
                              else err["msg"])
        first = next(iter(errors.items()))
        raise TileError(422, f"Invalid tile placement: {first[0]}: {first[1]}.",
                        errors=errors) from None
    errors = {**_glob_errors(placed.visibility.paths, "visibility.paths"),
              **_glob_errors(placed.visibility.hidden_paths, "visibility.hidden_paths")}
    if errors:
        first = next(iter(errors.items()))
        raise TileError(422, f"Invalid tile placement: {first[0]}: {first[1]}.",
                        errors=errors)
    return placed


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed source: ``kind`` gather (``name`` a listing) or plugin (``plugin``'s tile
    ``name``)."""

    kind: str
    name: str
    plugin: str = ""

    @classmethod
    def of(cls, text: str) -> Source:
        kind, _, rest = text.partition(":")
        if kind == PLUGIN_SOURCE:
            plugin, _, name = rest.partition(":")
            return cls(kind, name, plugin)
        return cls(kind, rest)


@dataclass(frozen=True, slots=True)
class Placement:
    """One stored placement (module docstring)."""

    id: uuid.UUID
    source: str
    slot: str
    weight: int
    enabled: bool
    title: str
    visibility: Visibility
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def parsed(self) -> Source:
        return Source.of(self.source)

    def document(self) -> dict[str, Any]:
        """The JSON shape of a placement (what the forms edit and an export holds)."""
        return {"id": str(self.id), "source": self.source, "slot": self.slot,
                "weight": self.weight, "enabled": self.enabled, "title": self.title,
                "visibility": self.visibility.model_dump(mode="json"),
                "settings": self.settings}
