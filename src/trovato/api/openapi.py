"""``/api/v1/openapi.json`` (OpenAPI 3.1) and ``/api/v1/docs`` (interactive documentation).

The document is generated from the app's API routes: each handler declares its operation next
to it (``@operation`` in :mod:`trovato.api.routing`) with the pydantic models of its request
body and of its responses, and the component schemas are those models' JSON schemas (request
bodies as pydantic validates them, responses as they are sent). The problem responses are
declared once (``components/responses``) and referenced by what each operation is
(authenticated, has a body, reads a stage). The schemas that follow live configuration (item
types and their fields, permissions, roles, stages) come from :mod:`trovato.api.configured`,
built per request, so the document changes the moment a type or field does.

The docs page is our own small HTML + JavaScript (``trovato/api/static``), served from this
origin so it works offline and under the site's ``script-src 'self'`` policy; it fetches the
document and renders the operations and schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import trovato
from trovato.api._http import JSON
from trovato.api.configured import REF_TEMPLATE, configured_schemas, ref
from trovato.api.item_types import content_services
from trovato.api.routing import DOCUMENTED_BY, ApiRoute, Operation, Problem
from trovato.content.fields import FieldRegistry
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.users.roles import Roles

Schema = dict[str, Any]
Mode = Literal["validation", "serialization"]
# Each model once per mode: request bodies as pydantic validates them, responses as sent.
ModelKey = tuple[type[BaseModel], Mode]

STAGE_HEADER: Schema = {
    "name": "X-Trovato-Stage", "in": "header", "required": False,
    "schema": {"anyOf": [ref("StageName"), {"type": "string", "const": ""}]},
    "description": "Read and write in this stage instead of live (needs `use stages` and"
                   " access to the stage); empty: live.",
}


# -- paths -------------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Malformed request, or an unknown stage (`X-Trovato-Stage` / `?stage=`)",
    401: "Not logged in", 403: "Access denied", 404: "Not found", 409: "Conflict",
    413: "The request body (or an uploaded file) is too large",
    415: "The request body is not of the operation's media type",
    422: "Invalid input: see `errors` for a message per field",
    429: "Too many requests", 503: "The database or shared store is unavailable",
}
_RESPONSE_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                   409: "Conflict", 413: "TooLarge", 415: "NotJson", 422: "Invalid",
                   429: "TooManyRequests", 503: "Unavailable"}


def _common_responses(problem: Schema) -> dict[str, Schema]:
    """Every problem response, declared once and referenced by the operations."""
    return {
        name: {"description": _DESCRIPTIONS[status],
               "content": {"application/problem+json": {"schema": problem}}}
        for status, name in _RESPONSE_NAMES.items()
    }


def _problem_statuses(op: Operation) -> list[int]:
    # Any request may carry a bad credential (401) or be refused (403: access, CSRF, a
    # stage), name a stage, be throttled or meet an outage; the rest follow from what the
    # operation is.
    statuses = {400, 401, 403, 429, 503, *op.problems}
    if op.body is not None:
        statuses |= {413, 415, 422}
    if any(p.where == "query" for p in op.params):
        statuses.add(422)
    return sorted(statuses)


def _operation(op: Operation, refs: dict[ModelKey, Schema]) -> Schema:
    responses: dict[str, Schema] = {}
    for status, model in op.responses.items():
        if model is None:
            responses[str(status)] = {"description": "Done (no content)"}
        else:
            responses[str(status)] = {"description": op.summary, "content": {
                "application/json": {"schema": refs[model, "serialization"]}}}
    for status in _problem_statuses(op):
        responses[str(status)] = {"$ref": f"#/components/responses/{_RESPONSE_NAMES[status]}"}
    document: Schema = {"summary": op.summary, "operationId": op.operation_id,
                        "tags": [op.tag], "responses": responses}
    if op.description:
        document["description"] = op.description
    parameters = [
        {"name": p.name, "in": p.where, "required": p.where == "path", "schema": p.schema,
         "description": p.description}
        for p in op.params
    ]
    if op.stage:
        parameters.append(STAGE_HEADER)
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {"required": op.body_required, "content": {
            op.body_media: {"schema": refs[op.body, "validation"]}}}
    return document


def _models(operations: list[Operation]) -> list[ModelKey]:
    """Every model the operations name (and the problem document), each once."""
    keys: dict[ModelKey, None] = {(Problem, "serialization"): None}
    for op in operations:
        if op.body is not None:
            keys[op.body, "validation"] = None
        keys.update(((model, "serialization"), None)
                    for model in op.responses.values() if model is not None)
    return list(keys)


def _model_schemas(keys: list[ModelKey]) -> tuple[dict[str, Schema], dict[ModelKey, Schema]]:
    """The component schemas of the models (and of the models they nest), and a reference
    to each model's schema. A schema marked ``DOCUMENTED_BY`` is not a component of its own:
    every reference to it, and every marked field, refers to the configured component."""
    key_refs, top = models_json_schema(keys, ref_template=REF_TEMPLATE)
    defs: dict[str, Schema] = top.get("$defs", {})
    aliases = {ref(name)["$ref"]: schema[DOCUMENTED_BY]
               for name, schema in defs.items() if DOCUMENTED_BY in schema}

    def documented(schema: Any) -> Any:
        if isinstance(schema, dict):
            if DOCUMENTED_BY in schema:
                return ref(schema[DOCUMENTED_BY])
            if schema.get("$ref") in aliases:
                return {**schema, **ref(aliases[schema["$ref"]])}
            return {key: documented(value) for key, value in schema.items()}
        if isinstance(schema, list):
            return [documented(value) for value in schema]
        return schema

    schemas = {name: documented(schema) for name, schema in defs.items()
               if DOCUMENTED_BY not in schema}
    return schemas, {key: documented(key_refs[key]) for key in keys}


def api_operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """The operations of the app's API routes, in routing order."""
    return [op for route in routes if isinstance(route, ApiRoute)
            for op in route.operations.values()]


