"""The tap schema validator: every keyword, JSON paths in messages, and the catalogue's shapes."""

from __future__ import annotations

from typing import Any

import pytest

from trovato.plugins.catalogue import ACCESS, ITEM, RENDER_OR_NULL, REQUIREMENT
from trovato.plugins.schema import SchemaError, validate


@pytest.mark.parametrize(("schema", "value"), [
    ({}, object()),
    ({"type": "string"}, "x"),
    ({"type": ["string", "null"]}, None),
    ({"type": "integer"}, 3),
    ({"type": "number"}, 2.5),
    ({"type": ["number", "boolean"]}, True),
    ({"type": "array", "items": {"type": "integer"}}, [1, 2]),
    ({"enum": ["a", "b"]}, "b"),
    ({"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 3}, "abc"),
    ({"type": "integer", "minimum": 1, "maximum": 3}, 3),
    ({"anyOf": [{"type": "null"}, {"type": "string"}]}, "x"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}},
      "additionalProperties": {"type": "integer"}}, {"a": "x", "b": 1}),
])
def test_values_that_match(schema: dict[str, Any], value: Any) -> None:
    validate(value, schema)


@pytest.mark.parametrize(("schema", "value", "message"), [
    ({"type": "string"}, 1, "$: expected string, got int"),
    ({"type": "integer"}, True, "$: expected integer, got bool"),
    ({"type": "number"}, False, "$: expected number, got bool"),
    ({"type": ["string", "null"]}, 2.5, "$: expected string or null, got float"),
    ({"enum": ["a", "b"]}, "c", "$: 'c' is not one of ['a', 'b']"),
    ({"pattern": "^[a-z]+$"}, "A1", "$: 'A1' does not match ^[a-z]+$"),
    ({"minLength": 2}, "a", "$: shorter than 2"),
    ({"maxLength": 2}, "abc", "$: longer than 2"),
    ({"minimum": 1}, 0, "$: below 1"),
    ({"maximum": 1}, 1.5, "$: above 1"),
    ({"required": ["a"]}, {}, "$: missing 'a'"),
    ({"properties": {"a": {"type": "string"}}}, {"a": 1}, "$.a: expected string, got int"),
    ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2},
     "$: unexpected key 'b'"),
    ({"additionalProperties": {"type": "string"}}, {"b": 2}, "$.b: expected string, got int"),
    ({"items": {"properties": {"x": {"type": "integer"}}}}, [{"x": 1}, {"x": "2"}],
     "$[1].x: expected integer, got str"),
    ({"properties": {"a": {"anyOf": [{"type": "null"}, {"type": "string"}]}}}, {"a": 1},
     "$.a: matches none of the allowed shapes ($.a: expected null, got int; "
     "$.a: expected string, got int)"),
])
def test_mismatches_name_the_path_and_the_problem(schema: dict[str, Any], value: Any,
                                                   message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        validate(value, schema)
    assert str(caught.value) == message


def test_a_caller_supplied_path_prefixes_the_message() -> None:
    with pytest.raises(SchemaError, match=r"^\$\.build\.#type: expected string"):
        validate({"#type": 1}, {"properties": {"#type": {"type": "string"}}}, "$.build")


def test_the_same_schema_object_checks_the_same_way_every_time() -> None:
    # Compiled once and remembered: a second use must not take a stale or wrong check.
    for _ in range(3):
        validate("grant", ACCESS)
        with pytest.raises(SchemaError):
            validate("maybe", ACCESS)
    validate({"type": "page", "id": None, "fields": {}}, ITEM)
    with pytest.raises(SchemaError, match=r"\$\.status: expected integer"):
        validate({"type": "page", "status": "1"}, ITEM)
    validate(None, RENDER_OR_NULL)
    with pytest.raises(SchemaError, match="matches none"):
        validate({"#type": "Bad Type"}, RENDER_OR_NULL)
    with pytest.raises(SchemaError, match="unexpected key 'extra'"):
        validate({"title": "t", "severity": "ok", "extra": 1}, REQUIREMENT)


def test_a_schema_that_contains_itself_is_checked_to_any_depth() -> None:
    tree: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"}}}
    tree["properties"]["children"] = {"type": "array", "items": tree}
    validate({"name": "a", "children": [{"name": "b", "children": []}]}, tree)
    with pytest.raises(SchemaError, match=r"^\$\.children\[0\]\.children\[0\]\.name: "):
        validate({"children": [{"children": [{"name": 5}]}]}, tree)
