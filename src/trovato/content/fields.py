"""The field type registry (CCK): every field type is one self-contained class.

A field type knows

* its **storage shape** — the properties of one value object kept in ``item.fields`` (DESIGN §5:
  a single-valued field stores one object, a multi-valued field a list of objects);
* its **settings** — a strict pydantic model, so unknown or mistyped settings are errors and the
  JSON schema of the settings comes for free;
* how to **validate** one value with a clear message, returning the normalised stored object;
* the **JSON-schema fragment** of one value, for the OpenAPI document;
* the **default widget and formatter** names the form and render layers look up;
* which **references** a value makes (items, users, tags, files), so the content service can
  check them all with one query per save instead of one per value.

:func:`validate_fields` applies a bundle's field definitions to the ``fields`` of an item:
unknown fields, cardinality, required fields and every value, collecting all messages keyed by
``fields.<name>`` (single-valued) or ``fields.<name>.<delta>`` (multi-valued).
"""

from __future__ import annotations

import math
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# The text formats the kernel ships (the formats module owns their filter chains). The content
# service receives the set of formats that exist as a parameter, so plugins may add more.
KNOWN_FORMATS: frozenset[str] = frozenset({"plain_text", "filtered_html", "full_html"})

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
FIELD_NAME_MAX = 64
# -1 means unlimited; a finite cardinality above this is almost certainly a mistake and would
# make forms and payloads unwieldy.
MAX_CARDINALITY = 100
# Unlimited fields still need a bound, or one request could store millions of values.
UNLIMITED_MAX_VALUES = 1000
# Integers are compared in SQL as bigint (Gather casts JSONB numbers), so stay inside it.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
TEXT_MAX = 1_000_000


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

    @property
    def multiple(self) -> bool:
        return self.cardinality != 1

    def public(self) -> dict[str, Any]:
        """The JSON shape of a field in an item type (``/api/v1/item-types``)."""
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "required": self.required,
            "cardinality": self.cardinality,
            "settings": dict(self.settings),
        }


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


def _string(value: Any, what: str = "value") -> str:
    if not isinstance(value, str):
        raise FieldValueError(f"{what} must be a string")
    # PostgreSQL cannot store NUL in jsonb text, and no honest input contains it.
    if "\x00" in value:
        raise FieldValueError(f"{what} must not contain NUL characters")
    return value


