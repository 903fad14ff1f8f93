"""Gather definitions: the JSON document describing one listing.

A definition (stored in ``gather_query.definition``, exported as YAML) is parsed by the strict
pydantic :class:`Definition` (unknown keys are errors): its filters and groups, sorts,
relationships, pager and displays, with the limits every document keeps, and the
:class:`GatherError` every part of Gather raises. What the names in a document may be is the
field registry's (:mod:`~trovato.gather.fields`), what its values may be is
:mod:`~trovato.gather.values`', and checking a parsed document against the item types is
:mod:`~trovato.gather.resolution`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trovato.errors import ServiceError

NAME_PATTERN: Final = "^[a-z][a-z0-9_]*$"
PARAMETER_PATTERN: Final = "^[a-z][a-z0-9_]*$"
# Segments of letters, digits, ``.``, ``_``, ``-``, or ``{argument}`` placeholders.
_SEGMENT = r"(?:[a-z0-9][a-z0-9._-]*|\{[a-z][a-z0-9_]*\})"
PATH_PATTERN: Final = rf"^/(?:{_SEGMENT}(?:/{_SEGMENT})*)?$"
MAX_PER_PAGE: Final = 100  # the hard maximum of a page, whatever a definition asks
MAX_FILTERS: Final = 50  # filters and groups in one list (the body's size bounds the rest)
MAX_LIST_VALUES: Final = 100  # values of one ``in`` / ``not_in``
MAX_TEXT: Final = 1000
# The max joins guardrail: relationships of one definition, each one join.
MAX_JOINS: Final = 4
# Query parameters Gather reads itself, so no exposed filter may take them.
RESERVED_PARAMETERS: Final = frozenset({"page", "stage", "preview", "format"})

Op = Literal[
    "equals", "not_equals", "lt", "lte", "gt", "gte", "in", "not_in", "between",
    "contains", "starts_with", "ends_with", "is_null", "is_not_null",
    "has_tag", "has_tag_or_descendants", "fulltext", "current_user",
]

Kind = Literal["text", "int", "decimal", "float", "bool", "date", "datetime", "uuid", "tag"]

_ALL: Final = frozenset({"equals", "not_equals", "in", "not_in", "is_null", "is_not_null"})
_ORDERED: Final = frozenset({"lt", "lte", "gt", "gte", "between"})
OPERATORS: Final[Mapping[Kind, frozenset[str]]] = {
    "text": _ALL | _ORDERED | {"contains", "starts_with", "ends_with", "fulltext"},
    "int": _ALL | _ORDERED,
    "decimal": _ALL | _ORDERED,
    "float": _ALL | _ORDERED,
    "bool": frozenset({"equals", "not_equals", "is_null", "is_not_null"}),
    "date": _ALL | _ORDERED,
    "datetime": _ALL | _ORDERED,
    "uuid": _ALL | {"current_user"},
    "tag": _ALL | {"has_tag", "has_tag_or_descendants"},
}
NO_VALUE: Final = frozenset({"is_null", "is_not_null", "current_user"})
LIST_OPS: Final = frozenset({"in", "not_in"})
TEXT_OPS: Final = frozenset({"contains", "starts_with", "ends_with", "fulltext"})


class GatherError(ServiceError):
    """A refused Gather operation (bad definition 422, unknown listing 404, bad parameter 400)."""


# -- the document -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Default = Literal["ignore", "not_found", "fixed", "current_user"]


class FilterDef(_Strict):
    """One condition: ``field`` ``op`` ``value``; ``exposed`` names the query parameter a
    visitor may set the value with (the definition's ``value``, if any, is the default).

    A *contextual argument* takes its value from the display's path instead (``argument``
    names a ``{placeholder}`` of the page or feed path, or a query parameter of the JSON
    display); ``default`` says what happens without one: ``ignore`` (no condition),
    ``not_found`` (404), ``fixed`` (the filter's ``value``) or ``current_user`` (the
    reader's id, for the author or a user reference). A tag argument may be a tag's slug."""

    field: str = Field(min_length=1, max_length=64)
    op: Op
    value: Any = None
    exposed: str | None = Field(default=None, max_length=64, pattern=PARAMETER_PATTERN)
    label: str | None = Field(default=None, max_length=255)  # of an exposed filter's widget
    options: list[str] | None = Field(default=None, max_length=MAX_LIST_VALUES)
    argument: str | None = Field(default=None, max_length=64, pattern=PARAMETER_PATTERN)
    default: Default | None = None


class GroupDef(_Strict):
    """Filters joined by AND or OR (groups nest)."""

    group: Literal["and", "or"]
    filters: list[FilterDef | GroupDef | UseDef] = Field(min_length=1, max_length=MAX_FILTERS)


class SortDef(_Strict):
    field: str = Field(min_length=1, max_length=64)
    direction: Literal["asc", "desc"] = "asc"


# A plugin's filter or sort: ``<plugin>.<name>``.
PLUGIN_NAME_PATTERN: Final = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class UseDef(_Strict):
    """A filter or sort a plugin declares in ``gather_info``, by its name
    ``<plugin>.<name>``: it stands for the conditions (or sort keys) it is made of."""

    use: str = Field(min_length=3, max_length=97, pattern=PLUGIN_NAME_PATTERN)


Part = FilterDef | GroupDef | UseDef


class PluginFilter(_Strict):
    """A named filter of ``gather_info``: existing operators over the fields a definition may
    name, joined by ``group`` — declarative, so a plugin never writes SQL."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    label: str | None = Field(default=None, max_length=255)
    group: Literal["and", "or"] = "and"
    filters: list[FilterDef | GroupDef] = Field(min_length=1, max_length=MAX_FILTERS)


class PluginSort(_Strict):
    """A named sort of ``gather_info``: sort keys over the fields a definition may name."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    label: str | None = Field(default=None, max_length=255)
    sorts: list[SortDef] = Field(min_length=1, max_length=5)


@dataclass(frozen=True, slots=True)
class Extensions:
    """The plugins' filters and sorts by ``<plugin>.<name>``."""

    filters: Mapping[str, PluginFilter]
    sorts: Mapping[str, PluginSort]


NO_EXTENSIONS: Final = Extensions({}, {})


class RelationshipDef(_Strict):
    """A join from the base item to what one of its references names: ``field`` is a
    single-valued reference field (to an item, a user or a tag) or ``author``. Fields,
    filters and sorts then name ``<name>.<field>`` of the joined record. ``required`` drops
    the base items whose reference the reader cannot follow (an inner join); else the joined
    columns are NULL for them (a left join)."""

    name: str = Field(min_length=1, max_length=32, pattern=NAME_PATTERN)
    field: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    required: bool = Field(default=False, strict=True)


class PagerDef(_Strict):
    """``full``: page links and the exact total; ``mini``: previous/next, never a count;
    ``none``: the first ``per_page`` matches."""

    type: Literal["full", "mini", "none"] = "full"
    per_page: int = Field(default=25, ge=1, le=MAX_PER_PAGE)


Style = Literal["teasers", "list", "table", "grid"]


class MenuLinkDef(_Strict):
    """A link to a page display in the main menu (the ``navigation`` slot), shown to readers
    who may see the listing; lighter weights come first."""

    title: str = Field(min_length=1, max_length=255)
    weight: int = Field(default=0, ge=-1000, le=1000)


class PageDisplay(_Strict):
    path: str = Field(max_length=255, pattern=PATH_PATTERN)
    title: str | None = Field(default=None, max_length=255)
    style: Style = "teasers"
    menu: MenuLinkDef | None = None

    @model_validator(mode="after")
    def _menu_needs_a_fixed_path(self) -> PageDisplay:
        if self.menu is not None and "{" in self.path:
            raise ValueError("a menu link needs a path without {arguments}")
        return self


TileStyle = Literal["list", "ordered"]


class TileDisplay(_Strict):
    """The listing as a tile (placed in a slot at ``/admin/structure/tiles``): its first
    ``per_page`` items as links (``ordered``: a numbered list), under ``title`` (default: the
    listing's label), with a link to the page display when there is one."""

    title: str | None = Field(default=None, max_length=255)
    per_page: int = Field(default=5, ge=1, le=MAX_PER_PAGE)
    style: TileStyle = "list"


class FeedDisplay(_Strict):
    path: str = Field(max_length=255, pattern=PATH_PATTERN)
    format: Literal["rss", "atom"] = "rss"
    title: str | None = Field(default=None, max_length=255)


class JsonDisplay(_Strict):
    pass


class Displays(_Strict):
    page: PageDisplay | None = None
    tile: TileDisplay | None = None
    feed: FeedDisplay | None = None
    json_: JsonDisplay | None = Field(default=None, alias="json")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Base = Literal["item", "user", "tag"]


class Definition(_Strict):
    """One listing (module docstring). ``base`` is what it lists: items, (active) users or
    tags. ``fields`` are the columns of the list and table styles (the title always comes
    first); ``access`` the permission needed to see it."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    label: str = Field(min_length=1, max_length=255)
    base: Base = "item"
    relationships: list[RelationshipDef] = Field(default_factory=list, max_length=20)
    fields: list[str] = Field(default_factory=list, max_length=20)
    filters: list[Part] = Field(default_factory=list, max_length=MAX_FILTERS)
    sorts: list[SortDef | UseDef] = Field(default_factory=list, max_length=5)
    pager: PagerDef = Field(default_factory=PagerDef)
    displays: Displays = Field(default_factory=Displays)
    empty_text: str = Field(default="", max_length=2000)
    access: str = Field(default="access content", min_length=1, max_length=128)

    def document(self) -> dict[str, Any]:
        """The JSON document (what is stored and exported), without defaults left unset (nor
        an empty list of relationships: a listing without any reads as it did before them)."""
        document = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if not self.relationships:
            del document["relationships"]
        return document


def parse(document: Any) -> Definition:
    """``document`` as a :class:`Definition`, or :class:`GatherError` 422 naming each bad
    part."""
    try:
        return Definition.model_validate(document)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"] if not str(p).startswith(
                ("FilterDef", "GroupDef", "UseDef", "SortDef"))) or "definition"
            message = "unknown property" if err["type"] == "extra_forbidden" else err["msg"]
            errors.setdefault(key, message)
        first = next(iter(errors.items()))
        raise GatherError(422, f"Invalid Gather definition: {first[0]}: {first[1]}.",
                          errors=errors) from None
