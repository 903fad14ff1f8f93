"""The reference field type: a value pointing at an item, a user or a category tag.

A tag may also be given by name (``{"name": "Jazz"}``: free tagging). Such a value is only
ever transient: the content service resolves it inside the save's transaction through the
categories service, which finds the tag in the field's vocabularies or creates it, and stores
the tag's id like any other reference."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, field_validator, model_serializer

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
    value_object,
)

# A tag name's longest (what the categories service stores).
TAG_NAME_MAX = 255


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

    # Tags only: whether a name given that no tag has creates the tag (free tagging, in the
    # first of target_bundles); off, the field takes existing tags only. Not stored for the
    # other target types, which it does not apply to.
    free_tagging: bool = Field(
        default=True,
        description="When the target type is category_tag: a new name typed into the field"
                    " creates the tag; unticked, the field takes existing tags only.")

    _check = field_validator("target_bundles")(_names)

    @model_serializer(mode="wrap")
    def _tags_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if self.target_type != "category_tag":
            dumped.pop("free_tagging", None)
        return dumped


class ReferenceField(FieldType):
    name = "reference"
    label = "Reference"
    description = "A reference to an item, a user or a category tag."
    widget = "reference_autocomplete"
    formatter = "reference_label"
    properties = ("target_id", "target_type")
    settings_model = ReferenceSettings
    example = '{"target_id": "<uuid>", "target_type": "item"}'

    def clean(
        self, value: Any, settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        allowed: tuple[str, ...] = self.properties
        if settings.get("target_type") == "category_tag":
            allowed = (*allowed, "name")
        return self.clean_object(value_object(value, allowed, self.example), settings, env)

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("target_id")
        kind = settings.get("target_type", "item")
        if "name" in value:
            if raw is not None:
                raise FieldValueError("give a tag by target_id or by name, not both")
            return self._named_tag(value)
        if raw is None or raw == "":
            return None
        target = uuid_value(raw)
        given = value.get("target_type", kind)
        if given != kind:
            raise FieldValueError(f"target_type must be {kind!r}")
        return {"target_id": str(target), "target_type": kind}

    @staticmethod
    def _named_tag(value: Mapping[str, Any]) -> dict[str, Any]:
        """A tag given by its name, to be resolved on save (module docstring)."""
        name = value["name"]
        given = value.get("target_type", "category_tag")
        if given != "category_tag":
            raise FieldValueError("target_type must be 'category_tag'")
        if not isinstance(name, str) or not name.strip() or len(name) > TAG_NAME_MAX \
                or any(ord(c) < 32 for c in name):
            raise FieldValueError(f"name must be a tag name: one line of 1 to {TAG_NAME_MAX}"
                                  " characters")
        return {"name": name.strip(), "target_type": "category_tag"}

    def references(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], key: str
    ) -> list[Reference]:
        if "target_id" not in value:
            return []  # a tag named for free tagging: checked once it is resolved
        return [
            Reference(
                kind=value["target_type"],
                id=uuid.UUID(value["target_id"]),
                key=key,
                bundles=tuple(settings.get("target_bundles") or ()),
            )
        ]

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        if settings.get("target_type") == "category_tag":
            by_id = object_schema({"target_id": {"type": "string", "format": "uuid"},
                                   "target_type": {"type": "string", "const": "category_tag"}},
                                  ["target_id"])
            by_name = object_schema(
                {"name": {"type": "string", "minLength": 1, "maxLength": TAG_NAME_MAX,
                          "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$",
                          "description": "A tag's name: found in the field's vocabularies,"
                                         " or created there (needs `create tags`)."},
                 "target_type": {"type": "string", "const": "category_tag"}},
                ["name"])
            return {"oneOf": [by_id, by_name]}
        return object_schema(
            {
                "target_id": {"type": "string", "format": "uuid"},
                "target_type": {"type": "string", "const": settings.get("target_type", "item")},
            },
            ["target_id"],
        )
