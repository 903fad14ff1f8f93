"""The reference field type: a value pointing at an item, a user or a category tag."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from trovato.content.fields.base import (
    FIELD_NAME,
    FIELD_NAME_PATTERN,
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    Reference,
    object_schema,
    uuid_value,
)


def _names(values: list[str]) -> list[str]:
    for name in values:
        if not FIELD_NAME.match(name):
            raise ValueError(f"{name!r} is not a machine name")
    return values


class ReferenceSettings(FieldSettings):
    target_type: Literal["item", "user", "category_tag"] = "item"
    # Item types (for items) or vocabulary machine names (for tags); empty allows all.
    target_bundles: list[str] = Field(
        default_factory=list,
        max_length=200,
        json_schema_extra={"items": {"type": "string", "pattern": FIELD_NAME_PATTERN}},
    )

    _check = field_validator("target_bundles")(_names)


class ReferenceField(FieldType):
    name = "reference"
    label = "Reference"
    description = "A reference to an item, a user or a category tag."
    widget = "reference_autocomplete"
    formatter = "reference_label"
    properties = ("target_id", "target_type")
    settings_model = ReferenceSettings
    example = '{"target_id": "<uuid>", "target_type": "item"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("target_id")
        if raw is None or raw == "":
            return None
        target = uuid_value(raw)
        kind = settings.get("target_type", "item")
        given = value.get("target_type", kind)
        if given != kind:
            raise FieldValueError(f"target_type must be {kind!r}")
        return {"target_id": str(target), "target_type": kind}

    def references(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], key: str
    ) -> list[Reference]:
        return [
            Reference(
                kind=value["target_type"],
                id=uuid.UUID(value["target_id"]),
                key=key,
                bundles=tuple(settings.get("target_bundles") or ()),
            )
        ]

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema(
            {
                "target_id": {"type": "string", "format": "uuid"},
                "target_type": {"type": "string", "const": settings.get("target_type", "item")},
            },
            ["target_id"],
        )
