"""Text field types: a single line of plain text, and long text with its text format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from trovato.content.fields.base import (
    TEXT_MAX,
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    object_schema,
    string_value,
)


class TextSettings(FieldSettings):
    max_length: int = Field(default=255, ge=1, le=65535)


class TextField(FieldType):
    name = "text"
    label = "Text"
    description = "A single line of plain text."
    widget = "text_textfield"
    formatter = "text_plain"
    properties = ("value",)
    settings_model = TextSettings
    example = '{"value": "text"}'
    filled = {"value": {"minLength": 1}}

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = string_value(value.get("value"))
        if text == "":
            return None
        limit = int(settings["max_length"])
        if len(text) > limit:
            raise FieldValueError(f"must be at most {limit} characters")
        if "\n" in text or "\r" in text:
            raise FieldValueError("must be a single line")
        return {"value": text}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema(
            {"value": {"type": "string", "maxLength": settings.get("max_length", 255)}},
            ["value"],
        )


class TextLongSettings(FieldSettings):
    max_length: int | None = Field(default=None, ge=1, le=TEXT_MAX)
    default_format: str = "filtered_html"


class TextLongField(FieldType):
    name = "text_long"
    label = "Long text"
    description = "Formatted text: the value and the name of its text format."
    widget = "text_textarea"
    formatter = "text_default"
    properties = ("value", "format")
    settings_model = TextLongSettings
    example = '{"value": "<p>text</p>", "format": "filtered_html"}'
    filled = {"value": {"minLength": 1}}

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = string_value(value.get("value"))
        if text == "":
            return None
        limit = min(int(settings.get("max_length") or TEXT_MAX), TEXT_MAX)
        if len(text) > limit:
            raise FieldValueError(f"must be at most {limit} characters")
        fmt = value.get("format", settings.get("default_format", "filtered_html"))
        fmt = string_value(fmt, "format")
        if fmt not in env.formats:
            raise FieldValueError(
                f"format {fmt!r} is not a known text format"
                f" (known: {', '.join(sorted(env.formats))})"
            )
        return {"value": text, "format": fmt}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        text: dict[str, Any] = {"type": "string"}
        if settings.get("max_length"):
            text["maxLength"] = settings["max_length"]
        return object_schema(
            {
                "value": text,
                "format": {
                    "type": "string",
                    "description": "A text format, e.g. plain_text, filtered_html, markdown,"
                    " full_html.",
                    "default": settings.get("default_format", "filtered_html"),
                },
            },
            ["value"],
        )
