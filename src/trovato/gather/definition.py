"""Gather definitions: the JSON document describing one listing, and its checks.

A definition (stored in ``gather_query.definition``, exported as YAML) is parsed by the strict
pydantic :class:`Definition` (unknown keys are errors) and then *resolved* against the item
types and the field registry (:func:`resolve`): every ``field`` must name a base column of the
whitelist (:data:`BASE_FIELDS`) or a field of some item type, every operator must fit the
field's kind, and every value must have the kind's type. What comes out is a
:class:`Resolved` definition whose filters carry their :class:`FieldSpec` (where the value
lives, how SQL compares it) and values already converted to Python values — the compiler
writes SQL from nothing else, so no identifier ever comes from the document as text.

Errors are :class:`GatherError` 422 with ``errors`` keyed by the part's path
(``filters.1.value``), as every other service reports a bad body.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trovato.content.types import ItemType
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


# -- fields ---------------------------------------------------------------------------------------


Target = Literal["item", "user", "tag"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Where a field's value lives and how it compares. ``column`` is a base column of the
    item table; else ``key`` is the JSONB key in ``item.fields`` and ``prop`` the property of
    its value object (``value``, ``target_id``, ``uri``)."""

    name: str
    kind: Kind
    column: str | None = None
    key: str | None = None
    prop: str = "value"
    multiple: bool = False
    options: tuple[str, ...] = ()  # a list field's allowed values
    bundles: tuple[str, ...] = ()  # a tag reference's vocabularies (empty: any)
    target: Target | None = None  # a reference's kind of record (relationships follow it)
    relation: int | None = None  # the relationship it is read through (None: the base)
    private: bool = False  # only readers with ``administer users`` may use it (a mail)

    @property
    def nullable(self) -> bool:
        return self.column is None or self.relation is not None


# The base columns a definition may name (the whitelist), with their kinds.
BASE_FIELDS: Final[Mapping[str, FieldSpec]] = {
    "id": FieldSpec("id", "uuid", column="id"),
    "type": FieldSpec("type", "text", column="type"),
    "title": FieldSpec("title", "text", column="title"),
    "status": FieldSpec("status", "int", column="status"),
    "promote": FieldSpec("promote", "bool", column="promote"),
    "sticky": FieldSpec("sticky", "bool", column="sticky"),
    "author": FieldSpec("author", "uuid", column="author_id", target="user"),
    "created": FieldSpec("created", "datetime", column="created"),
    "changed": FieldSpec("changed", "datetime", column="changed"),
}
# The columns of the user and tag bases (and of the users and tags a relationship joins): the
# whitelist of what a definition can read of those tables. A user's password, sessions and
# tokens are not among them; the mail address only for readers who administer users.
USER_FIELDS: Final[Mapping[str, FieldSpec]] = {
    "id": FieldSpec("id", "uuid", column="id"),
    "name": FieldSpec("name", "text", column="name"),
    "created": FieldSpec("created", "datetime", column="created"),
    "mail": FieldSpec("mail", "text", column="mail", private=True),
}
# What a relationship to a user may read: the name and id shown on every byline.
RELATED_USER_FIELDS: Final = ("id", "name")
TAG_FIELDS: Final[Mapping[str, FieldSpec]] = {
    "id": FieldSpec("id", "uuid", column="id"),
    "name": FieldSpec("name", "text", column="name"),
    "slug": FieldSpec("slug", "text", column="slug"),
    "vocabulary": FieldSpec("vocabulary", "text", column="vocabulary"),
    "description": FieldSpec("description", "text", column="description"),
    "weight": FieldSpec("weight", "int", column="weight"),
}
# Title and the text of every field, for a ``fulltext`` filter over the whole item.
SEARCH_FIELD: Final = "search"

_FIELD_KINDS: Final[Mapping[str, tuple[Kind, str]]] = {
    "text": ("text", "value"), "text_long": ("text", "value"), "email": ("text", "value"),
    "list": ("text", "value"), "link": ("text", "uri"), "integer": ("int", "value"),
    "decimal": ("decimal", "value"), "float": ("float", "value"), "boolean": ("bool", "value"),
    "date": ("date", "value"), "datetime": ("datetime", "value"),
    "reference": ("uuid", "target_id"), "file": ("uuid", "target_id"),
    "image": ("uuid", "target_id"),
}


