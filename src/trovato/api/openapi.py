"""``/api/v1/openapi.json`` (OpenAPI 3.1) and ``/api/v1/docs`` (interactive documentation).

The paths come from the app's API routes: each handler declares its operation next to it
(``@operation`` in :mod:`trovato.api.routing`), and request bodies are the JSON schemas of the
pydantic models the handlers validate with. The problem responses are declared once
(``components/responses``) and referenced by what each operation is (authenticated, has a body,
reads a stage); their schema, ``Problem``, is the shape the kernel's one error handler builds
(:func:`trovato.kernel.errors.problem_schema`). The schemas that follow live configuration are
generated at request time from the field registry and the item types in the database: each
item type gets exact schemas for its items (``Item_<type>``, ``ItemCreate_<type>``), so the
document changes the moment a type or field does. Response shapes are the component schemas
below.

The docs page is our own small HTML + JavaScript (``trovato/api/static``), served from this
origin so it works offline and under the site's ``script-src 'self'`` policy; it fetches the
document and renders the operations and schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import trovato
from trovato.api._http import JSON
from trovato.api.item_types import content_services
from trovato.api.routing import DOCUMENTED_BY, ApiRoute, Operation
from trovato.content.fields import MAX_CARDINALITY, FieldRegistry
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.errors import problem_schema
from trovato.stages import LIVE
from trovato.users.roles import Roles

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Schema], required: list[str] | None = None,
         *, closed: bool = True, description: str | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


STRING: Schema = {"type": "string"}
UUID: Schema = {"type": "string", "format": "uuid"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
STATUS: Schema = {"type": "integer", "enum": [0, 1],
                  "description": "1 published, 0 unpublished"}
MACHINE_NAME: Schema = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
STAGE_HEADER: Schema = {
    "name": "X-Trovato-Stage", "in": "header", "required": False,
    "schema": _ref("StageName"),
    "description": "Read and write in this stage instead of live (needs `use stages` and"
                   " access to the stage).",
}


# -- schemas -----------------------------------------------------------------------------------

def _field_instance_schemas(fields: FieldRegistry) -> dict[str, Schema]:
    """One schema per field type (its settings differ), joined by a discriminator."""
    schemas: dict[str, Schema] = {}
    mapping: dict[str, str] = {}
    for field_type in fields.all():
        name = f"FieldInstance_{field_type.name}"
        schemas[name] = _obj(
            {
                "name": {**MACHINE_NAME, "maxLength": 64},
                "type": {"type": "string", "const": field_type.name},
                "label": {"type": "string", "maxLength": 255, "pattern": r"\S"},
                "description": {"type": "string", "maxLength": 2000},
                "required": {"type": "boolean", "default": False},
                "cardinality": {"type": "integer", "minimum": -1, "maximum": MAX_CARDINALITY,
                                "not": {"const": 0}, "default": 1,
                                "description": "-1 for unlimited"},
                "settings": field_type.settings_schema(),
            },
            ["name", "type", "label"],
            description=(
                f"{field_type.label}: {field_type.description} Stored value properties:"
                f" {', '.join(field_type.properties)}. Widget `{field_type.widget}`,"
                f" formatter `{field_type.formatter}`."
            ),
        )
        mapping[field_type.name] = f"#/components/schemas/{name}"
    schemas["FieldInstance"] = {
        "oneOf": [_ref(f"FieldInstance_{n}") for n in mapping],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return schemas


def _item_type_schemas(types: list[ItemType]) -> dict[str, Schema]:
    return {
        "ItemType": _obj(
            {"type": {**MACHINE_NAME, "maxLength": 32},
             "label": {"type": "string", "maxLength": 255},
             "description": {"type": "string", "maxLength": 2000},
             "fields": {"type": "array", "items": _ref("FieldInstance")}},
            ["type", "label", "description", "fields"]),
        "ItemTypeName": ({**MACHINE_NAME, "enum": [t.type for t in types]} if types
                         else MACHINE_NAME),
        "ItemTypeList": _obj({"item_types": {"type": "array", "items": _ref("ItemType")}},
                             ["item_types"]),
        "ItemTypeDeleted": _obj({"type": STRING, "deleted_items": INTEGER, "message": STRING},
                                ["type", "deleted_items", "message"]),
    }


def _item_properties(fields: Schema, type_schema: Schema) -> dict[str, Schema]:
    return {
        "id": UUID,
        "type": type_schema,
        "title": STRING,
        "status": STATUS,
        "promote": BOOLEAN,
        "sticky": BOOLEAN,
        "author_id": UUID,
        "created": DATETIME,
        "changed": DATETIME,
        "revision_id": UUID,
        "stage": STRING,
        "fields": fields,
    }


_ITEM_REQUIRED = ["id", "type", "title", "status", "promote", "sticky", "author_id",
                  "created", "changed", "revision_id", "stage", "fields"]
_ANY_FIELDS: Schema = {"type": "object", "additionalProperties": True,
                       "description": "Field name → a value object (single-valued) or a list"
                                      " of value objects (multi-valued)."}


# One line; not blank when the type has a title (the service refuses otherwise).
_TITLE = r"^[^\n\r]*$"
_TITLE_REQUIRED = r"^[^\n\r]*\S[^\n\r]*$"


def _create_properties(fields: Schema, type_schema: Schema,
                       has_title: bool = True) -> dict[str, Schema]:
    return {
        "type": type_schema,
        "title": {"type": "string", "maxLength": 255,
                  "pattern": _TITLE_REQUIRED if has_title else _TITLE},
        "status": {**STATUS, "default": 1},
        "promote": {**BOOLEAN, "default": False},
        "sticky": {**BOOLEAN, "default": False},
        "fields": fields,
        "log": {"type": "string", "maxLength": 10000},
    }


def _item_schemas(types: list[ItemType], fields: FieldRegistry) -> dict[str, Schema]:
    schemas: dict[str, Schema] = {
        "Item": _obj(_item_properties(_ANY_FIELDS, STRING), _ITEM_REQUIRED),
        "ItemList": _obj(
            {"items": {"type": "array", "items": _ref("Item")}, "page": INTEGER,
             "limit": INTEGER, "total": INTEGER},
            ["items", "page", "limit", "total"],
        ),
        "Revision": _obj({"id": UUID, "created": DATETIME, "author_id": UUID, "title": STRING,
                          "log": STRING}, ["id", "created", "author_id", "title", "log"]),
        "RevisionList": _obj({"revisions": {"type": "array", "items": _ref("Revision")}},
                             ["revisions"]),
    }
    mapping: dict[str, str] = {}
    for item_type in types:
        properties = {d.name: fields.field_schema(d) for d in item_type.fields}
        required = [d.name for d in item_type.fields if d.required]
        typed_fields: Schema = {"type": "object", "properties": properties,
                                "additionalProperties": False}
        create_fields = {**typed_fields}
        if required:
            create_fields["required"] = required
        const = {"type": "string", "const": item_type.type}
        description = item_type.description or item_type.label
        schemas[f"Item_{item_type.type}"] = _obj(
            _item_properties(typed_fields, const), _ITEM_REQUIRED,
            description=f"{item_type.label}: {description}",
        )
        create_required = ["type", "title"] if item_type.has_title else ["type"]
        if required:
            create_required.append("fields")
        schemas[f"ItemCreate_{item_type.type}"] = _obj(
            _create_properties(create_fields, const, item_type.has_title), create_required,
            description=f"A new {item_type.label}.",
        )
        mapping[item_type.type] = f"#/components/schemas/ItemCreate_{item_type.type}"
    schemas["ItemResponse"] = (
        {"oneOf": [_ref(f"Item_{t.type}") for t in types]} if types else _ref("Item"))
    if mapping:
        schemas["ItemCreate"] = {
            "oneOf": [{"$ref": target} for target in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }
    else:  # no types yet: nothing can be created, but the shape is still documented
        schemas["ItemCreate"] = _obj(_create_properties(_ANY_FIELDS, MACHINE_NAME), ["type"])
    return schemas


TOKEN: dict[str, Schema] = {
    "id": UUID, "label": STRING, "prefix": STRING, "created": DATETIME,
    "last_used": {"type": ["string", "null"], "format": "date-time"}}
TOKEN_REQUIRED = ["id", "label", "prefix", "created"]


def _problem_schema() -> Schema:
    """The problem document the kernel's error handler builds, with the members this API's
    operations add (a refused publish's ``conflicts``)."""
    schema = problem_schema()
    schema["properties"]["conflicts"] = {
        "type": "array", "items": _ref("StageConflict"),
        "description": "A refused publish's unresolved conflicts."}
    return schema


def _kernel_schemas() -> dict[str, Schema]:
    return {
        "Problem": _problem_schema(),
        "LoginResult": _obj({"user": _ref("User"), "csrf_token": STRING},
                            ["user", "csrf_token"]),
        "User": _obj(
            {"id": UUID, "name": STRING, "mail": STRING, "is_admin": BOOLEAN,
             "authenticated": BOOLEAN, "roles": {"type": "array", "items": UUID},
             "permissions": {"type": "array", "items": STRING},
             "created": {"type": ["string", "null"], "format": "date-time"},
             "timezone": STRING},
            ["id", "name", "authenticated", "roles", "permissions"],
        ),
        "Token": _obj(TOKEN, TOKEN_REQUIRED),
        "TokenCreated": _obj({**TOKEN, "token": {
            "type": "string", "description": "The secret; shown only once."}},
            [*TOKEN_REQUIRED, "token"]),
        "TokenList": _obj({"tokens": {"type": "array", "items": _ref("Token")}}, ["tokens"]),
        "Role": _obj({"id": UUID, "name": STRING, "weight": INTEGER, "builtin": BOOLEAN,
                      "permissions": {"type": "array", "items": STRING}},
                     ["id", "name", "permissions"]),
        "RoleList": _obj({"roles": {"type": "array", "items": _ref("Role")}}, ["roles"]),
        "Permission": _obj({"name": STRING, "title": STRING, "description": STRING,
                            "restricted": BOOLEAN, "provider": STRING},
                           ["name", "title"]),
        "PermissionList": _obj({"permissions": {"type": "array", "items": _ref("Permission")}},
                               ["permissions"]),
        **_stage_schemas(),
    }


_NULLABLE_DATETIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_ITEM_IDS: Schema = {"type": "array", "items": UUID}


def _stage_schemas() -> dict[str, Schema]:
    conflict = _obj({"item": UUID, "field": STRING, "stage": {}, "upstream": {}, "base": {}},
                    ["item", "field", "stage", "upstream", "base"],
                    description="A field changed in the stage and upstream to different"
                                " values since the stage's edit began.")
    return {
        "Stage": _obj(
            {"id": MACHINE_NAME, "label": STRING, "upstream": STRING,
             "owner_id": {"type": ["string", "null"], "format": "uuid"},
             "visibility": {"type": "string", "enum": ["private", "public"]},
             "status": {"type": "string", "enum": ["open", "published", "archived"]},
             "created": DATETIME, "changed": DATETIME, "published": _NULLABLE_DATETIME,
             "roles": _ITEM_IDS},
            ["id", "label", "upstream", "visibility", "status", "roles"]),
        "StageList": _obj({"stages": {"type": "array", "items": _ref("Stage")}}, ["stages"]),
        "StageChange": _obj(
            {"item": UUID, "change": {"type": "string", "enum": ["created", "edited",
                                                                 "deleted"]},
             "title": STRING,
             "fields": {"type": "array", "items": _obj(
                 {"field": STRING, "stage": {}, "upstream": {}}, ["field", "stage",
                                                                  "upstream"])}},
            ["item", "change", "title", "fields"]),
        "StageChanges": _obj({"changes": {"type": "array", "items": _ref("StageChange")}},
                             ["changes"]),
        "StageConflict": conflict,
        "StageConflicts": _obj({"conflicts": {"type": "array",
                                              "items": _ref("StageConflict")}},
                               ["conflicts"]),
        "PublishResult": _obj(
            {"stage": STRING, "upstream": STRING, "dry_run": BOOLEAN, "created": _ITEM_IDS,
             "edited": _ITEM_IDS, "deleted": _ITEM_IDS, "skipped": _ITEM_IDS,
             "resolved": {"type": "array", "items": _ref("StageConflict")}},
            ["stage", "upstream", "dry_run", "created", "edited", "deleted", "skipped",
             "resolved"]),
    }


# -- paths -------------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Malformed request, or an unknown stage (`X-Trovato-Stage` / `?stage=`)",
    401: "Not logged in", 403: "Access denied", 404: "Not found", 409: "Conflict",
    413: "The request body is too large", 415: "The request body is not JSON",
    422: "Invalid input: see `errors` for a message per field",
    429: "Too many requests", 503: "The database or shared store is unavailable",
}
_RESPONSE_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                   409: "Conflict", 413: "TooLarge", 415: "NotJson", 422: "Invalid",
                   429: "TooManyRequests", 503: "Unavailable"}


