"""Choice field types: a boolean, and one key out of a fixed list of allowed values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from trovato.content.fields.base import (
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    object_schema,
    string_value,
)


class BooleanSettings(FieldSettings):
    on_label: str = Field(default="On", max_length=255)
    off_label: str = Field(default="Off", max_length=255)


class BooleanField(FieldType):
    name = "boolean"
    label = "Boolean"
    description = "True or false."
    widget = "boolean_checkbox"
    formatter = "boolean"
    properties = ("value",)
    settings_model = BooleanSettings
    example = '{"value": true}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        flag = value.get("value")
        if not isinstance(flag, bool):
            raise FieldValueError("must be true or false")
        return {"value": flag}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema({"value": {"type": "boolean"}}, ["value"])


MAX_ALLOWED_VALUES = 1000
# What ``_keys`` checks: 1 to 255 characters, none of them NUL.
KEY_RULES: dict[str, Any] = {"minLength": 1, "maxLength": 255, "pattern": "^[^\\x00]*$"}


def _keys_or_list(schema: dict[str, Any]) -> None:
    # The schema shows both forms the settings take: key → label, or a list of keys.
    keyed = {**schema, "propertyNames": KEY_RULES}
    schema.clear()
    schema["anyOf"] = [
        keyed,
        {
            "type": "array",
            "items": {"type": "string", **KEY_RULES},
            "uniqueItems": True,
            "minItems": 1,
            "maxItems": MAX_ALLOWED_VALUES,
        },
    ]


class ListSettings(FieldSettings):
    # Ordered key → label; a plain list of keys is accepted and labelled by itself.
    allowed_values: dict[str, str] = Field(
        min_length=1, max_length=MAX_ALLOWED_VALUES, json_schema_extra=_keys_or_list
    )

    @field_validator("allowed_values", mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ValueError("must be a list of strings or an object of key → label")
            if len(set(value)) != len(value):
                raise ValueError("must not repeat a value")
            return {v: v for v in value}
        return value

    @field_validator("allowed_values")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key or len(key) > 255 or "\x00" in key:
                raise ValueError("keys must be 1 to 255 characters")
        return value


class ListField(FieldType):
    name = "list"
    label = "List (allowed values)"
    description = "One key out of a fixed list of allowed values."
    widget = "options_select"
    other_widgets = ("options_buttons",)
    formatter = "list_default"
    properties = ("value",)
    settings_model = ListSettings
    example = '{"value": "key"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        key = string_value(value.get("value"))
        if key == "":
            return None
        allowed = settings["allowed_values"]
        if key not in allowed:
            shown = ", ".join(list(allowed)[:20]) + (", …" if len(allowed) > 20 else "")
            raise FieldValueError(f"must be one of: {shown}")
        return {"value": key}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema(
            {"value": {"type": "string", "enum": list(settings.get("allowed_values", {}))}},
            ["value"],
        )
