"""The field registry of Gather: what a definition may name and where each value lives.

A :class:`FieldSpec` says where a field's value lives (a base column, or a JSONB key and
property of ``item.fields``) and how it compares (its kind); the base columns of items, users
and tags are whitelists, and each item type's fields join the item base's registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from trovato.content.types import ItemType
from trovato.gather.definition import Base, Kind

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
