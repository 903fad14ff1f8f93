"""File field types: a managed file with an optional description, and an image with alt text."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field

from trovato.content.fields.base import (
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    Reference,
    object_schema,
    string_value,
    uuid_value,
)

EXTENSIONS_TITLE = "Allowed file extensions"
EXTENSIONS_HELP = "Without the dot (pdf, png). Empty allows any extension."
STORAGE_TITLE = "Storage"
STORAGE_HELP = ("Public files are served to anyone who has their address; private files only to"
                " readers of an item that uses them.")


class FileSettings(FieldSettings):
    file_extensions: list[str] = Field(default_factory=list, max_length=100,
                                       title=EXTENSIONS_TITLE, description=EXTENSIONS_HELP)
    description_field: bool = False
    uri_scheme: Literal["public", "private"] = Field("public", title=STORAGE_TITLE,
                                                     description=STORAGE_HELP)


class FileField(FieldType):
    name = "file"
    label = "File"
    description = "A managed file (a row of file_managed) with an optional description."
    widget = "file_generic"
    formatter = "file_default"
    properties: ClassVar[tuple[str, ...]] = ("target_id", "description")
    settings_model: ClassVar[type[FieldSettings]] = FileSettings
    example = '{"target_id": "<file uuid>"}'
    image = False

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("target_id")
        if raw is None or raw == "":
            return None
        out: dict[str, Any] = {"target_id": str(uuid_value(raw))}
        description = string_value(value.get("description", ""), "description")
        if description:
            if not settings.get("description_field"):
                raise FieldValueError("description is not enabled for this field")
            if len(description) > 255:
                raise FieldValueError("description must be at most 255 characters")
            out["description"] = description
        return out

    def references(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], key: str
    ) -> list[Reference]:
        return [Reference("file", uuid.UUID(value["target_id"]), key,
                          tuple(settings.get("file_extensions") or ()), image=self.image)]

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {"target_id": {"type": "string", "format": "uuid"}}
        if settings.get("description_field"):
            props["description"] = {"type": "string", "maxLength": 255}
        return object_schema(props, ["target_id"])


class ImageSettings(FieldSettings):
    file_extensions: list[str] = Field(
        default_factory=lambda: ["png", "gif", "jpg", "jpeg", "webp"], max_length=100,
        title=EXTENSIONS_TITLE, description=EXTENSIONS_HELP)
    alt_required: bool = True
    uri_scheme: Literal["public", "private"] = Field("public", title=STORAGE_TITLE,
                                                     description=STORAGE_HELP)


class ImageField(FileField):
    name = "image"
    label = "Image"
    description = "A managed image file with alternative text and an optional title."
    widget = "image_image"
    formatter = "image"
    properties = ("target_id", "alt", "title")
    settings_model = ImageSettings
    example = '{"target_id": "<file uuid>", "alt": "What the image shows"}'
    image = True

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("target_id")
        if raw is None or raw == "":
            return None
        out: dict[str, Any] = {"target_id": str(uuid_value(raw))}
        alt = string_value(value.get("alt", ""), "alt")
        title = string_value(value.get("title", ""), "title")
        if settings.get("alt_required", True) and not alt.strip():
            raise FieldValueError("needs alternative text (alt)")
        for key, text in (("alt", alt), ("title", title)):
            if len(text) > 512:
                raise FieldValueError(f"{key} must be at most 512 characters")
            if text:
                out[key] = text
        return out

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        required = ["target_id", "alt"] if settings.get("alt_required", True) else ["target_id"]
        return object_schema(
            {
                "target_id": {"type": "string", "format": "uuid"},
                "alt": {"type": "string", "maxLength": 512},
                "title": {"type": "string", "maxLength": 512},
            },
            required,
        )