def field_specs(types: Mapping[str, ItemType]) -> dict[str, FieldSpec]:
    """Every field a definition may name: the base columns and each item type's fields (a
    field name has one storage type on every type, so the first definition found decides)."""
    specs = dict(BASE_FIELDS)
    for item_type in types.values():
        for definition in item_type.fields:
            if definition.name in specs or definition.type not in _FIELD_KINDS:
                continue
            kind, prop = _FIELD_KINDS[definition.type]
            if definition.type == "reference" and \
                    definition.settings.get("target_type") == "category_tag":
                kind = "tag"
            options = tuple(definition.settings.get("allowed_values") or ()) \
                if definition.type == "list" else ()
            bundles = tuple(definition.settings.get("target_bundles") or ()) \
                if kind == "tag" else ()
            target: Target | None = None
            if definition.type == "reference":
                target = _TARGETS.get(str(definition.settings.get("target_type", "item")))
            specs[definition.name] = FieldSpec(definition.name, kind, key=definition.name,
                                               prop=prop, multiple=definition.multiple,
                                               options=options, bundles=bundles, target=target)
    return specs


_TARGETS: Final[Mapping[str, Target]] = {"item": "item", "user": "user", "category_tag": "tag"}


def base_specs(base: Base, types: Mapping[str, ItemType]) -> dict[str, FieldSpec]:
    """The field registry of ``base``: what its definitions may name (before
    relationships)."""
    if base == "user":
        return dict(USER_FIELDS)
    if base == "tag":
        return dict(TAG_FIELDS)
    return field_specs(types)


def target_specs(target: Target, types: Mapping[str, ItemType]) -> dict[str, FieldSpec]:
    """What a relationship to a ``target`` may read (never a private column)."""
    if target == "user":
        return {name: USER_FIELDS[name] for name in RELATED_USER_FIELDS}
    return base_specs(target, types)


# -- values ---------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 (what JSON Schema's ``date-time`` is): seconds required, any fraction, a zone.
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                       r"([Zz]|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
RELATIVE_PATTERN: Final = (r"^(?:now|today|[+-]?\d{1,6} ?(?:minute|hour|day|week|month|year)s?"
                           r"(?: ago)?)$")
_RELATIVE = re.compile(
    r"^(?:now|today)$|^([+-]?\d{1,6}) ?(minute|hour|day|week|month|year)s?(?: ago)?$")
_UNIT_DAYS: Final = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30,
                     "year": 365}


@dataclass(frozen=True, slots=True)
class Relative:
    """A date relative to the moment a listing runs (``now``, ``-7 days``): resolved to the
    minute, so a listing's cached results serve a minute."""

    days: float
    text: str

    def resolve(self, now: datetime, kind: Kind) -> date | datetime:
        moment = now.replace(second=0, microsecond=0) + timedelta(days=self.days)
        return moment.date() if kind == "date" else moment


def _relative(text: str) -> Relative | None:
    match = _RELATIVE.match(text)
    if match is None:
        return None
    if match.group(1) is None:
        return Relative(0, text)
    amount = int(match.group(1))
    if text.endswith(" ago"):
        amount = -abs(amount)
    return Relative(amount * _UNIT_DAYS[match.group(2)], text)


def convert(spec: FieldSpec, raw: Any, *, from_text: bool = False) -> Any:
    """One value of ``spec``'s kind, from JSON (or from a query parameter's text when
    ``from_text``); :class:`ValueError` with a message naming what was expected."""
    kind = spec.kind
    if raw is None:
        raise ValueError("a value is required")
    if kind == "text":
        if not isinstance(raw, str) or "\x00" in raw or len(raw) > MAX_TEXT:
            raise ValueError(f"must be a text of at most {MAX_TEXT} characters")
        if spec.options and raw not in spec.options:
            raise ValueError(f"must be one of: {', '.join(spec.options[:20])}")
        return raw
    if kind == "int":
        if from_text and isinstance(raw, str) and re.fullmatch(r"-?\d{1,19}", raw.strip()):
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or not -(2**63) <= raw < 2**63:
            raise ValueError("must be an integer")
        return raw
    if kind in ("decimal", "float"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str) or \
                (isinstance(raw, str) and not _DECIMAL.match(raw)):
            raise ValueError("must be a number")
        number = Decimal(str(raw))
        return number if kind == "decimal" else float(number)
    if kind == "bool":
        if from_text and isinstance(raw, str) and raw.lower() in ("1", "0", "true", "false"):
            return raw.lower() in ("1", "true")
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind in ("date", "datetime"):
        expected = ("must be a date (YYYY-MM-DD)" if kind == "date" else
                    "must be a date and time (RFC 3339)") + \
            ", 'now', 'today' or a relative date like '-7 days'"
        if not isinstance(raw, str):
            raise ValueError(expected)
        relative = _relative(raw)
        if relative is not None:
            return relative
        try:
            if kind == "date":
                if not _DATE.match(raw):
                    raise ValueError(raw)
                return date.fromisoformat(raw)
            return _moment(raw)
        except ValueError:
            raise ValueError(expected) from None
    # uuid, tag
    if isinstance(raw, str) and _UUID.match(raw):
        return uuid.UUID(raw)
    raise ValueError("must be a UUID")


