"""Every field type: valid values are normalised, invalid ones get a clear message; settings
are validated; cardinality, required and unknown fields are enforced."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from trovato.content.fields import (
    KNOWN_FORMATS,
    FieldDefinition,
    FieldEnv,
    FieldRegistry,
    FieldSettingsError,
    FieldValueError,
    Reference,
    validate_fields,
)

REGISTRY = FieldRegistry()
ENV = FieldEnv(formats=KNOWN_FORMATS)
UUID = "0190a8f0-0000-7000-8000-000000000001"


def clean(field_type: str, value: Any, settings: dict[str, Any] | None = None) -> Any:
    kind = REGISTRY.get(field_type)
    return kind.clean(value, kind.validate_settings(settings or {}), ENV)


VALID: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("text", {}, {"value": "Hello"}, {"value": "Hello"}),
    ("text", {"max_length": 5}, {"value": "12345"}, {"value": "12345"}),
    ("text", {}, {"value": ""}, None),
    ("text_long", {}, {"value": "<p>x</p>", "format": "full_html"},
     {"value": "<p>x</p>", "format": "full_html"}),
    ("text_long", {}, {"value": "x"}, {"value": "x", "format": "filtered_html"}),
    ("text_long", {"default_format": "plain_text"}, {"value": "x"},
     {"value": "x", "format": "plain_text"}),
    ("integer", {"min": 0, "max": 10}, {"value": 10}, {"value": 10}),
    ("integer", {}, {"value": -(2**63)}, {"value": -(2**63)}),
    ("integer", {}, {"value": 3.0}, {"value": 3}),
    ("decimal", {}, {"value": "12.5"}, {"value": "12.50"}),
    ("decimal", {"precision": 5, "scale": 2}, {"value": "-999.99"}, {"value": "-999.99"}),
    ("decimal", {}, {"value": 0.1}, {"value": "0.10"}),
    ("decimal", {"scale": 0}, {"value": 7}, {"value": "7"}),
    ("decimal", {}, {"value": "1.500"}, {"value": "1.50"}),
    ("float", {}, {"value": 1}, {"value": 1.0}),
    ("float", {"min": -1.5, "max": 1.5}, {"value": 1.25}, {"value": 1.25}),
    ("boolean", {}, {"value": False}, {"value": False}),
    ("date", {}, {"value": "2024-02-29"}, {"value": "2024-02-29"}),
    ("datetime", {}, {"value": "2024-05-01T12:00:00+02:00"}, {"value": "2024-05-01T10:00:00Z"}),
    ("datetime", {}, {"value": "2024-05-01T12:00:00.250Z"},
     {"value": "2024-05-01T12:00:00.250000Z"}),
    ("datetime", {}, {"value": "2024-05-01T00:30-01:00"}, {"value": "2024-05-01T01:30:00Z"}),
    ("email", {}, {"value": "Some.One@Example.COM"}, {"value": "Some.One@example.com"}),
    ("link", {}, {"uri": "https://example.com/a?b=c", "title": "Ex"},
     {"uri": "https://example.com/a?b=c", "title": "Ex"}),
    ("link", {}, {"uri": "/about"}, {"uri": "/about"}),
    ("link", {}, {"uri": "mailto:a@example.com"}, {"uri": "mailto:a@example.com"}),
    ("link", {}, {"uri": "about/team#x"}, {"uri": "about/team#x"}),
    ("list", {"allowed_values": ["red", "green"]}, {"value": "green"}, {"value": "green"}),
    ("list", {"allowed_values": {"r": "Red"}}, {"value": "r"}, {"value": "r"}),
    ("reference", {}, {"target_id": UUID}, {"target_id": UUID, "target_type": "item"}),
    ("reference", {"target_type": "user"}, {"target_id": UUID, "target_type": "user"},
     {"target_id": UUID, "target_type": "user"}),
    ("file", {}, {"target_id": UUID}, {"target_id": UUID}),
    ("file", {"description_field": True}, {"target_id": UUID, "description": "Spec"},
     {"target_id": UUID, "description": "Spec"}),
    ("image", {}, {"target_id": UUID, "alt": "A cat"}, {"target_id": UUID, "alt": "A cat"}),
    ("image", {"alt_required": False}, {"target_id": UUID}, {"target_id": UUID}),
]


@pytest.mark.parametrize(("field_type", "settings", "value", "expected"), VALID)
def test_valid_values(field_type: str, settings: dict[str, Any], value: Any,
                      expected: Any) -> None:
    assert clean(field_type, value, settings) == expected


INVALID: list[tuple[str, dict[str, Any], Any, str]] = [
    ("text", {}, "bare string", "must be an object"),
    ("text", {}, {"value": 5}, "value must be a string"),
    ("text", {"max_length": 3}, {"value": "abcd"}, "must be at most 3 characters"),
    ("text", {}, {"value": "a\nb"}, "single line"),
    ("text", {}, {"value": "a\x00"}, "NUL"),
    ("text", {}, {"value": "a", "extra": 1}, "unknown property 'extra'"),
    ("text_long", {}, {"value": "x", "format": "php_code"}, "not a known text format"),
    ("integer", {}, {"value": "5"}, "must be an integer"),
    ("integer", {}, {"value": True}, "must be an integer"),
    ("integer", {}, {"value": 1.5}, "must be an integer"),
    ("integer", {"max": 10}, {"value": 11}, "must be at most 10"),
    ("integer", {"min": 0}, {"value": -1}, "must be at least 0"),
    ("integer", {}, {"value": 2**63}, "64-bit"),
    ("decimal", {}, {"value": "abc"}, "must be a decimal number"),
    ("decimal", {}, {"value": "1.234"}, "at most 2 decimal places"),
    ("decimal", {"precision": 4, "scale": 2}, {"value": "123.4"},
     "at most 2 digits before the decimal point"),
    ("decimal", {}, {"value": "NaN"}, "finite"),
    ("decimal", {}, {"value": True}, "must be a decimal number"),
    ("decimal", {"min": "0"}, {"value": "-0.01"}, "must be at least 0"),
    ("float", {}, {"value": "1.5"}, "must be a number"),
    ("float", {"max": 1.0}, {"value": 1.5}, "must be at most 1.0"),
    ("boolean", {}, {"value": 1}, "must be true or false"),
    ("date", {}, {"value": "2023-02-29"}, "YYYY-MM-DD"),
    ("date", {}, {"value": "01/02/2024"}, "YYYY-MM-DD"),
    ("datetime", {}, {"value": "2024-05-01T12:00:00"}, "with a time zone"),
    ("datetime", {}, {"value": "2024-13-01T12:00:00Z"}, "ISO 8601"),
    ("email", {}, {"value": "not-an-email"}, "valid email address"),
    ("email", {}, {"value": "a@b"}, "valid email address"),
    ("link", {}, {"uri": "javascript:alert(1)"}, "http, https or mailto"),
    ("link", {}, {"uri": "ftp://example.com"}, "http, https or mailto"),
    ("link", {}, {"uri": "https://"}, "must name a host"),
    ("link", {}, {"uri": "http://exa mple.com"}, "spaces"),
    ("link", {"title": "required"}, {"uri": "/x"}, "title is required"),
    ("link", {"title": "none"}, {"uri": "/x", "title": "t"}, "title is not allowed"),
    ("list", {"allowed_values": ["red", "green"]}, {"value": "blue"},
     "must be one of: red, green"),
    ("reference", {}, {"target_id": "nope"}, "target_id must be a UUID"),
    ("reference", {"target_type": "user"}, {"target_id": UUID, "target_type": "item"},
     "target_type must be 'user'"),
    ("file", {}, {"target_id": 12}, "target_id must be a UUID"),
    ("file", {}, {"target_id": UUID, "description": "x"}, "description is not enabled"),
    ("image", {}, {"target_id": UUID}, "needs alternative text (alt)"),
]


@pytest.mark.parametrize(("field_type", "settings", "value", "message"), INVALID)
def test_invalid_values(field_type: str, settings: dict[str, Any], value: Any,
                        message: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        clean(field_type, value, settings)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("field_type", "settings", "key"),
    [
        ("text", {"max_length": 0}, "max_length"),
        ("text", {"maxlen": 5}, "maxlen"),
        ("text", {"max_length": "5"}, "max_length"),
        ("integer", {"min": 5, "max": 1}, "settings"),
        ("decimal", {"precision": 2, "scale": 3}, "settings"),
        ("decimal", {"min": "x"}, "min"),
        ("list", {}, "allowed_values"),
        ("list", {"allowed_values": ["a", "a"]}, "allowed_values"),
        ("reference", {"target_type": "node"}, "target_type"),
        ("reference", {"target_bundles": ["Bad Name"]}, "target_bundles"),
        ("link", {"title": "sometimes"}, "title"),
    ],
)
def test_invalid_settings(field_type: str, settings: dict[str, Any], key: str) -> None:
    with pytest.raises(FieldSettingsError) as caught:
        REGISTRY.get(field_type).validate_settings(settings)
    assert key in caught.value.errors


def test_settings_get_defaults() -> None:
    assert REGISTRY.get("text").validate_settings({}) == {"max_length": 255}
    assert REGISTRY.get("decimal").validate_settings({})["scale"] == 2


def test_every_type_describes_itself() -> None:
    names = REGISTRY.names()
    assert set(names) >= {"text", "text_long", "integer", "decimal", "float", "boolean",
                          "date", "datetime", "email", "link", "list", "reference", "file",
                          "image"}
    for kind in REGISTRY.all():
        doc = kind.describe()
        assert doc["widget"] and doc["formatter"] and doc["properties"]
        assert doc["settings"]["type"] == "object"
        settings = kind.validate_settings(
            {"allowed_values": ["a"]} if kind.name == "list" else {}
        )
        schema = kind.value_schema(settings)
        assert schema["type"] == "object" and schema["additionalProperties"] is False


def test_format_set_is_a_parameter() -> None:
    kind = REGISTRY.get("text_long")
    settings = kind.validate_settings({})
    custom = FieldEnv(formats=frozenset({"markdown"}))
    assert kind.clean({"value": "x", "format": "markdown"}, settings, custom) == {
        "value": "x", "format": "markdown"}
    with pytest.raises(FieldValueError):
        kind.clean({"value": "x", "format": "full_html"}, settings, custom)


DEFS = [
    FieldDefinition("field_title2", "text", "Sub", required=True,
                    settings={"max_length": 20}),
    FieldDefinition("field_count", "integer", "Count", settings={"min": None, "max": 10}),
    FieldDefinition("field_tags", "reference", "Tags", cardinality=-1,
                    settings={"target_type": "category_tag", "target_bundles": []}),
    FieldDefinition("field_pair", "text", "Pair", cardinality=2,
                    settings={"max_length": 10}),
]


def test_validate_fields_collects_every_error() -> None:
    result = validate_fields(REGISTRY, DEFS, {
        "field_count": {"value": 11},
        "field_pair": [{"value": "a"}, {"value": "b"}, {"value": "c"}],
        "field_tags": [{"target_id": UUID}, {"target_id": "bad"}],
        "field_nope": {"value": 1},
    }, ENV)
    assert result.errors == {
        "fields.field_title2": "is required",
        "fields.field_count": "must be at most 10",
        "fields.field_pair": "must have at most 2 values",
        "fields.field_tags.1": "target_id must be a UUID",
        "fields.field_nope": "unknown field",
    }


def test_validate_fields_shapes_and_references() -> None:
    result = validate_fields(REGISTRY, DEFS, {
        "field_title2": {"value": "Hi"},
        "field_count": None,
        "field_pair": [{"value": ""}, {"value": "x"}],
        "field_tags": [{"target_id": UUID}],
    }, ENV)
    assert result.errors == {}
    assert result.values == {
        "field_title2": {"value": "Hi"},
        "field_pair": [{"value": "x"}],  # empty values are dropped
        "field_tags": [{"target_id": UUID, "target_type": "category_tag"}],
    }
    assert result.references == [
        Reference("category_tag", __import__("uuid").UUID(UUID), "fields.field_tags.0", ())
    ]


def test_cardinality_shape_errors() -> None:
    result = validate_fields(REGISTRY, DEFS, {
        "field_title2": [{"value": "a"}],
        "field_pair": {"value": "a"},
    }, ENV)
    assert result.errors["fields.field_title2"] == "must be a single value object, not a list"
    assert "must be a list" in result.errors["fields.field_pair"]


def test_required_empty_list_and_empty_string() -> None:
    required_multi = [FieldDefinition("field_x", "text", "X", required=True, cardinality=-1,
                                      settings={"max_length": 5})]
    assert validate_fields(REGISTRY, required_multi, {"field_x": []}, ENV).errors == {
        "fields.field_x": "is required"}
    assert validate_fields(REGISTRY, required_multi, {"field_x": [{"value": ""}]},
                           ENV).errors == {"fields.field_x": "is required"}


def test_field_schema_for_multi_values() -> None:
    schema = REGISTRY.field_schema(DEFS[3])
    assert schema["type"] == "array" and schema["maxItems"] == 2
    assert schema["items"]["properties"]["value"]["maxLength"] == 10


# Per field type, a value the service takes as "no value" and one it keeps. The schema of a
# required field refuses exactly what the service refuses, so the OpenAPI document never
# offers a body the service turns down (nor the other way round).
EMPTY_AND_FILLED: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("text", {}, {"value": ""}, {"value": " "}),
    ("text_long", {}, {"value": ""}, {"value": " "}),
    ("date", {}, {"value": ""}, {"value": "2024-05-01"}),
    ("datetime", {}, {"value": ""}, {"value": "2024-05-01T12:00:00Z"}),
    ("email", {}, {"value": "  "}, {"value": "someone@example.com"}),
    ("link", {}, {"uri": " "}, {"uri": "/about"}),
]


def _accepted(definition: FieldDefinition, value: Any) -> tuple[bool, bool]:
    """(the schema admits ``value``, the service keeps it) for a field of ``definition``."""
    schema = Draft202012Validator(REGISTRY.field_schema(definition)).is_valid(value)
    service = not validate_fields(REGISTRY, [definition], {definition.name: value}, ENV).errors
    return schema, service


@pytest.mark.parametrize(("field_type", "settings", "empty", "filled"), EMPTY_AND_FILLED)
def test_a_required_field_schema_refuses_an_empty_value(
        field_type: str, settings: dict[str, Any], empty: Any, filled: Any) -> None:
    kind = REGISTRY.get(field_type)
    full = kind.validate_settings(settings)
    for required in (False, True):
        single = FieldDefinition("field_x", field_type, "X", required=required, settings=full)
        assert _accepted(single, empty) == (not required, not required)
        assert _accepted(single, filled) == (True, True)
        multi = FieldDefinition("field_x", field_type, "X", required=required,
                                cardinality=-1, settings=full)
        assert _accepted(multi, [empty]) == (not required, not required)
        assert _accepted(multi, [empty, filled]) == (True, True)


@pytest.mark.parametrize(("field_type", "settings", "valid"), [
    ("reference", {"target_bundles": ["page"]}, True),
    ("reference", {"target_bundles": ["a_b2", "topics"]}, True),
    ("reference", {"target_bundles": ["Bad Name"]}, False),
    ("reference", {"target_bundles": ["1st"]}, False),
    ("reference", {"target_bundles": [""]}, False),
    ("reference", {"target_bundles": ["page-2"]}, False),
    ("list", {"allowed_values": {"a": "A"}}, True),
    ("list", {"allowed_values": {"": "Nothing"}}, False),
    ("list", {"allowed_values": {"k" * 256: "Long"}}, False),
    ("list", {"allowed_values": ["a", "b"]}, True),
    ("list", {"allowed_values": ["a", "a"]}, False),
    ("list", {"allowed_values": [""]}, False),
    ("list", {"allowed_values": []}, False),
    ("list", {"allowed_values": [1]}, False),
    ("list", {"allowed_values": ["a\x00"]}, False),
    ("list", {"allowed_values": {"a\x00": "A"}}, False),
    ("decimal", {"min": "-1.5", "max": "20"}, True),
    ("decimal", {"max": ""}, False),
    ("decimal", {"min": "1e5"}, False),
    ("decimal", {"min": " 1"}, False),
])
def test_settings_schema_agrees_with_the_settings_check(field_type: str, settings: dict[str, Any],
                                                        valid: bool) -> None:
    kind = REGISTRY.get(field_type)
    schema = Draft202012Validator(kind.settings_schema()).is_valid(settings)
    try:
        kind.validate_settings(settings)
    except FieldSettingsError:
        service = False
    else:
        service = True
    assert schema == service == valid


def test_decimal_scale_within_precision_agrees_with_the_settings_check() -> None:
    kind = REGISTRY.get("decimal")
    validator = Draft202012Validator(kind.settings_schema())
    choices: list[int | None] = [None, *range(0, 40)]
    for precision in choices:
        for scale in choices:
            settings = {name: value for name, value in (("precision", precision),
                                                        ("scale", scale)) if value is not None}
            try:
                kind.validate_settings(settings)
            except FieldSettingsError:
                service = False
            else:
                service = True
            assert validator.is_valid(settings) == service, settings
