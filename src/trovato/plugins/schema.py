"""A small JSON-schema subset validator for tap payloads and results.

Supported keywords: ``type`` (a name or a list), ``properties``, ``required``,
``additionalProperties`` (bool or schema), ``items``, ``enum``, ``pattern``, ``minLength``,
``maxLength``, ``minimum``, ``maximum``, ``anyOf``. That is all the catalogue needs, and a
dependency-free validator keeps the hot path (every plugin call) cheap and predictable.

Each schema is compiled once into a checking function (the catalogue's schemas are module
constants, never changed after import): a check then runs only the keywords its schema has,
and the JSON path of a mismatch is assembled only when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]
Check = Callable[[Any], None]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaError(ValueError):
    """A value does not match its schema; the message gives the JSON path."""


class _Mismatch(Exception):
    """A mismatch on its way up: each enclosing check adds its path segment."""

    def __init__(self, message: str, alternatives: tuple[_Mismatch, ...] = ()) -> None:
        self.message = message
        self.alternatives = alternatives  # anyOf: why each option failed
        self.segments: list[str] = []  # innermost first

    def at(self, segment: str) -> _Mismatch:
        self.segments.append(segment)
        return self

    def render(self, base: str) -> str:
        path = base + "".join(reversed(self.segments))
        if not self.alternatives:
            return f"{path}: {self.message}"
        reasons = "; ".join(option.render(path) for option in self.alternatives)
        return f"{path}: {self.message} ({reasons})"


def validate(value: Any, schema: Schema, path: str = "$") -> None:
    """Raise :class:`SchemaError` at the first mismatch."""
    try:
        _compiled(schema)(value)
    except _Mismatch as exc:
        raise SchemaError(exc.render(path)) from None


_COMPILED: dict[int, tuple[Schema, Check]] = {}  # id(schema) -> (schema kept alive, check)


def _compiled(schema: Schema) -> Check:
    found = _COMPILED.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    if len(_COMPILED) >= 4096:  # bounded, for callers passing schemas built on the fly
        _COMPILED.clear()
    # Registered before its parts are compiled, so a schema that contains itself terminates.
    slot: list[Check] = []
    _COMPILED[id(schema)] = (schema, lambda value: slot[0](value))
    check = _compile(schema)
    slot.append(check)
    _COMPILED[id(schema)] = (schema, check)
    return check


def _accept(value: Any) -> None:
    return None


def _compile(schema: Schema) -> Check:
    if not schema:
        return _accept
    options = tuple(_compiled(option) for option in schema.get("anyOf", ()))
    expected = schema.get("type")
    names = None if expected is None else ([expected] if isinstance(expected, str)
                                           else list(expected))
    allowed = tuple(t for name in names or () for t in _TYPES[name])
    # bool is an int in Python but not an integer or number in JSON.
    no_bool = names is not None and "boolean" not in names
    has_enum = "enum" in schema
    enum: list[Any] = list(schema["enum"]) if has_enum else []
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    min_length = schema.get("minLength", 0)
    max_length = schema.get("maxLength")
    text_rules = pattern is not None or min_length > 0 or max_length is not None
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    number_rules = minimum is not None or maximum is not None
    required = tuple(schema.get("required", ()))
    properties = {key: _compiled(part) for key, part in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    extra_check = _compiled(extra) if isinstance(extra, dict) else None
    closed = extra is False
    object_rules = bool(required or properties or closed or extra_check)
    items = _compiled(schema["items"]) if "items" in schema else None

    def check(value: Any) -> None:
        if options:
            reasons = []
            for option in options:
                try:
                    option(value)
                    break
                except _Mismatch as exc:
                    reasons.append(exc)
            else:
                raise _Mismatch("matches none of the allowed shapes", tuple(reasons))
        if names is not None and (not isinstance(value, allowed)
                                  or (no_bool and isinstance(value, bool))):
            raise _Mismatch(f"expected {' or '.join(names)}, got {type(value).__name__}")
        if has_enum and value not in enum:
            raise _Mismatch(f"{value!r} is not one of {enum}")
        if text_rules and isinstance(value, str):
            if pattern is not None and not pattern.search(value):
                raise _Mismatch(f"{value!r} does not match {pattern.pattern}")
            if len(value) < min_length:
                raise _Mismatch(f"shorter than {min_length}")
            if max_length is not None and len(value) > max_length:
                raise _Mismatch(f"longer than {max_length}")
        if (number_rules and isinstance(value, int | float)
                and not isinstance(value, bool)):
            if minimum is not None and value < minimum:
                raise _Mismatch(f"below {minimum}")
            if maximum is not None and value > maximum:
                raise _Mismatch(f"above {maximum}")
        if object_rules and isinstance(value, dict):
            for key in required:
                if key not in value:
                    raise _Mismatch(f"missing {key!r}")
            for key, item in value.items():
                part = properties.get(key)
                try:
                    if part is not None:
                        part(item)
                    elif closed:
                        raise _Mismatch(f"unexpected key {key!r}")
                    elif extra_check is not None:
                        extra_check(item)
                except _Mismatch as exc:
                    if part is None and closed:
                        raise
                    raise exc.at(f".{key}") from None
        if items is not None and isinstance(value, list):
            for index, item in enumerate(value):
                try:
                    items(item)
                except _Mismatch as exc:
                    raise exc.at(f"[{index}]") from None

    return check
