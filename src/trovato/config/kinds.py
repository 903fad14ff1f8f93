"""Each kind of configuration: its folder, how its objects read as documents, and how a
document is created, updated or deleted through the kind's service.

A kind's objects are named by their machine name (an item type's ``type``, a vocabulary's or a
stage's ``id``, a listing's or a role's ``name``), never by a database id that differs between
sites; references between them use those names too (a tile's roles and stages, a stage's
roles). A tile placement has no name of its own: it is named by its slot and source
(``sidebar.gather_recent``, ``_2`` for the next placement of the same source in the slot), and
that name is its file's. The main menu is one object (``menus/main.yaml``) holding its links,
and the site settings another (``settings/site.yaml``).

Objects a plugin owns (its item types and listings) are the plugin's configuration, written
again whenever it is enabled: they are neither exported nor deleted here. Tags are content,
not configuration (as Drupal keeps terms out of its configuration): vocabularies travel here,
their tags with ``trovato categories export|import``.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from trovato.config.files import ConfigError, file_stem, unique_stems
from trovato.config.site import Site
from trovato.files.styles import StyleError, parse_style, parse_styles
from trovato.gather import FRONT_PAGE
from trovato.search import SearchError
from trovato.stages import LIVE, OPEN
from trovato.tiles.model import MenuLinkDef, TileError, parse_link
from trovato.users.registration import registration, set_registration

Document = dict[str, Any]

MENU: Final = "main"
SETTINGS: Final = "site"


def _only(file: str, document: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(document) - set(allowed))
    if unknown:
        raise ConfigError(file, "has unknown properties",
                          errors={key: "unknown property" for key in unknown})


def _text(file: str, document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(file, f"needs its '{key}'", errors={key: "is required (a string)"})
    return value


class Kind(ABC):
    """One kind of configuration (module docstring). ``current`` reads the site's objects;
    ``name_of`` says which object a file is; ``write`` creates or updates one, ``remove``
    deletes one (``content`` allowing deletes that delete content with it)."""

    folder: ClassVar[str]
    # Objects that are never created nor deleted (the menu, the settings): only updated.
    fixed: ClassVar[bool] = False

    @abstractmethod
    async def current(self, site: Site) -> dict[str, Document]:
        """The site's objects of this kind by name, as their files hold them."""

    def stems(self, names: Sequence[str]) -> dict[str, str]:
        """Each object's file stem, given the objects' names in a stable order."""
        return unique_stems(names)

    def normal(self, document: Document, old: Document | None = None) -> Document:
        """``document`` (a file's) as :meth:`current` would give the object it makes (or
        updates: ``old``, as :meth:`current` gives it): the properties it omits at the values
        writing it gives them, its sets in their order, so that a file the site already
        matches is no change."""
        return document

    @abstractmethod
    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        """The name of the object ``file`` (``stem`` without its folder and suffix) holds."""

    @abstractmethod
    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        """Create the object (``old`` None) or update it to ``document``."""

    def kept(self, name: str) -> bool:
        """Whether the object stays when a folder lacks it (one the site always has)."""
        return self.fixed

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        """Delete the object; refused for the kinds whose object always exists."""
        raise ConfigError(file, f"{self.folder}/{name} always exists; it cannot be deleted")

    def note(self, name: str) -> str:
        """What writing ``name`` just now does besides (for the import's report); empty when
        nothing (most kinds)."""
        return ""

    async def finish(self, site: Site, *, dry_run: bool) -> None:
        """Run after every write and delete (a kind that saves all its objects at once)."""
        return None  # most kinds write each object as it comes: nothing is left to do


