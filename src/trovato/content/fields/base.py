"""What every field type shares: the :class:`FieldType` base, its settings model, the value
and settings errors, field definitions, references, and the small value checks the types reuse.

A field type knows

* its **storage shape** — the properties of one value object kept in ``item.fields`` (DESIGN §5:
  a single-valued field stores one object, a multi-valued field a list of objects);
* its **settings** — a strict pydantic model, so unknown or mistyped settings are errors and the
  JSON schema of the settings comes for free;
* how to **validate** one value with a clear message, returning the normalised stored object;
* the **JSON-schema fragment** of one value, for the OpenAPI document, and what a value must
  hold not to count as empty (a required field needs one);
* the **default widget and formatter** names the form and render layers look up;
* which **references** a value makes (items, users, tags, files), so the content service can
  check them all with one query per save instead of one per value.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from trovato.render.formats import FORMATS, MAX_TEXT_LENGTH

# The text formats the kernel ships (the formats module owns their filter chains). The content
# service receives the set of formats that exist as a parameter, so plugins may add more.
KNOWN_FORMATS: frozenset[str] = frozenset(FORMATS)

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
# The same rule as a JSON-schema pattern (ECMA-262, where ``$`` is only the end of the text).
FIELD_NAME_PATTERN = "^[a-z][a-z0-9_]*$"
FIELD_NAME_MAX = 64
# -1 means unlimited; a finite cardinality above this is almost certainly a mistake and would
# make forms and payloads unwieldy.
MAX_CARDINALITY = 100
# Unlimited fields still need a bound, or one request could store millions of values.
UNLIMITED_MAX_VALUES = 1000
# Integers are compared in SQL as bigint (Gather casts JSONB numbers), so stay inside it.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
TEXT_MAX = MAX_TEXT_LENGTH


class FieldValueError(ValueError):
    """One value is invalid; ``message`` is shown to the user next to the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldSettingsError(ValueError):
    """Field settings are invalid; ``errors`` maps a settings key to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Reference:
    """A record one field value points at; checked for existence and visibility on save."""

    kind: Literal["item", "user", "category_tag", "file"]
    id: uuid.UUID
    key: str  # the error key of the value, e.g. ``fields.field_tags.2``
    bundles: tuple[str, ...] = ()  # allowed item types or vocabularies (empty: any)
    image: bool = False  # a file that must be an image


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    """A field instance on a bundle, with the shared storage (type, cardinality) of its name."""

    name: str
    type: str
    label: str
    required: bool = False
    cardinality: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)
    weight: int = 0
    description: str = ""
    # The widget editing it ("": its field type's own) and how the full view shows it
    # ({} : as the field type does; else ``label`` above/inline/hidden and ``hidden``).
    widget: str = ""
    display: Mapping[str, Any] = field(default_factory=dict)
    # Whether it takes several values: asked of every field on every save and form, so kept
    # rather than computed on each reading.
    multiple: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "multiple", self.cardinality != 1)

    def public(self) -> dict[str, Any]:
        """The JSON shape of a field in an item type (``/api/v1/item-types``); the widget
        and display only when they differ from the field type's own."""
        shape: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "required": self.required,
            "cardinality": self.cardinality,
            "settings": dict(self.settings),
        }
        if self.widget:
            shape["widget"] = self.widget
        if self.display:
            shape["display"] = dict(self.display)
        return shape


@dataclass(frozen=True, slots=True)
class FieldEnv:
    """What value validation may depend on besides the settings."""

    formats: frozenset[str] = KNOWN_FORMATS


class FieldSettings(BaseModel):
    """Base of every settings model: unknown keys are errors, no silent type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _settings_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        message = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        errors.setdefault(key, message.removeprefix("Value error, "))
    return errors


def string_value(value: Any, what: str = "value") -> str:
    """``value`` as a string fit for JSONB, or :class:`FieldValueError` naming ``what``."""
    if not isinstance(value, str):
        raise FieldValueError(f"{what} must be a string")
    # PostgreSQL cannot store NUL in jsonb text, and no honest input contains it.
    if "\x00" in value:
        raise FieldValueError(f"{what} must not contain NUL characters")
    return value


def value_object(value: Any, allowed: Collection[str], example: str) -> Mapping[str, Any]:
    """``value`` as a value object with no property outside ``allowed``."""
    # A dict (what JSON and forms give) is told without the Mapping ABC's slower check.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise FieldValueError(f"must be an object like {example}")
    unknown = value.keys() - allowed
    if unknown:
        raise FieldValueError(
            f"unknown property {min(unknown)!r} (allowed: {', '.join(allowed)})"
        )
    return value


def uuid_value(value: Any, what: str = "target_id") -> uuid.UUID:
    """``value`` (a string) as a UUID, or :class:`FieldValueError` naming ``what``."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise FieldValueError(f"{what} must be a UUID")


class FieldType(ABC):
    """One field type. Subclasses set the class attributes and implement :meth:`clean`."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    widget: ClassVar[str]
    # Other widgets that can edit this type's values, an editor may choose (by name, as the
    # widget registry knows them).
    other_widgets: ClassVar[tuple[str, ...]] = ()
    formatter: ClassVar[str]
    properties: ClassVar[tuple[str, ...]]  # the storage shape: keys of one value object
    settings_model: ClassVar[type[FieldSettings]] = FieldSettings
    example: ClassVar[str] = '{"value": …}'
    # The JSON-schema rules a value's properties must meet for :meth:`clean` not to take it
    # as empty (property → rules), where :meth:`value_schema` admits an empty value (formats
    # are only annotations in JSON Schema 2020-12, so a date's "" is admitted too).
    filled: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def validate_settings(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """The settings with defaults filled in; :class:`FieldSettingsError` when invalid."""
        try:
            model = self.settings_model.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise FieldSettingsError(_settings_errors(exc)) from None
        return model.model_dump(mode="json")

    def widgets(self) -> tuple[str, ...]:
        """The widgets that can edit this type's values, its own first."""
        return (self.widget, *self.other_widgets)

    def settings_schema(self) -> dict[str, Any]:
        schema = self.settings_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def clean(
        self, value: Any, settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        """The normalised stored object for one value, or ``None`` when the value is empty.

        Raises :class:`FieldValueError` with a message fit to show the user."""
        obj = value_object(value, self.properties, self.example)
        return self.clean_object(obj, settings, env)

    @abstractmethod
    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None: ...

    @abstractmethod
    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON schema (2020-12, as OpenAPI 3.1 uses) of one stored value object."""

    def filled_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON schema of one value that is not empty: what a required field needs."""
        schema = self.value_schema(settings)
        if not self.filled:
            return schema
        properties = {name: {**rule, **self.filled.get(name, {})}
                      for name, rule in schema["properties"].items()}
        return {**schema, "properties": properties}

    def references(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], key: str
    ) -> list[Reference]:
        """Records a cleaned value points at (none for plain data types)."""
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "properties": list(self.properties),
            "widget": self.widget,
            "widgets": list(self.widgets()),
            "formatter": self.formatter,
            "settings": self.settings_schema(),
        }


def object_schema(properties: dict[str, Any], required: Iterable[str]) -> dict[str, Any]:
    """The JSON schema of a value object with exactly these properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }
