"""Item types (bundles) and their field instances, as records: parsed, validated, permitted.

An item type is a row of ``item_type`` plus one ``field_instance`` per field. The storage of a
field name — its field type and cardinality — lives once in ``field_config`` and is shared by
every type that uses the name, so ``field_body`` means the same thing everywhere; reusing a name
with another type or cardinality is an error, not a silent second meaning.

Types are created by administrators (API, admin UI) or by plugins through ``tap_item_info``,
through the service in :mod:`trovato.content.type_service`, which validates every change with
:func:`parse_item_type`. Each type brings its own permissions (create, edit
own/any, delete own/any), registered in the kernel's permission registry by
:func:`register_content_permissions` at start and after every change, in every process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from trovato.content.fields import (
    FIELD_NAME,
    FIELD_NAME_MAX,
    MAX_CARDINALITY,
    FieldDefinition,
    FieldRegistry,
    FieldSettingsError,
)
from trovato.errors import ServiceError
from trovato.files.styles import NAME as STYLE_NAME
from trovato.users.permissions import Permission, PermissionRegistry

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
TYPE_NAME_MAX = 32
# What a new item of a type is unless its editor says otherwise (each type may change them).
TYPE_DEFAULTS: Mapping[str, bool] = {"status": True, "promote": False, "sticky": False}
MAX_FIELDS = 200
PROVIDER = "content"

# Content permissions that do not depend on a type ("access content" is the kernel's own).
CONTENT_PERMISSIONS: tuple[Permission, ...] = (
    Permission("view unpublished content", "View unpublished content of any author",
               provider=PROVIDER),
    Permission("administer content", "Create, edit and delete all content",
               restricted=True, provider=PROVIDER),
    Permission("administer content types", "Create and change item types and their fields",
               restricted=True, provider=PROVIDER),
    Permission("view revisions", "View the revisions of content one may view",
               provider=PROVIDER),
    Permission("revert revisions", "Revert content one may edit to an earlier revision",
               provider=PROVIDER),
    Permission("use full_html", "Save text in the Full HTML format (no filtering)",
               restricted=True, provider=PROVIDER),
)


def type_permissions(type_name: str, label: str = "") -> list[Permission]:
    """The five permissions of one item type."""
    shown = label or type_name
    return [
        Permission(f"create {type_name} content", f"{shown}: create new content",
                   provider=PROVIDER),
        Permission(f"edit own {type_name} content", f"{shown}: edit own content",
                   provider=PROVIDER),
        Permission(f"edit any {type_name} content", f"{shown}: edit any content",
                   provider=PROVIDER),
        Permission(f"delete own {type_name} content", f"{shown}: delete own content",
                   provider=PROVIDER),
        Permission(f"delete any {type_name} content", f"{shown}: delete any content",
                   provider=PROVIDER),
    ]


def register_content_permissions(
    registry: PermissionRegistry, types: Iterable[ItemType]
) -> None:
    """Replace the content permissions in ``registry`` with those of ``types``."""
    registry.remove_provider(PROVIDER)
    for permission in CONTENT_PERMISSIONS:
        registry.add(permission)
    for item_type in types:
        for permission in type_permissions(item_type.type, item_type.label):
            registry.add(permission)


class ItemTypeError(ServiceError):
    """A refused item-type change: ``status`` (HTTP), a message and per-field ``errors``."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, message, errors=errors)


@dataclass(frozen=True, slots=True)
class ItemType:
    type: str
    label: str
    description: str = ""
    fields: tuple[FieldDefinition, ...] = ()
    plugin: str | None = None
    has_title: bool = True
    title_label: str = "Title"
    # Whether a new item is published, promoted, sticky (every key of TYPE_DEFAULTS).
    defaults: Mapping[str, bool] = dataclass_field(default_factory=lambda: dict(TYPE_DEFAULTS))
    # How many times the type's fields, and the site's field storage, had changed when it was
    # read (0: a definition not read from the database); an edit's write is guarded by both.
    # Not part of the type's value: two reads of one definition compare equal whatever the
    # counts.
    fields_version: int = dataclass_field(default=0, compare=False)
    storage_version: int = dataclass_field(default=0, compare=False)

    def field(self, name: str) -> FieldDefinition | None:
        for definition in self.fields:
            if definition.name == name:
                return definition
        return None

    def public(self) -> dict[str, Any]:
        """The JSON shape of an item type (``/api/v1/item-types``)."""
        shape: dict[str, Any] = {
            "type": self.type,
            "label": self.label,
            "description": self.description,
            "fields": [f.public() for f in self.fields],
        }
        if dict(self.defaults) != dict(TYPE_DEFAULTS):
            shape["defaults"] = dict(self.defaults)
        return shape


_ORDERED: dict[int, tuple[ItemType, tuple[FieldDefinition, ...]]] = {}


def display_order(item_type: ItemType | None) -> tuple[FieldDefinition, ...]:
    """``item_type``'s fields in display order (weight, then name), sorted once per type
    object: the cached types are the same objects until a type changes, and a listing asks
    once per teaser."""
    if item_type is None:
        return ()
    found = _ORDERED.get(id(item_type))
    if found is None or found[0] is not item_type:  # an id can be reused by a new object
        if len(_ORDERED) >= 256:
            _ORDERED.clear()
        found = _ORDERED[id(item_type)] = (
            item_type, tuple(sorted(item_type.fields, key=lambda d: (d.weight, d.name))))
    return found[1]


def text_fields(item_type: ItemType | None) -> tuple[str, ...]:
    """The type's text fields in display order: where an item's summary comes from
    (``trovato.content.summary``), so stored summaries are stale when these change."""
    return tuple(d.name for d in display_order(item_type) if d.type in ("text", "text_long"))


@dataclass(frozen=True, slots=True)
class DeleteResult:
    type: str
    deleted_items: int

    @property
    def message(self) -> str:
        if self.deleted_items:
            return (
                f"Deleted item type {self.type!r} and its {self.deleted_items}"
                f" item{'s' if self.deleted_items != 1 else ''}."
            )
        return f"Deleted item type {self.type!r}."


_TYPE_KEYS = frozenset({"type", "label", "description", "fields", "has_title", "title_label",
                        "defaults"})
_FIELD_KEYS = frozenset(
    {"name", "type", "label", "required", "cardinality", "settings", "description", "widget",
     "display"}
)
# How the full view may show a field's label; the view's default depends on the field type.
LABEL_DISPLAYS = ("above", "inline", "hidden")


def _text(data: Mapping[str, Any], key: str, errors: dict[str, str], *, prefix: str = "",
          required: bool = False, max_length: int = 255, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        errors[prefix + key] = "must be a string"
        return default
    if required and not value.strip():
        errors[prefix + key] = "is required"
    elif len(value) > max_length:
        errors[prefix + key] = f"must be at most {max_length} characters"
    elif "\x00" in value:
        errors[prefix + key] = "must not contain NUL characters"
    return value


def parse_item_type(
    data: Mapping[str, Any], registry: FieldRegistry, *, plugin: str | None = None
) -> ItemType:
    """Validate an item-type document (the API shape); :class:`ItemTypeError` lists every
    problem, keyed like the document (``fields.field_body.settings.max_length``)."""
    errors: dict[str, str] = {}
    for key in sorted(set(data) - _TYPE_KEYS):
        errors[key] = "unknown field"
    name = data.get("type")
    if not isinstance(name, str) or not name:
        errors["type"] = "is required"
        name = ""
    elif len(name) > TYPE_NAME_MAX or not TYPE_NAME.match(name):
        errors["type"] = (
            f"must be a machine name: a lowercase letter, then lowercase letters, digits or"
            f" underscores, at most {TYPE_NAME_MAX} characters"
        )
    label = _text(data, "label", errors, required=True)
    description = _text(data, "description", errors, max_length=2000)
    title_label = _text(data, "title_label", errors, default="Title") or "Title"
    has_title = data.get("has_title", True)
    if not isinstance(has_title, bool):
        errors["has_title"] = "must be true or false"
        has_title = True
    defaults = _parse_defaults(data.get("defaults"), errors)
    raw_fields = data.get("fields", [])
    definitions: list[FieldDefinition] = []
    if not isinstance(raw_fields, list):
        errors["fields"] = "must be a list of fields"
        raw_fields = []
    elif len(raw_fields) > MAX_FIELDS:
        errors["fields"] = f"must have at most {MAX_FIELDS} fields"
        raw_fields = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_fields):
        definition = _parse_field(raw, index, registry, errors, seen)
        if definition is not None:
            definitions.append(definition)
    if errors:
        raise ItemTypeError(422, "The item type is invalid.", errors)
    return ItemType(
        type=name,
        label=label,
        description=description,
        fields=tuple(definitions),
        plugin=plugin,
        has_title=has_title,
        title_label=title_label,
        defaults=defaults,
    )