def _paths(operations: list[Operation], refs: dict[ModelKey, Schema]) -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return paths


def build_openapi(types: list[ItemType], fields: FieldRegistry, routes: Iterable[BaseRoute],
                  *, permissions: list[str] | None = None, stages: list[str] | None = None,
                  roles: list[str] | None = None, vocabularies: list[str] | None = None,
                  languages: list[str] | None = None,
                  cookie_name: str = "trovato_session") -> Schema:
    """The OpenAPI 3.1 document of the API ``routes`` for the current item types,
    permissions and stages."""
    operations = api_operations(routes)
    model_schemas, refs = _model_schemas(_models(operations))
    configured = configured_schemas(types, fields, permissions=permissions or [],
                                    stages=stages or [], roles=roles or [],
                                    vocabularies=vocabularies, languages=languages)
    clash = sorted(model_schemas.keys() & configured.keys())
    if clash:
        raise TypeError(f"models named like configured schemas: {', '.join(clash)}")
    schemas = {**model_schemas, **configured}
    document: Schema = {
        "openapi": "3.1.0",
        "info": {
            "title": "Trovato JSON API",
            "version": trovato.__version__,
            "description": "Content, item types, users and access of a Trovato site. Errors"
                           " are RFC 9457 problem documents with a message per field. No"
                           " text, key or value, may contain a NUL character (422).",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        # Relative: clients resolve it against the document's own address, so a forged Host
        # header cannot point them at another server.
        "servers": [{"url": "/"}],
        "tags": [{"name": n} for n in ("Items", "Item types", "Stages", "Users", "Tokens",
                                        "Roles", "Categories", "Search", "Batches")],
        "security": [{}, {"session": [], "csrf": []}, {"bearer": []}],
        "paths": _paths(operations, refs),
        "components": {
            "schemas": schemas,
            "responses": _common_responses(refs[Problem, "serialization"]),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": cookie_name,
                            "description": "The session cookie from POST /api/v1/session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                         "description": "Required with the session cookie on unsafe methods"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token from /api/v1/tokens"},
            },
        },
    }
    return document


async def openapi_json(request: Request) -> Response:
    # It names every item type and field: content metadata, readable by whoever may read
    # content (the docs page and its assets are static and stay public).
    require_permission(request, "access content")
    services = content_services(request)
    kernel = request_context(request).kernel
    document = build_openapi(
        await services.types.all(), services.fields, request.app.routes,
        permissions=[p.name for p in kernel.registry.all()],
        stages=await kernel.stages.others(),
        roles=[str(role.id) for role in await Roles(kernel.db, kernel.permissions).all()],
        vocabularies=await kernel.categories.vocabulary_names(),
        languages=await kernel.search.languages(),
        cookie_name=kernel.settings.session_cookie,
    )
    # Generated per request from live configuration: never stale in a cache.
    return JSON(document, headers={"cache-control": "no-cache"})


_ASSETS = {"docs.js": "text/javascript", "docs.css": "text/css"}


def _asset(name: str) -> bytes:
    return resources.files("trovato.api").joinpath("static", name).read_bytes()


async def docs_page(request: Request) -> Response:
    return Response(_asset("docs.html"), media_type="text/html; charset=utf-8")


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise ServiceError(404, "No such asset.")
    return Response(_asset(name), media_type=f"{media_type}; charset=utf-8",
                    headers={"cache-control": "public, max-age=3600"})


routes = [
    Route("/api/v1/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/v1/docs", docs_page, methods=["GET"]),
    Route("/api/v1/docs/assets/{name}", docs_asset, methods=["GET"]),
]
