"""Validation of an item's complete ``fields`` against its bundle's field definitions.

:func:`validate_fields` checks unknown fields, cardinality, required fields and every value,
collecting all messages keyed by ``fields.<name>`` (single-valued) or ``fields.<name>.<delta>``
(multi-valued).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trovato.content.fields.base import (
    UNLIMITED_MAX_VALUES,
    FieldDefinition,
    FieldEnv,
    FieldType,
    FieldValueError,
    Reference,
)
from trovato.content.fields.registry import FieldRegistry


@dataclass(slots=True)
class FieldsResult:
    """The outcome of validating an item's fields."""

    values: dict[str, Any]
    errors: dict[str, str]
    references: list[Reference]


def _key(definition: FieldDefinition, delta: int) -> str:
    base = f"fields.{definition.name}"
    return f"{base}.{delta}" if definition.multiple else base


def validate_fields(
    registry: FieldRegistry,
    definitions: Iterable[FieldDefinition],
    raw: Mapping[str, Any],
    env: FieldEnv,
) -> FieldsResult:
    """Validate the complete ``fields`` of an item against its bundle's definitions.

    ``raw`` maps field names to a value object (single), a list of value objects (multi) or
    ``null`` (no value). Returns the normalised values (empty fields left out), every error
    message, and the references to check."""
    by_name = {d.name: d for d in definitions}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    references: list[Reference] = []
    for name in raw:
        if name not in by_name:
            errors[f"fields.{name}"] = "unknown field"
    for name, definition in by_name.items():
        given = raw.get(name)
        field_type = registry.get(definition.type)
        key = f"fields.{name}"
        cleaned: list[dict[str, Any]] = []
        if given is None:
            items: list[Any] = []
        elif definition.multiple:
            if not isinstance(given, list):
                errors[key] = "must be a list of values (this field takes several)"
                continue
            limit = (
                definition.cardinality if definition.cardinality > 0 else UNLIMITED_MAX_VALUES
            )
            if len(given) > limit:
                errors[key] = f"must have at most {limit} values"
                continue
            items = given
        else:
            if isinstance(given, list):
                errors[key] = "must be a single value object, not a list"
                continue
            items = [given]
        failed = False
        # Only the field types holding references (items, tags, files) are asked for them.
        refers = type(field_type).references is not FieldType.references
        for delta, item in enumerate(items):
            try:
                value = field_type.clean(item, definition.settings, env)
            except FieldValueError as exc:
                errors[_key(definition, delta)] = exc.message
                failed = True
                continue
            if value is not None:
                if refers:
                    references.extend(field_type.references(
                        value, definition.settings, _key(definition, delta)))
                cleaned.append(value)
        if failed:
            continue
        if not cleaned:
            if definition.required:
                errors[key] = "is required"
            continue
        values[name] = cleaned if definition.multiple else cleaned[0]
    return FieldsResult(values=values, errors=errors, references=references)
