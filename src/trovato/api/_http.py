"""Shared plumbing of the JSON API: strict body parsing into pydantic models, JSON responses,
and the base of the response models."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response

from trovato.errors import ServiceError

M = TypeVar("M", bound=BaseModel)


class JSON(Response):
    """A JSON response serialised with orjson (UUIDs and datetimes included)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json(request: Request, model: type[M]) -> M:
    """Parse the body as ``model``: 415 unless JSON, 400 if malformed, 422 naming each field."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ServiceError(415, "The request body must be JSON (Content-Type: application/json).")
    body = await request.body()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ServiceError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ServiceError(422, "The request body must be a JSON object.")
    problem = _shape_problem(data)
    if problem is not None:
        where, message = problem
        raise ServiceError(422, f"The request body is not acceptable: {where} {message}.",
                           errors={where: message})
    try:
        return model.model_validate(_integers(data))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "body"
            message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            errors.setdefault(name, message)
        raise ServiceError(
            422, "The request body has invalid or unknown fields.", errors=errors
        ) from None


MAX_DEPTH = 32


# Floats hold every integer exactly up to here; beyond it a float may be a rounded integer
# (the JSON parser reads integers past 64 bits as floats), which must not become a valid one.
_EXACT_FLOAT_INTEGERS = 2**53


def _integers(value: Any) -> Any:
    """``value`` with every whole float as an int: JSON has one number type, and ``1.0`` is
    the integer 1 (as JSON Schema, and so the document, counts it). Called once the depth is
    known to be bounded."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _EXACT_FLOAT_INTEGERS:
        return int(value)
    if isinstance(value, dict):
        return {key: _integers(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_integers(child) for child in value]
    return value


def _shape_problem(data: dict[str, Any]) -> tuple[str, str] | None:
    """The first place where a body nests deeper than :data:`MAX_DEPTH` or holds a NUL
    character, as (dotted path, problem); checked before anything reads the body (serialising
    a deep value recurses, and PostgreSQL's text and JSONB cannot store NUL). Iterative, so
    it runs in constant stack and linear time."""
    stack: list[tuple[str, Any, int]] = [("", data, 1)]
    while stack:
        path, value, depth = stack.pop()
        where = path or "body"
        if isinstance(value, str):
            if "\x00" in value:
                return where, "must not contain a NUL character"
            continue
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            return where, f"nests deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in key:
                    return where, "has a key with a NUL character"
                stack.append((f"{path}.{key}" if path else key, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}", child, depth + 1) for i, child in enumerate(value))
    return None


class StrictModel(BaseModel):
    """A request body: unknown fields are errors, strings are not coerced into other types."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _drop_nulls(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        choices = prop.pop("anyOf", None)
        if choices is not None:
            kept = [c for c in choices if c != {"type": "null"}]
            prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        if prop.get("default", 0) is None:
            del prop["default"]


class PatchModel(StrictModel):
    """A partial change: a part left out keeps its value, and null is refused (it is no
    value). ``None`` defaults only mark "left out" (see ``model_fields_set``); the JSON
    schema says so too, so the document and the validation agree."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_drop_nulls)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class ResponseModel(BaseModel):
    """A response body as the document shows it: exactly these properties, and every one
    without a default is always sent."""

    model_config = ConfigDict(extra="forbid")
