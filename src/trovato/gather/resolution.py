"""Resolving a Gather definition: a parsed :class:`~trovato.gather.definition.Definition`
checked against the item types, the field registry and the plugins' filters and sorts.

:func:`resolve` checks that every ``field`` names a base column of the whitelist
(:data:`~trovato.gather.fields.BASE_FIELDS`) or a field of some item type, that every operator
fits the field's kind and every value has the kind's type. What comes out is a
:class:`Resolved` definition whose filters carry their
:class:`~trovato.gather.fields.FieldSpec` (where the value lives, how SQL compares it) and
values already converted to Python values — the compiler writes SQL from nothing else, so no
identifier ever comes from the document as text.

Errors are :class:`~trovato.gather.definition.GatherError` 422 with ``errors`` keyed by the
part's path (``filters.1.value``), as every other service reports a bad body.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from trovato.content.types import ItemType
from trovato.gather.definition import (
    LIST_OPS,
    MAX_JOINS,
    NO_EXTENSIONS,
    NO_VALUE,
    OPERATORS,
    RESERVED_PARAMETERS,
    Base,
    Definition,
    Extensions,
    FilterDef,
    GatherError,
    GroupDef,
    SortDef,
    UseDef,
)
from trovato.gather.fields import (
    BASE_FIELDS,
    SEARCH_FIELD,
    FieldSpec,
    Target,
    base_specs,
    target_specs,
)
from trovato.gather.values import convert_value


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