def _common_responses() -> dict[str, Schema]:
    """Every problem response, declared once and referenced by the operations."""
    return {
        name: {"description": _DESCRIPTIONS[status],
               "content": {"application/problem+json": {"schema": _ref("Problem")}}}
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


def _operation(op: Operation) -> Schema:
    responses: dict[str, Schema] = {}
    for status, schema in op.responses.items():
        if schema is None:
            responses[str(status)] = {"description": "Done (no content)"}
        else:
            responses[str(status)] = {"description": op.summary, "content": {
                "application/json": {"schema": _ref(schema)}}}
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
            "application/json": {"schema": _ref(op.body_schema or op.body.__name__)}}}
    return document


def _body_schemas(operations: list[Operation]) -> dict[str, Schema]:
    """The JSON schemas of the request models, exactly as pydantic validates them."""
    schemas: dict[str, Schema] = {}
    for op in operations:
        if op.body is None or op.body.__name__ in schemas:
            continue
        text = orjson.dumps(op.body.model_json_schema(by_alias=True))
        schema = orjson.loads(text.replace(b'"#/$defs/', b'"#/components/schemas/'))
        schemas.update(schema.pop("$defs", {}))
        schemas[op.body.__name__] = schema
    return {name: _documented(schema) for name, schema in schemas.items()}