def _parse_defaults(raw: Any, errors: dict[str, str]) -> dict[str, bool]:
    """A type's defaults for new items: :data:`TYPE_DEFAULTS` with what ``raw`` changes."""
    defaults = dict(TYPE_DEFAULTS)
    if raw is None:
        return defaults
    if not isinstance(raw, Mapping):
        errors["defaults"] = "must be an object"
        return defaults
    for key, value in raw.items():
        if key not in TYPE_DEFAULTS:
            errors[f"defaults.{key}"] = "unknown field"
        elif not isinstance(value, bool):
            errors[f"defaults.{key}"] = "must be true or false"
        else:
            defaults[key] = value
    return defaults


def _parse_field(raw: Any, index: int, registry: FieldRegistry, errors: dict[str, str],
                 seen: set[str]) -> FieldDefinition | None:
    if not isinstance(raw, Mapping):
        errors[f"fields.{index}"] = "must be an object"
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        errors[f"fields.{index}.name"] = "is required"
        return None
    prefix = f"fields.{name}."
    if len(name) > FIELD_NAME_MAX or not FIELD_NAME.match(name):
        errors[f"fields.{index}.name"] = (
            f"must be a machine name: a lowercase letter, then lowercase letters, digits or"
            f" underscores, at most {FIELD_NAME_MAX} characters"
        )
        return None
    if name in seen:
        errors[f"fields.{name}"] = "is listed twice"
        return None
    seen.add(name)
    failed = False
    for key in sorted(set(raw) - _FIELD_KEYS):
        errors[prefix + key] = "unknown field"
        failed = True
    field_type = raw.get("type")
    if not isinstance(field_type, str) or field_type not in registry:
        errors[prefix + "type"] = (
            f"must be one of the field types: {', '.join(registry.names())}"
        )
        return None
    label = _text(raw, "label", errors, prefix=prefix, required=True)
    description = _text(raw, "description", errors, prefix=prefix, max_length=2000)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errors[prefix + "required"] = "must be true or false"
        failed = True
    cardinality = raw.get("cardinality", 1)
    if (
        not isinstance(cardinality, int)
        or isinstance(cardinality, bool)
        or not (cardinality == -1 or 1 <= cardinality <= MAX_CARDINALITY)
    ):
        errors[prefix + "cardinality"] = (
            f"must be -1 (unlimited) or a number from 1 to {MAX_CARDINALITY}"
        )
        failed = True
    raw_settings = raw.get("settings", {})
    settings: dict[str, Any] = {}
    if not isinstance(raw_settings, Mapping):
        errors[prefix + "settings"] = "must be an object"
        failed = True
    else:
        try:
            settings = registry.get(field_type).validate_settings(raw_settings)
        except FieldSettingsError as exc:
            for key, message in exc.errors.items():
                errors[f"{prefix}settings.{key}"] = message
            failed = True
    widget = raw.get("widget") or ""
    if not isinstance(widget, str) or (widget and widget not in registry.get(field_type)
                                       .widgets()):
        errors[prefix + "widget"] = (
            f"must be one of the widgets of {field_type}:"
            f" {', '.join(registry.get(field_type).widgets())}")
        failed = True
        widget = ""
    display = _parse_display(raw.get("display"), prefix, errors, field_type)
    if failed or display is None or f"{prefix}label" in errors:
        return None
    return FieldDefinition(
        name=name,
        type=field_type,
        label=label,
        required=bool(required),
        cardinality=int(cardinality),
        settings=settings,
        weight=index,
        description=description,
        widget="" if widget == registry.get(field_type).widget else widget,
        display=display,
    )


def _parse_display(raw: Any, prefix: str, errors: dict[str, str],
                   field_type: str) -> dict[str, Any] | None:
    """A field's display in the full view, without what is the default (None: invalid). An
    image field may name the image style it is shown in (``image_style``)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors[prefix + "display"] = "must be an object"
        return None
    display: dict[str, Any] = {}
    known = {"label", "hidden", "image_style"} if field_type == "image" else {"label", "hidden"}
    for key in sorted(set(raw) - known):
        errors[f"{prefix}display.{key}"] = "unknown field"
    if "label" in raw:
        if raw["label"] not in LABEL_DISPLAYS:
            errors[prefix + "display.label"] = f"must be one of {', '.join(LABEL_DISPLAYS)}"
        else:
            display["label"] = raw["label"]
    if "image_style" in raw:
        style = raw["image_style"]
        if not isinstance(style, str) or not STYLE_NAME.match(style):
            errors[prefix + "display.image_style"] = "must be the machine name of an image style"
        else:
            display["image_style"] = style
    hidden = raw.get("hidden", False)
    if not isinstance(hidden, bool):
        errors[prefix + "display.hidden"] = "must be true or false"
    elif hidden:
        display["hidden"] = True
    if any(key.startswith(prefix + "display") for key in errors):
        return None
    return display
