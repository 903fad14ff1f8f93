"""The field type registry: the core field types, and lookup of a type by its machine name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trovato.content.fields.base import (
    FIELD_NAME,
    UNLIMITED_MAX_VALUES,
    FieldDefinition,
    FieldType,
)
from trovato.content.fields.choices import BooleanField, ListField
from trovato.content.fields.dates import DateField, DatetimeField
from trovato.content.fields.files import FileField, ImageField
from trovato.content.fields.links import EmailField, LinkField
from trovato.content.fields.numeric import DecimalField, FloatField, IntegerField
from trovato.content.fields.references import ReferenceField
from trovato.content.fields.text import TextField, TextLongField

CORE_FIELD_TYPES: tuple[type[FieldType], ...] = (
    TextField,
    TextLongField,
    IntegerField,
    DecimalField,
    FloatField,
    BooleanField,
    DateField,
    DatetimeField,
    EmailField,
    LinkField,
    ListField,
    ReferenceField,
    FileField,
    ImageField,
)


class UnknownFieldTypeError(KeyError):
    pass


class FieldRegistry:
    """Field types by name. One per kernel; field type names are identifiers nowhere but here."""

    def __init__(self, types: Iterable[type[FieldType]] = CORE_FIELD_TYPES) -> None:
        self._types: dict[str, FieldType] = {}
        for cls in types:
            self.register(cls)

    def register(self, cls: type[FieldType]) -> None:
        if not FIELD_NAME.match(cls.name):
            raise ValueError(f"field type name {cls.name!r} is not a machine name")
        self._types[cls.name] = cls()

    def get(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFieldTypeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def all(self) -> list[FieldType]:
        return [self._types[n] for n in self.names()]

    def field_schema(self, definition: FieldDefinition) -> dict[str, Any]:
        """The JSON schema of a field's value: an object, or a list of objects. A required
        field's value must not be empty; of a list, at least one (empty ones are dropped)."""
        field_type = self.get(definition.type)
        one = field_type.value_schema(definition.settings)
        filled = field_type.filled_schema(definition.settings)
        schema: dict[str, Any]
        if definition.multiple:
            schema = {"type": "array", "items": one}
            schema["maxItems"] = (
                definition.cardinality if definition.cardinality > 0 else UNLIMITED_MAX_VALUES
            )
            if definition.required:
                schema["contains"] = filled
        else:
            schema = filled if definition.required else one
        if definition.label:
            schema = {**schema, "title": definition.label}
        return schema