def _object(value: Any, allowed: Collection[str], example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FieldValueError(f"must be an object like {example}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise FieldValueError(
            f"unknown property {unknown[0]!r} (allowed: {', '.join(allowed)})"
        )
    return value


def _uuid(value: Any, what: str = "target_id") -> uuid.UUID:
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
    formatter: ClassVar[str]
    properties: ClassVar[tuple[str, ...]]  # the storage shape: keys of one value object
    settings_model: ClassVar[type[FieldSettings]] = FieldSettings
    example: ClassVar[str] = '{"value": …}'

    def validate_settings(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """The settings with defaults filled in; :class:`FieldSettingsError` when invalid."""
        try:
            model = self.settings_model.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise FieldSettingsError(_settings_errors(exc)) from None
        return model.model_dump(mode="json")

    def settings_schema(self) -> dict[str, Any]:
        schema = self.settings_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def clean(
        self, value: Any, settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        """The normalised stored object for one value, or ``None`` when the value is empty.

        Raises :class:`FieldValueError` with a message fit to show the user."""
        obj = _object(value, self.properties, self.example)
        return self.clean_object(obj, settings, env)

    @abstractmethod
    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None: ...

    @abstractmethod
    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON schema (2020-12, as OpenAPI 3.1 uses) of one stored value object."""

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
            "formatter": self.formatter,
            "settings": self.settings_schema(),
        }


def _obj_schema(properties: dict[str, Any], required: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


# -- text --------------------------------------------------------------------------------------


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

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = _string(value.get("value"))
        if text == "":
            return None
        limit = int(settings["max_length"])
        if len(text) > limit:
            raise FieldValueError(f"must be at most {limit} characters")
        if "\n" in text or "\r" in text:
            raise FieldValueError("must be a single line")
        return {"value": text}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema(
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

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = _string(value.get("value"))
        if text == "":
            return None
        limit = min(int(settings.get("max_length") or TEXT_MAX), TEXT_MAX)
        if len(text) > limit:
            raise FieldValueError(f"must be at most {limit} characters")
        fmt = value.get("format", settings.get("default_format", "filtered_html"))
        fmt = _string(fmt, "format")
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
        return _obj_schema(
            {
                "value": text,
                "format": {
                    "type": "string",
                    "description": "A text format, e.g. plain_text, filtered_html, full_html.",
                    "default": settings.get("default_format", "filtered_html"),
                },
            },
            ["value"],
        )


# -- numbers -----------------------------------------------------------------------------------


class IntegerSettings(FieldSettings):
    min: int | None = Field(default=None, ge=BIGINT_MIN, le=BIGINT_MAX)
    max: int | None = Field(default=None, ge=BIGINT_MIN, le=BIGINT_MAX)

    @model_validator(mode="after")
    def _ordered(self) -> IntegerSettings:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


def _check_range(number: float | int | Decimal, settings: Mapping[str, Any]) -> None:
    low, high = settings.get("min"), settings.get("max")
    if low is not None and number < low:
        raise FieldValueError(f"must be at least {low}")
    if high is not None and number > high:
        raise FieldValueError(f"must be at most {high}")


def _range_schema(schema: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    if settings.get("min") is not None:
        schema["minimum"] = settings["min"]
    if settings.get("max") is not None:
        schema["maximum"] = settings["max"]
    return schema


class IntegerField(FieldType):
    name = "integer"
    label = "Integer"
    description = "A whole number (64-bit)."
    widget = "number"
    formatter = "number_integer"
    properties = ("value",)
    settings_model = IntegerSettings
    example = '{"value": 42}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        number = value.get("value")
        # bool is an int subclass in Python, but true is not a number to a user.
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool):
            raise FieldValueError("must be an integer")
        if not BIGINT_MIN <= number <= BIGINT_MAX:
            raise FieldValueError("must fit in a 64-bit integer")
        _check_range(number, settings)
        return {"value": number}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema({"value": _range_schema({"type": "integer"}, settings)}, ["value"])


class DecimalSettings(FieldSettings):
    precision: int = Field(default=10, ge=1, le=38)
    scale: int = Field(default=2, ge=0, le=38)
    min: str | None = None
    max: str | None = None

    @field_validator("min", "max")
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("must be a decimal number as a string") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DecimalSettings:
        if self.scale > self.precision:
            raise ValueError("scale must not be greater than precision")
        if self.min is not None and self.max is not None and Decimal(self.min) > Decimal(
            self.max
        ):
            raise ValueError("min must not be greater than max")
        return self


class DecimalField(FieldType):
    name = "decimal"
    label = "Decimal"
    description = (
        "An exact decimal number with a fixed precision and scale, stored as a string so no"
        " digit is lost to binary floating point."
    )
    widget = "number"
    formatter = "number_decimal"
    properties = ("value",)
    settings_model = DecimalSettings
    example = '{"value": "12.50"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("value")
        # A JSON number is accepted for convenience; its shortest repr is what the client wrote.
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise FieldValueError('must be a decimal number as a string, e.g. "12.50"')
        text = raw.strip() if isinstance(raw, str) else repr(raw)
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldValueError('must be a decimal number, e.g. "12.50"') from None
        if not number.is_finite():
            raise FieldValueError("must be a finite number")
        precision, scale = int(settings["precision"]), int(settings["scale"])
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)  # finite numbers have an int exponent
        if -exponent > scale and number != number.quantize(Decimal(1).scaleb(-scale)):
            raise FieldValueError(f"must have at most {scale} decimal places")
        quantized = number.quantize(Decimal(1).scaleb(-scale))
        integer_digits = len(str(abs(int(quantized)))) if abs(quantized) >= 1 else 0
        if integer_digits > precision - scale:
            raise FieldValueError(
                f"must have at most {precision - scale} digits before the decimal point"
            )
        _check_range(
            quantized,
            {
                k: Decimal(v) if v is not None else None
                for k, v in (("min", settings.get("min")), ("max", settings.get("max")))
            },
        )
        return {"value": f"{quantized:f}"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema(
            {
                "value": {
                    "type": "string",
                    "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                    "description": (
                        f"Exact decimal, precision {settings.get('precision', 10)},"
                        f" scale {settings.get('scale', 2)}"
                    ),
                }
            },
            ["value"],
        )


class FloatSettings(FieldSettings):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FloatSettings:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


class FloatField(FieldType):
    name = "float"
    label = "Float"
    description = "A binary floating-point number (use decimal for money)."
    widget = "number"
    formatter = "number_float"
    properties = ("value",)
    settings_model = FloatSettings
    example = '{"value": 3.14}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        number = value.get("value")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise FieldValueError("must be a number")
        number = float(number)
        if not math.isfinite(number):
            raise FieldValueError("must be a finite number")
        _check_range(number, settings)
        return {"value": number}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema({"value": _range_schema({"type": "number"}, settings)}, ["value"])


# -- boolean, dates ------------------------------------------------------------------------------


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
        return _obj_schema({"value": {"type": "boolean"}}, ["value"])


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
# ISO 8601 / RFC 3339 date-time with a mandatory zone (Z or ±HH:MM).
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})$"
)


class DateField(FieldType):
    name = "date"
    label = "Date"
    description = "A calendar date (YYYY-MM-DD), without time or zone."
    widget = "date"
    formatter = "date_default"
    properties = ("value",)
    example = '{"value": "2024-05-01"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = _string(value.get("value"))
        if text == "":
            return None
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            parsed = date.fromisoformat(text)
        except ValueError:
            raise FieldValueError("must be a date as YYYY-MM-DD, e.g. 2024-05-01") from None
        return {"value": parsed.isoformat()}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema({"value": {"type": "string", "format": "date"}}, ["value"])


class DatetimeField(FieldType):
    name = "datetime"
    label = "Date and time"
    description = "A moment in time: ISO 8601 with a time zone, stored in UTC."
    widget = "datetime"
    formatter = "datetime_default"
    properties = ("value",)
    example = '{"value": "2024-05-01T12:00:00+02:00"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = _string(value.get("value"))
        if text == "":
            return None
        message = (
            "must be an ISO 8601 date and time with a time zone,"
            " e.g. 2024-05-01T12:00:00+02:00"
        )
        if not _DATETIME.match(text):
            raise FieldValueError(message)
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise FieldValueError(message) from None
        if parsed.tzinfo is None:  # pragma: no cover - the pattern requires a zone
            raise FieldValueError(message)
        utc = parsed.astimezone(UTC)
        # One canonical spelling (UTC, "Z") so equal moments compare and sort equal as text.
        spec = "microseconds" if utc.microsecond else "seconds"
        return {"value": utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema({"value": {"type": "string", "format": "date-time"}}, ["value"])


# -- email, link, list ----------------------------------------------------------------------------

# Deliberately simple (RFC 5322 is not a validation grammar): one @, a dotted domain, no spaces.
_EMAIL = re.compile(r"^[^@\s\"<>(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z")


class EmailField(FieldType):
    name = "email"
    label = "Email"
    description = "An email address."
    widget = "email"
    formatter = "email_mailto"
    properties = ("value",)
    example = '{"value": "someone@example.com"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = _string(value.get("value")).strip()
        if text == "":
            return None
        if len(text) > 254 or not _EMAIL.match(text):
            raise FieldValueError("must be a valid email address, e.g. someone@example.com")
        local, _, domain = text.rpartition("@")
        # Domains are case-insensitive; the local part is not (in theory), so keep it.
        return {"value": f"{local}@{domain.lower()}"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema(
            {"value": {"type": "string", "format": "email", "maxLength": 254}}, ["value"]
        )


class LinkSettings(FieldSettings):
    title: Literal["none", "optional", "required"] = "optional"


_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


class LinkField(FieldType):
    name = "link"
    label = "Link"
    description = "A URL (http, https, mailto or a relative path) with an optional title."
    widget = "link_default"
    formatter = "link"
    properties = ("uri", "title")
    settings_model = LinkSettings
    example = '{"uri": "https://example.com", "title": "Example"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        uri = _string(value.get("uri"), "uri").strip()
        title = _string(value.get("title", ""), "title")
        if uri == "":
            if title:
                raise FieldValueError("uri is required when a title is given")
            return None
        if len(uri) > 2048:
            raise FieldValueError("uri must be at most 2048 characters")
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in uri):
            raise FieldValueError("uri must not contain spaces or control characters")
        try:
            parts = urlsplit(uri)
        except ValueError:
            raise FieldValueError("uri is not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme:
            if scheme not in _LINK_SCHEMES:
                raise FieldValueError(
                    "uri must be an http, https or mailto URL or a relative path"
                )
            if scheme in ("http", "https") and not parts.hostname:
                raise FieldValueError("uri must name a host, e.g. https://example.com/")
            if scheme == "mailto" and "@" not in parts.path:
                raise FieldValueError("uri must be mailto: followed by an email address")
        elif uri.startswith("//"):
            # Protocol-relative: the scheme comes from the page, which is http(s).
            if not parts.hostname:
                raise FieldValueError("uri must name a host")
        elif ":" in uri.split("/", 1)[0]:
            # "javascript:…" with odd spelling that urlsplit did not take as a scheme.
            raise FieldValueError("uri must be an http, https or mailto URL or a relative path")
        mode = settings.get("title", "optional")
        if mode == "none" and title:
            raise FieldValueError("title is not allowed for this link field")
        if mode == "required" and not title.strip():
            raise FieldValueError("title is required")
        if len(title) > 255:
            raise FieldValueError("title must be at most 255 characters")
        out = {"uri": uri}
        if title:
            out["title"] = title
        return out

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        required = ["uri", "title"] if settings.get("title") == "required" else ["uri"]
        props: dict[str, Any] = {"uri": {"type": "string", "format": "uri-reference",
                                         "maxLength": 2048}}
        if settings.get("title") != "none":
            props["title"] = {"type": "string", "maxLength": 255}
        return _obj_schema(props, required)


class ListSettings(FieldSettings):
    # Ordered key → label; a plain list of keys is accepted and labelled by itself.
    allowed_values: dict[str, str] = Field(min_length=1, max_length=1000)

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
    formatter = "list_default"
    properties = ("value",)
    settings_model = ListSettings
    example = '{"value": "key"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        key = _string(value.get("value"))
        if key == "":
            return None
        allowed = settings["allowed_values"]
        if key not in allowed:
            shown = ", ".join(list(allowed)[:20]) + (", …" if len(allowed) > 20 else "")
            raise FieldValueError(f"must be one of: {shown}")
        return {"value": key}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _obj_schema(
            {"value": {"type": "string", "enum": list(settings.get("allowed_values", {}))}},
            ["value"],
        )


# -- references -----------------------------------------------------------------------------------

def _names(values: list[str]) -> list[str]:
    for name in values:
        if not FIELD_NAME.match(name):
            raise ValueError(f"{name!r} is not a machine name")
    return values


class ReferenceSettings(FieldSettings):
    target_type: Literal["item", "user", "category_tag"] = "item"
    # Item types (for items) or vocabulary machine names (for tags); empty allows all.
    target_bundles: list[str] = Field(default_factory=list, max_length=200)

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
        target = _uuid(raw)
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
        return _obj_schema(
            {
                "target_id": {"type": "string", "format": "uuid"},
                "target_type": {"type": "string", "const": settings.get("target_type", "item")},
            },
            ["target_id"],
        )


class FileSettings(FieldSettings):
    file_extensions: list[str] = Field(default_factory=list, max_length=100)
    description_field: bool = False


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
        out: dict[str, Any] = {"target_id": str(_uuid(raw))}
        description = _string(value.get("description", ""), "description")
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
        return _obj_schema(props, ["target_id"])


class ImageSettings(FieldSettings):
    file_extensions: list[str] = Field(
        default_factory=lambda: ["png", "gif", "jpg", "jpeg", "webp"], max_length=100
    )
    alt_required: bool = True


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
        out: dict[str, Any] = {"target_id": str(_uuid(raw))}
        alt = _string(value.get("alt", ""), "alt")
        title = _string(value.get("title", ""), "title")
        if settings.get("alt_required", True) and not alt.strip():
            raise FieldValueError("alt (alternative text) is required")
        for key, text in (("alt", alt), ("title", title)):
            if len(text) > 512:
                raise FieldValueError(f"{key} must be at most 512 characters")
            if text:
                out[key] = text
        return out

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        required = ["target_id", "alt"] if settings.get("alt_required", True) else ["target_id"]
        return _obj_schema(
            {
                "target_id": {"type": "string", "format": "uuid"},
                "alt": {"type": "string", "maxLength": 512},
                "title": {"type": "string", "maxLength": 512},
            },
            required,
        )


# -- the registry ---------------------------------------------------------------------------------

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
        """The JSON schema of a field's stored value: an object, or a list of objects."""
        one = self.get(definition.type).value_schema(definition.settings)
        schema: dict[str, Any]
        if definition.multiple:
            schema = {"type": "array", "items": one}
            schema["maxItems"] = (
                definition.cardinality if definition.cardinality > 0 else UNLIMITED_MAX_VALUES
            )
        else:
            schema = one
        if definition.label:
            schema = {**schema, "title": definition.label}
        return schema


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
        for delta, item in enumerate(items):
            try:
                value = field_type.clean(item, definition.settings, env)
            except FieldValueError as exc:
                errors[_key(definition, delta)] = exc.message
                failed = True
                continue
            if value is not None:
                references.extend(
                    field_type.references(value, definition.settings, _key(definition, delta))
                )
                cleaned.append(value)
        if failed:
            continue
        if not cleaned:
            if definition.required:
                errors[key] = "is required"
            continue
        values[name] = cleaned if definition.multiple else cleaned[0]
    return FieldsResult(values=values, errors=errors, references=references)