class Vocabularies(Kind):
    folder = "vocabularies"
    _KEYS = ("id", "label", "description", "hierarchy", "weight")
    # What a property the file omits is: the categories service's defaults on creating.
    _DEFAULTS: ClassVar[Mapping[str, Any]] = {"label": "", "description": "",
                                              "hierarchy": "multiple", "weight": 0}

    async def current(self, site: Site) -> dict[str, Document]:
        return {v.id: v.public() for v in await site.categories.vocabularies(site.user)}

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        _only(file, document, self._KEYS)
        return _text(file, document, "id")

    def normal(self, document: Document, old: Document | None = None) -> Document:
        return {**self._DEFAULTS, **document}

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        given = {k: v for k, v in self.normal(document).items() if k in self._DEFAULTS}
        if old is None:
            label = given.pop("label", "")
            await site.categories.create_vocabulary(site.user, name, label, **given)
        else:
            await site.categories.update_vocabulary(
                site.user, name, **{k: v for k, v in given.items() if old.get(k) != v})

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        tags = await site.categories.tags(site.user, name)
        if tags and not content:
            raise ConfigError(file, f"is absent, but the vocabulary {name!r} has {len(tags)}"
                               " tag(s); pass --delete-content to delete them with it")
        await site.categories.delete_vocabulary(site.user, name)


class ItemTypes(Kind):
    """Item types with their fields and their search weights (``search_weights``: field →
    A to D, the search service's)."""

    folder = "item_types"

    async def current(self, site: Site) -> dict[str, Document]:
        weights = await site.search.all_weights()
        found: dict[str, Document] = {}
        for item_type in await site.types.all():
            if item_type.plugin is not None:
                continue
            fields = []
            for definition in item_type.fields:
                shape = definition.public()
                if definition.description:
                    shape["description"] = definition.description
                fields.append(shape)
            found[item_type.type] = {
                "type": item_type.type, "label": item_type.label,
                "description": item_type.description, "has_title": item_type.has_title,
                "title_label": item_type.title_label, "defaults": dict(item_type.defaults),
                "fields": fields, "search_weights": weights.get(item_type.type, {}),
            }
        return found

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        return _text(file, document, "type")

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        definition = {k: v for k, v in document.items() if k != "search_weights"}
        weights = document.get("search_weights") or {}
        if not isinstance(weights, dict):
            raise ConfigError(file, "has invalid search weights",
                              errors={"search_weights": "must map field names to A, B, C or D"})
        if old is None:
            await site.types.create(definition, actor=None)
        elif definition != {k: v for k, v in old.items() if k != "search_weights"}:
            await site.types.update(name, definition, actor=None)
        if weights != ((old or {}).get("search_weights") or {}):
            try:
                await site.search.set_weights(name, weights, actor=None)
            except SearchError as exc:  # its errors are keyed weights.<field>
                raise ConfigError(file, exc.message, errors={
                    f"search_{key}": problem for key, problem in exc.errors.items()}) from None

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        count = (await site.types.item_counts()).get(name, 0)
        if count and not content:
            raise ConfigError(file, f"is absent, but the item type {name!r} has {count}"
                               " item(s); pass --delete-content to delete them with it")
        await site.types.delete(name, actor=None, force=True, purge=site.purge_items)


@dataclass
class Roles(Kind):
    """Roles by name with their weight (their place in the roles' lists) and permissions;
    the built-in ones are never deleted. A file without a weight leaves the role's as it is
    (a new role comes after the others)."""

    folder: ClassVar[str] = "roles"
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    builtin: set[str] = field(default_factory=set)

    async def current(self, site: Site) -> dict[str, Document]:
        self.ids.clear()
        self.builtin.clear()
        found: dict[str, Document] = {}
        for role in await site.roles.all():
            self.ids[role.name] = role.id
            if role.is_builtin:
                self.builtin.add(role.name)
            found[role.name] = {"name": role.name, "weight": role.weight,
                                "permissions": sorted(role.permissions)}
        return found

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        _only(file, document, ("name", "weight", "permissions"))
        return _text(file, document, "name")

    def kept(self, name: str) -> bool:
        return name in self.builtin

    def normal(self, document: Document, old: Document | None = None) -> Document:
        # A file without a weight keeps the role's (write leaves it as it is).
        kept = {"weight": old["weight"]} if old is not None and "weight" in old else {}
        return {**kept, **document, "permissions": _sorted(document.get("permissions", []))}

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        permissions = document.get("permissions", [])
        if not isinstance(permissions, list) or \
                not all(isinstance(p, str) for p in permissions):
            raise ConfigError(file, "has invalid permissions",
                              errors={"permissions": "must be a list of permission names"})
        if old is None:
            role = await site.roles.create(name, actor=site.user.id)
            self.ids[name] = role.id
            old = {"weight": role.weight}
        if sorted(permissions) != old.get("permissions"):
            await site.roles.set_permissions(self.ids[name], permissions, actor=None)
        if "weight" in document and document["weight"] != old["weight"]:
            await site.roles.set_weight(self.ids[name], document["weight"], actor=None)

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        await site.roles.delete(self.ids[name], actor=None)
        self.ids.pop(name, None)

    def role_ids(self, file: str, key: str, names: Any) -> list[uuid.UUID]:
        """The ids of the roles ``names`` (a document's ``key``) on this site."""
        if not isinstance(names, list):
            raise ConfigError(file, "names its roles wrongly",
                              errors={key: "must be a list of role names"})
        unknown = [n for n in names if n not in self.ids]
        if unknown:
            raise ConfigError(file, f"names a role this site does not have: {unknown[0]!r}",
                              errors={key: f"no role {unknown[0]!r}"})
        return [self.ids[n] for n in names]

    def role_names(self, ids: Sequence[uuid.UUID]) -> list[str]:
        by_id = {role_id: name for name, role_id in self.ids.items()}
        return sorted(by_id.get(role_id, str(role_id)) for role_id in ids)


@dataclass
class Stages(Kind):
    """The definitions (label, upstream, visibility, roles) of the open stages, not their
    content, owner or status; created upstream first, deleted downstream first.

    A stage that is published or archived is history, not configuration (its status is where
    its content went, by a publish or by shelving it): it is neither exported nor deleted,
    and a file naming one is refused. An import never publishes nor archives; a stage it
    creates is open and owned by nobody (administrators of stages manage it)."""

    roles: Roles
    folder: ClassVar[str] = "stages"
    _KEYS: ClassVar[tuple[str, ...]] = ("id", "label", "upstream", "visibility", "roles")
    closed: dict[str, str] = field(default_factory=dict)  # stage → its status (not open)

    async def current(self, site: Site) -> dict[str, Document]:
        self.closed.clear()
        found: dict[str, Document] = {}
        for stage in await site.stages.list(site.user):
            if stage.status != OPEN:
                self.closed[stage.id] = stage.status
                continue
            found[stage.id] = {"id": stage.id, "label": stage.label,
                               "upstream": stage.upstream, "visibility": stage.visibility,
                               "roles": self.roles.role_names(stage.roles)}
        return found

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        _only(file, document, self._KEYS)
        return _text(file, document, "id")

    def normal(self, document: Document, old: Document | None = None) -> Document:
        return {"label": "", "upstream": LIVE, "visibility": "private", **document,
                "roles": _sorted(document.get("roles", []))}

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        if name in self.closed:
            raise ConfigError(file, f"names the stage {name!r}, which is {self.closed[name]}"
                              " on this site: only open stages are configuration",
                              errors={"id": f"is {self.closed[name]}"})
        roles = self.roles.role_ids(file, "roles", document.get("roles", []))
        label = document.get("label", "")
        if old is None:
            await site.stages.create(site.user, name, label,
                                     upstream=document.get("upstream", LIVE),
                                     visibility=document.get("visibility", "private"),
                                     roles=roles)
        else:
            await site.stages.edit(site.user, name, label=label,
                                   upstream=document.get("upstream", LIVE),
                                   visibility=document.get("visibility", "private"),
                                   roles=roles)

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        if not content:
            raise ConfigError(file, f"is absent, but deleting the stage {name!r} discards"
                               " its changes; pass --delete-content to delete it")
        await site.stages.delete(site.user, name)


@dataclass
class Listings(Kind):
    """Gather listings, as ``trovato gather export`` writes them; a plugin's listing is
    neither exported nor replaced by a file of the same name."""

    folder: ClassVar[str] = "gather"
    plugins: dict[str, str] = field(default_factory=dict)  # listing → the plugin owning it

    async def current(self, site: Site) -> dict[str, Document]:
        self.plugins.clear()
        found: dict[str, Document] = {}
        for stored in await site.gather.all(site.user):
            if stored.plugin is None:
                found[stored.name] = stored.definition.document()
            else:
                self.plugins[stored.name] = stored.plugin
        return found

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        return _text(file, document, "name")

    def kept(self, name: str) -> bool:
        return name == FRONT_PAGE

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        if name in self.plugins:
            raise ConfigError(file, f"names the listing {name!r}, which the plugin"
                              f" {self.plugins[name]!r} owns", errors={"name": "is taken"})
        await site.gather.put(site.user, name, document)

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        await site.gather.delete(site.user, name)