def _documented(schema: Any) -> Any:
    """``schema`` with every ``{DOCUMENTED_BY: name}`` replaced by a ref to that component."""
    if isinstance(schema, dict):
        if DOCUMENTED_BY in schema:
            return _ref(schema[DOCUMENTED_BY])
        return {key: _documented(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_documented(value) for value in schema]
    return schema


def api_operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """The operations of the app's API routes, in routing order."""
    return [op for route in routes if isinstance(route, ApiRoute)
            for op in route.operations.values()]


def _paths(operations: list[Operation]) -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return paths


def _name_schemas(permissions: list[str], stages: list[str],
                  roles: list[str]) -> dict[str, Schema]:
    """The names a request may use, as they are now (anything else is refused)."""
    return {
        "PermissionName": {"type": "string", "enum": permissions} if permissions else STRING,
        "RoleId": {**UUID, "enum": roles} if roles else UUID,
        "StageName": {"type": "string", "enum": [LIVE, *stages]},
    }


def build_openapi(types: list[ItemType], fields: FieldRegistry, routes: Iterable[BaseRoute],
                  *, permissions: list[str] | None = None, stages: list[str] | None = None,
                  roles: list[str] | None = None, cookie_name: str = "trovato_session") -> Schema:
    """The OpenAPI 3.1 document of the API ``routes`` for the current item types,
    permissions and stages."""
    operations = api_operations(routes)
    schemas = {
        **_name_schemas(permissions or [], stages or [], roles or []),
        **_kernel_schemas(),
        **_field_instance_schemas(fields),
        **_item_type_schemas(types),
        **_item_schemas(types, fields),
        **_body_schemas(operations),
    }
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
                                                "Roles")],
        "security": [{}, {"session": [], "csrf": []}, {"bearer": []}],
        "paths": _paths(operations),
        "components": {
            "schemas": schemas,
            "responses": _common_responses(),
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