def _moment(text: str) -> datetime:
    """An RFC 3339 date-time (a leap second counts as the second before it)."""
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    fraction = int((match.group(7) or ".0")[1:7].ljust(6, "0"))
    zone = match.group(8).upper()
    offset = timedelta(0) if zone == "Z" else (1 if zone[0] == "+" else -1) * timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return datetime(year, month, day, hour, minute, min(second, 59), fraction,
                    tzinfo=timezone(offset))


def convert_value(spec: FieldSpec, op: str, raw: Any, *, from_text: bool = False) -> Any:
    """The value of a filter ``spec`` ``op`` as the compiler binds it: None for operators
    without one, a tuple for ``in``/``not_in``/``between``, else one value."""
    if op in NO_VALUE:
        if raw is not None:
            raise ValueError(f"the operator {op!r} takes no value")
        return None
    if op in LIST_OPS or op == "between":
        if from_text and isinstance(raw, str):
            raw = [part for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST_VALUES:
            raise ValueError(f"must be a list of 1 to {MAX_LIST_VALUES} values")
        if op == "between" and len(raw) != 2:
            raise ValueError("must be a list of two values: [low, high]")
        return tuple(convert(spec, one, from_text=from_text) for one in raw)
    if op in TEXT_OPS:
        if not isinstance(raw, str) or "\x00" in raw or not raw or len(raw) > MAX_TEXT:
            raise ValueError(f"must be a non-empty text of at most {MAX_TEXT} characters")
        return raw
    return convert(spec, raw, from_text=from_text)


# -- resolution -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One resolved filter: ``index`` is its place among the definition's filters (depth
    first), which names its bound parameters."""

    index: int
    where: str  # the part's path, e.g. ``filters.2`` (errors name it)
    spec: FieldSpec
    op: str
    value: Any  # converted (see convert_value); None while exposed without a default
    exposed: str | None
    label: str
    options: tuple[str, ...]
    argument: str | None = None
    default: str = "ignore"


@dataclass(frozen=True, slots=True)
class Group:
    conjunction: Literal["and", "or"]
    parts: tuple[Condition | Group, ...]


@dataclass(frozen=True, slots=True)
class Ordering:
    spec: FieldSpec
    descending: bool


@dataclass(frozen=True, slots=True)
class Relationship:
    """One resolved relationship: the join through the base's ``reference`` (the author
    column or a reference field) to a record of ``target``."""

    index: int
    name: str
    target: Target
    reference: FieldSpec
    required: bool


@dataclass(frozen=True, slots=True)
class Resolved:
    """A definition checked against the site's types (module docstring)."""

    definition: Definition
    where: Group
    sorts: tuple[Ordering, ...]
    types: tuple[str, ...]  # the item types it can list (for cache tags)
    columns: tuple[FieldSpec, ...]
    relationships: tuple[Relationship, ...] = ()

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def base(self) -> Base:
        return self.definition.base

    @property
    def private(self) -> bool:
        """Whether it reads a private column anywhere (so only an administrator of users
        may run it)."""
        return any(spec.private for spec in (*(c.spec for c in self.conditions()),
                                             *(o.spec for o in self.sorts), *self.columns))

    def related_columns(self) -> list[FieldSpec]:
        """The ``fields`` read through a relationship (the rows carry them after the
        base's columns)."""
        return [spec for spec in self.columns if spec.relation is not None]

    def conditions(self) -> list[Condition]:
        found: list[Condition] = []

        def walk(group: Group) -> None:
            for part in group.parts:
                if isinstance(part, Group):
                    walk(part)
                else:
                    found.append(part)

        walk(self.where)
        return found

    def exposed(self) -> list[Condition]:
        return [c for c in self.conditions() if c.exposed]

    def arguments(self) -> list[Condition]:
        return [c for c in self.conditions() if c.argument]


