"""Shared plumbing of the JSON API: strict body parsing into pydantic models, JSON responses."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from trovato.kernel.errors import ProblemError

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
        raise ProblemError(415, "The request body must be JSON (Content-Type: application/json).")
    body = await request.body()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProblemError(422, "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "body"
            message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            errors.setdefault(name, message)
        raise ProblemError(
            422, "The request body has invalid or unknown fields.", errors=errors
        ) from None


class StrictModel(BaseModel):
    """A request body: unknown fields are errors, strings are not coerced into other types."""

    model_config = ConfigDict(extra="forbid", strict=True)