@dataclass
class Tiles(Kind):
    """Tile placements, named by slot and source (module docstring); their visibility names
    roles by name."""

    roles: Roles
    folder: ClassVar[str] = "tiles"
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    async def current(self, site: Site) -> dict[str, Document]:
        placements = sorted(await site.tiles.all(site.user),
                            key=lambda p: (p.slot, p.source, p.weight, p.title, p.id))
        stems = unique_stems([f"{p.slot}.{p.source}" for p in placements])
        self.ids.clear()
        found: dict[str, Document] = {}
        for placement, stem in zip(placements, stems.values(), strict=True):
            self.ids[stem] = placement.id
            visibility = placement.visibility.model_dump(mode="json")
            visibility["roles"] = self.roles.role_names(placement.visibility.roles)
            found[stem] = {"source": placement.source, "slot": placement.slot,
                           "weight": placement.weight, "enabled": placement.enabled,
                           "title": placement.title, "visibility": visibility,
                           "settings": placement.settings}
        return found

    def stems(self, names: Sequence[str]) -> dict[str, str]:
        return {name: name for name in names}

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        slot, source = document.get("slot"), document.get("source")
        if isinstance(slot, str) and isinstance(source, str):
            # The file's name is the placement's only one: any other would not match the
            # site's on the next import (the service refuses a missing slot or source).
            base = file_stem(f"{slot}.{source}")
            if stem != base and not re.fullmatch(re.escape(base) + r"_[0-9]+", stem):
                raise ConfigError(file, f"must be named {base}.yaml (its slot and source,"
                                  " _2 … for further placements of that source there)")
        return stem

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        placed = dict(document)
        visibility = placed.get("visibility")
        if isinstance(visibility, dict) and "roles" in visibility:
            ids = self.roles.role_ids(file, "visibility.roles", visibility["roles"])
            placed["visibility"] = {**visibility, "roles": [str(i) for i in ids]}
        if old is None:
            self.ids[name] = (await site.tiles.create(site.user, placed)).id
        else:
            await site.tiles.update(site.user, self.ids[name], placed)

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        await site.tiles.delete(site.user, self.ids[name])


def _link_key(link: Mapping[str, Any]) -> tuple[int, str, str, str]:
    return (link["weight"], link["title"], link["path"], link["permission"])


def _sorted(values: Any) -> Any:
    """A list of names in the order the site lists them (sorted); anything else as it is,
    for the service to refuse."""
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return sorted(values)
    return values


class Menus(Kind):
    """The main menu's administrator links, as one object: an import adds the links the file
    has and the site lacks, and deletes those the site has and the file lacks."""

    folder = "menus"
    fixed = True

    async def current(self, site: Site) -> dict[str, Document]:
        links = [{"title": link.title, "path": link.path, "weight": link.weight,
                  "permission": link.permission} for link in await site.tiles.links(site.user)]
        return {MENU: {"name": MENU, "links": sorted(links, key=_link_key)}}

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        _only(file, document, ("name", "links"))
        if document.get("name") != MENU:
            raise ConfigError(file, f"must be the menu {MENU!r}",
                              errors={"name": f"must be {MENU!r} (the one menu)"})
        return MENU

    def normal(self, document: Document, old: Document | None = None) -> Document:
        try:
            links = [parse_link(link).model_dump() for link in document.get("links", [])]
        except (TileError, TypeError):
            return document  # not links: writing it is refused, naming the link
        return {**document, "links": sorted(links, key=_link_key)}

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        given = document.get("links", [])
        if not isinstance(given, list):
            raise ConfigError(file, "has invalid links", errors={"links": "must be a list"})
        wanted: list[MenuLinkDef] = []
        for n, link in enumerate(given):
            try:
                wanted.append(parse_link(link))
            except TileError as exc:
                raise ConfigError(file, exc.message, errors={
                    f"links.{n}.{key}": problem for key, problem in exc.errors.items()}) from None
        keep = [link.model_dump() for link in wanted]
        for link in await site.tiles.links(site.user):
            shape = {"title": link.title, "path": link.path, "weight": link.weight,
                     "permission": link.permission}
            if shape in keep:
                keep.remove(shape)
            else:
                await site.tiles.delete_link(site.user, link.id)
        for shape in keep:
            await site.tiles.add_link(site.user, shape)