@dataclass(frozen=True, slots=True)
class _Registry:
    """What the names of one definition may be: the base's fields, and each relationship's
    name with the fields of its target."""

    base: Base
    specs: Mapping[str, FieldSpec]
    related: Mapping[str, tuple[Relationship, Mapping[str, FieldSpec]]]

    def spec(self, name: str, where: str, errors: dict[str, str]) -> FieldSpec | None:
        if name == SEARCH_FIELD and self.base == "item":
            return FieldSpec(SEARCH_FIELD, "text", column="*")
        relation, dot, field = name.partition(".")
        if dot:
            found = self.related.get(relation)
            if found is None:
                known = ", ".join(self.related) or "none"
                errors[where] = f"unknown relationship {relation!r} in {name!r} " \
                                f"(relationships: {known})"
                return None
            spec = found[1].get(field)
            if spec is None:
                errors[where] = f"unknown field {field!r} of the relationship {relation!r} " \
                                f"(a {found[0].target}: {', '.join(found[1])})"
                return None
            return replace(spec, name=name, relation=found[0].index)
        spec = self.specs.get(name)
        if spec is None:
            if self.base == "item":
                errors[where] = f"unknown field {name!r} (a base column: " \
                                f"{', '.join(BASE_FIELDS)}; or a field of an item type)"
            else:
                errors[where] = f"unknown field {name!r} (a {self.base}'s: " \
                                f"{', '.join(self.specs)})"
        return spec


def _relationships(definition: Definition, specs: Mapping[str, FieldSpec],
                   types: Mapping[str, ItemType], errors: dict[str, str]
                   ) -> dict[str, tuple[Relationship, Mapping[str, FieldSpec]]]:
    """The definition's relationships by name, each with the fields of its target."""
    found: dict[str, tuple[Relationship, Mapping[str, FieldSpec]]] = {}
    if definition.relationships and definition.base != "item":
        errors["relationships"] = "relationships join from the item base only"
        return found
    if len(definition.relationships) > MAX_JOINS:
        errors["relationships"] = f"at most {MAX_JOINS} relationships (the max joins " \
                                  f"guardrail): {len(definition.relationships)} given"
        return found
    for n, raw in enumerate(definition.relationships):
        where = f"relationships.{n}"
        spec = specs.get(raw.field)
        if raw.name in found:
            first = found[raw.name][0]
            if first.reference.name == raw.field and first.required == raw.required:
                continue  # the same join written twice is that one join
            errors[f"{where}.name"] = f"the relationship {raw.name!r} is defined twice"
        elif spec is None or spec.target is None:
            errors[f"{where}.field"] = f"{raw.field!r} is not 'author' or a reference field"
        elif spec.multiple:
            errors[f"{where}.field"] = f"{raw.field!r} has several values: a relationship " \
                                       "follows a single-valued reference"
        else:
            relationship = Relationship(n, raw.name, spec.target, spec, raw.required)
            found[raw.name] = (relationship, target_specs(spec.target, types))
    return found