@dataclass
class ImageStyles(Kind):
    """Image styles, saved all at once (the styles service's ``replace``) after each is
    checked; a dry run only checks them (saving flushes derivatives on disk)."""

    folder: ClassVar[str] = "image_styles"
    wanted: dict[str, Document] = field(default_factory=dict)
    changed: bool = False

    async def current(self, site: Site) -> dict[str, Document]:
        styles = await site.styles.export()
        self.wanted = {name: dict(style) for name, style in styles.items()}
        self.changed = False
        return {name: {"name": name, **style} for name, style in styles.items()}

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        return _text(file, document, "name")

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        raw = {k: v for k, v in document.items() if k != "name"}
        try:
            parse_style(name, raw)
        except StyleError as exc:
            raise ConfigError(file, exc.message, errors=exc.errors) from None
        self.wanted[name] = raw
        self.changed = True

    async def remove(self, site: Site, name: str, old: Document, file: str, *,
                     content: bool) -> None:
        self.wanted.pop(name, None)
        self.changed = True

    async def finish(self, site: Site, *, dry_run: bool) -> None:
        if not self.changed:
            return
        try:
            if dry_run:  # the checks of saving them, without saving
                parse_styles(self.wanted)
            else:
                await site.styles.replace(self.wanted)
        except StyleError as exc:
            raise ConfigError(self.folder, exc.message, errors=exc.errors) from None


@dataclass
class Settings(Kind):
    """The site's settings, as one object: who may register, and the search language (a
    PostgreSQL text search configuration, the search service's). A new language is set in
    the import's transaction and every item is reindexed there too, once everything else is
    written, so no search ever reads vectors of the other language; a dry run only checks
    the name (the reindex would be rolled back anyway). Each setting a file lacks is left as
    the site has it."""

    folder: ClassVar[str] = "settings"
    fixed: ClassVar[bool] = True
    _KEYS: ClassVar[tuple[str, ...]] = ("registration", "search_language")
    language_changed: bool = False
    noted: str = ""

    async def current(self, site: Site) -> dict[str, Document]:
        self.language_changed = False
        self.noted = ""
        return {SETTINGS: {"registration": (await registration(site.db)).value,
                           "search_language": await site.search.language()}}

    def name_of(self, file: str, stem: str, document: Mapping[str, Any]) -> str:
        _only(file, document, self._KEYS)
        if stem != SETTINGS:
            raise ConfigError(file, f"is not a settings file: the site's is {SETTINGS}.yaml")
        return SETTINGS

    async def write(self, site: Site, name: str, document: Document, old: Document | None,
                    file: str) -> None:
        if "registration" in document:
            await set_registration(site.db, document["registration"], actor=None)
        if "search_language" in document:
            language = document["search_language"]
            if not isinstance(language, str):
                raise ConfigError(file, "has an invalid search language", errors={
                    "search_language": "must be the name of a text search configuration"})
            try:  # its errors are keyed language
                changed = await site.search.set_language(language, reindex=False)
            except SearchError as exc:
                raise ConfigError(file, exc.message, errors={
                    f"search_{key}": problem for key, problem in exc.errors.items()}) from None
            if changed:
                self.language_changed = True
                self.noted = (f"the search language becomes {language.strip()}: every item"
                              f" ({await site.search.item_count()}) is reindexed")

    def note(self, name: str) -> str:
        return self.noted

    async def finish(self, site: Site, *, dry_run: bool) -> None:
        if self.language_changed and not dry_run:
            await site.search.reindex()


def all_kinds() -> list[Kind]:
    """One of each kind, in the order an import writes them: what an object refers to is
    written before it (vocabularies before the types whose fields name them, types before
    the roles granted their permissions and the listings filtering on their fields, roles
    before the stages and tiles naming them, listings before their tiles). Deletes run in
    the reverse order."""
    roles = Roles()
    return [Vocabularies(), ItemTypes(), roles, Stages(roles), Listings(), Tiles(roles),
            Menus(), ImageStyles(), Settings()]