def resolve(definition: Definition, types: Mapping[str, ItemType],
            extensions: Extensions = NO_EXTENSIONS) -> Resolved:
    """Check ``definition`` against ``types`` and the plugins' filters and sorts (module
    docstring); :class:`GatherError` 422 naming every bad part."""
    specs = base_specs(definition.base, types)
    errors: dict[str, str] = {}
    registry = _Registry(definition.base, specs,
                         _relationships(definition, specs, types, errors))
    counter = itertools.count()
    exposed_names: set[str] = set()

    def condition(raw: FilterDef, where: str) -> Condition | None:
        spec = registry.spec(raw.field, f"{where}.field", errors)
        if spec is None:
            return None
        if spec.name == SEARCH_FIELD and raw.op != "fulltext":
            errors[f"{where}.op"] = f"the field {SEARCH_FIELD!r} only takes 'fulltext'"
            return None
        if raw.op not in OPERATORS[spec.kind] or (
                raw.op == "fulltext" and spec.column not in (None, "*", "title")):
            allowed = ", ".join(sorted(OPERATORS[spec.kind]))
            errors[f"{where}.op"] = f"the operator {raw.op!r} does not apply to the field " \
                                    f"{spec.name!r} ({spec.kind}; allowed: {allowed})"
            return None
        if raw.argument is not None or raw.default is not None:
            problem = _argument_problem(raw, spec)
            if problem is not None:
                errors[f"{where}.{problem[0]}"] = problem[1]
                return None
            if raw.argument in RESERVED_PARAMETERS or raw.argument in exposed_names:
                errors[f"{where}.argument"] = f"the parameter {raw.argument!r} is taken"
                return None
            assert raw.argument is not None
            exposed_names.add(raw.argument)
        if raw.exposed:
            if raw.exposed in RESERVED_PARAMETERS or raw.exposed in exposed_names:
                errors[f"{where}.exposed"] = f"the query parameter {raw.exposed!r} is taken"
                return None
            if raw.op in NO_VALUE:
                errors[f"{where}.exposed"] = f"the operator {raw.op!r} takes no value to expose"
                return None
            exposed_names.add(raw.exposed)
        value: Any = None
        if raw.value is not None or not (raw.exposed or raw.argument):
            try:
                value = convert_value(spec, raw.op, raw.value)
            except ValueError as exc:
                errors[f"{where}.value"] = str(exc)
                return None
        options = tuple(raw.options or spec.options)
        if raw.options is not None:
            if spec.kind != "text" or raw.op in NO_VALUE | LIST_OPS | {"between"}:
                errors[f"{where}.options"] = "options apply to a text filter of one value"
                return None
            try:
                for option in raw.options:
                    convert_value(spec, raw.op, option, from_text=True)
            except ValueError as exc:
                errors[f"{where}.options"] = str(exc)
                return None
        return Condition(next(counter), where, spec, raw.op, value, raw.exposed,
                         raw.label or raw.field, options, raw.argument,
                         raw.default or "ignore")

    def group(parts: Sequence[FilterDef | GroupDef | UseDef],
              conjunction: Literal["and", "or"], where: str) -> Group:
        resolved: list[Condition | Group] = []
        for n, part in enumerate(parts):
            here = f"{where}.{n}" if where else f"filters.{n}"
            if isinstance(part, UseDef):
                named = extensions.filters.get(part.use)
                if named is None:
                    errors[f"{here}.use"] = f"no enabled plugin declares the filter {part.use!r}"
                else:
                    resolved.append(group(named.filters, named.group, f"{here}.use"))
            elif isinstance(part, GroupDef):
                resolved.append(group(part.filters, part.group, f"{here}.filters"))
            else:
                found = condition(part, here)
                if found is not None:
                    resolved.append(found)
        return Group(conjunction, tuple(resolved))

    where = group(definition.filters, "and", "")
    sorts: list[Ordering] = []
    keys: list[tuple[str, SortDef]] = []
    for n, sort_part in enumerate(definition.sorts):
        if isinstance(sort_part, SortDef):
            keys.append((f"sorts.{n}.field", sort_part))
            continue
        named_sort = extensions.sorts.get(sort_part.use)
        if named_sort is None:
            errors[f"sorts.{n}.use"] = f"no enabled plugin declares the sort {sort_part.use!r}"
            continue
        keys += [(f"sorts.{n}.use.{m}.field", key) for m, key in enumerate(named_sort.sorts)]
    for where_key, sort in keys:
        spec = registry.spec(sort.field, where_key, errors)
        if spec is None:
            continue
        if spec.multiple or spec.name == SEARCH_FIELD:
            errors[where_key] = f"cannot sort on {spec.name!r}: it has several values"
            continue
        sorts.append(Ordering(spec, sort.direction == "desc"))
    if definition.base != "item" and definition.displays.feed is not None:
        errors["displays.feed"] = "a feed lists items: a user or tag listing has none"
    columns: list[FieldSpec] = []
    for n, name in enumerate(definition.fields):
        spec = registry.spec(name, f"fields.{n}", errors)
        if spec is not None:
            columns.append(spec)
    if errors:
        first = next(iter(errors.items()))
        raise GatherError(422, f"Invalid Gather definition: {first[0]}: {first[1]}.",
                          errors=errors)
    listed = _listed_types(where, types) if definition.base == "item" else ()
    return Resolved(definition, where, tuple(sorts), listed, tuple(columns),
                    tuple(relationship for relationship, _ in registry.related.values()))


def _argument_problem(raw: FilterDef, spec: FieldSpec) -> tuple[str, str] | None:
    """What is wrong with a contextual argument, as (its part, the message), if anything."""
    if raw.argument is None:
        return "default", "a default applies to an argument"
    if raw.exposed is not None:
        return "argument", "a filter is exposed or an argument, not both"
    if raw.op in NO_VALUE | LIST_OPS | {"between"}:
        return "op", f"an argument is one value: {raw.op!r} does not take one"
    if raw.options is not None:
        return "options", "options apply to exposed filters"
    if (raw.default == "fixed") != (raw.value is not None):
        return "value", "an argument has a value exactly when its default is 'fixed'"
    if raw.default == "current_user" and spec.kind != "uuid":
        return "default", "'current_user' applies to the author or a user reference"
    return None


def _listed_types(where: Group, types: Mapping[str, ItemType]) -> tuple[str, ...]:
    """The item types a listing can show: those a top-level (AND) ``type`` filter allows,
    else all of them."""
    allowed = set(types)
    for part in where.parts:
        if isinstance(part, Condition) and part.spec.name == "type" and not part.exposed:
            if part.op == "equals":
                allowed &= {part.value}
            elif part.op == "in":
                allowed &= set(part.value)
    return tuple(sorted(allowed))
