"""``/api/v1/openapi.json`` (OpenAPI 3.1) and ``/api/v1/docs`` (interactive documentation).

The document is generated at request time from the field registry and the item types in the
database, so each item type gets exact schemas for its items (``Item_<type>``,
``ItemCreate_<type>``) and the document changes the moment a type or field does. The kernel's
other endpoints (session, users/me, tokens, roles, permissions) are described by hand here.

The docs page is our own small HTML + JavaScript (``trovato/api/static``), served from this
origin so it works offline and under the site's ``script-src 'self'`` policy; it fetches the
document and renders the operations and schemas.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import trovato
from trovato.api._http import JSON
from trovato.api.item_types import content_services
from trovato.api.items import MAX_PAGE
from trovato.content.fields import FieldRegistry
from trovato.content.items import MAX_LIMIT, SORTS
from trovato.content.types import ItemType
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.errors import ProblemError

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


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_PROBLEM = {"content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _errors(*codes: int) -> dict[str, Schema]:
    text = {400: "Malformed request", 401: "Not logged in", 403: "Access denied",
            404: "Not found", 409: "Conflict", 415: "Not JSON",
            422: "Invalid input: see `errors` for a message per field",
            429: "Too many requests"}
    return {str(c): {"description": text[c], **_PROBLEM} for c in codes}


def _op(summary: str, responses: dict[str, Schema], *, tags: list[str],
        body: Schema | None = None, parameters: list[Schema] | None = None,
        operation_id: str, description: str | None = None) -> Schema:
    op: Schema = {"summary": summary, "operationId": operation_id, "tags": tags,
                  "responses": responses}
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = body
    if parameters:
        op["parameters"] = parameters
    return op


def _path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


STAGE_HEADER: Schema = {
    "name": "X-Trovato-Stage", "in": "header", "required": False, "schema": MACHINE_NAME,
    "description": "Read and write in this stage instead of live (needs `view stages`).",
}
NO_CONTENT: Schema = {"description": "Done (no content)"}


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
                "label": {"type": "string", "maxLength": 255},
                "description": {"type": "string", "maxLength": 2000},
                "required": {"type": "boolean", "default": False},
                "cardinality": {"type": "integer", "minimum": -1, "default": 1,
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


def _item_type_schemas() -> dict[str, Schema]:
    base = {
        "type": {**MACHINE_NAME, "maxLength": 32},
        "label": {"type": "string", "maxLength": 255},
        "description": {"type": "string", "maxLength": 2000},
        "fields": {"type": "array", "items": _ref("FieldInstance")},
    }
    extras = {"has_title": BOOLEAN, "title_label": {"type": "string", "maxLength": 255}}
    return {
        "ItemType": _obj(base, ["type", "label", "description", "fields"]),
        "ItemTypeInput": _obj({**base, **extras}, ["type", "label"]),
        "ItemTypeReplace": _obj(
            {**base, **extras}, ["label", "fields"],
            description="The whole new definition; `type` may be left out (the path names"
                        " it). Fields left out are removed, with their data.",
        ),
        "ItemTypePatch": _obj(
            {k: v for k, v in {**base, **extras}.items() if k != "type"},
            description="Any part of an item type; `fields` replaces the whole list (fields"
                        " left out are removed, with their data).",
        ),
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


def _create_properties(fields: Schema, type_schema: Schema) -> dict[str, Schema]:
    return {
        "type": type_schema,
        "title": {"type": "string", "maxLength": 255},
        "status": {**STATUS, "default": 1},
        "promote": {**BOOLEAN, "default": False},
        "sticky": {**BOOLEAN, "default": False},
        "fields": fields,
        "log": {"type": "string", "maxLength": 10000},
    }


def _item_schemas(types: list[ItemType], fields: FieldRegistry) -> dict[str, Schema]:
    schemas: dict[str, Schema] = {
        "Item": _obj(_item_properties(_ANY_FIELDS, STRING), _ITEM_REQUIRED),
        "ItemPatch": _obj(
            {
                "title": {"type": "string", "maxLength": 255},
                "status": STATUS,
                "promote": BOOLEAN,
                "sticky": BOOLEAN,
                "fields": {**_ANY_FIELDS, "description": "Only the fields given change;"
                                                         " null clears a field."},
                "log": {"type": "string", "maxLength": 10000},
            },
            description="Any of these; a new revision is written with `log` as its message.",
        ),
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
            _create_properties(create_fields, const), create_required,
            description=f"A new {item_type.label}.",
        )
        mapping[item_type.type] = f"#/components/schemas/ItemCreate_{item_type.type}"
    if mapping:
        schemas["ItemCreate"] = {
            "oneOf": [{"$ref": target} for target in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }
    else:  # no types yet: nothing can be created, but the shape is still documented
        schemas["ItemCreate"] = _obj(_create_properties(_ANY_FIELDS, MACHINE_NAME), ["type"])
    return schemas


def _kernel_schemas() -> dict[str, Schema]:
    return {
        "Problem": _obj(
            {"type": STRING, "title": STRING, "status": INTEGER, "detail": STRING,
             "instance": STRING,
             "errors": {"type": "object", "additionalProperties": STRING,
                        "description": "A message per invalid field, keyed by its path"
                                       " (e.g. `fields.field_count`)."}},
            ["type", "title", "status"], closed=False,
            description="RFC 9457 problem details.",
        ),
        "LoginInput": _obj({"name": STRING, "pass": STRING}, ["name", "pass"]),
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
        "Token": _obj({"id": UUID, "label": STRING, "prefix": STRING, "created": DATETIME,
                       "last_used": {"type": ["string", "null"], "format": "date-time"}},
                      ["id", "label", "prefix", "created"]),
        "TokenCreated": {"allOf": [_ref("Token"), {
            "type": "object", "required": ["token"],
            "properties": {"token": {"type": "string",
                                     "description": "The secret; shown only once."}}}]},
        "TokenInput": _obj({"label": {"type": "string", "minLength": 1, "maxLength": 100}},
                           ["label"]),
        "TokenList": _obj({"tokens": {"type": "array", "items": _ref("Token")}}, ["tokens"]),
        "Role": _obj({"id": UUID, "name": STRING, "weight": INTEGER, "builtin": BOOLEAN,
                      "permissions": {"type": "array", "items": STRING}},
                     ["id", "name", "permissions"]),
        "RoleInput": _obj({"name": {"type": "string", "minLength": 1, "maxLength": 64}},
                          ["name"]),
        "RoleList": _obj({"roles": {"type": "array", "items": _ref("Role")}}, ["roles"]),
        "RolePermissions": _obj({"permissions": {"type": "array", "items": STRING}},
                                ["permissions"]),
        "UserRoles": _obj({"roles": {"type": "array", "items": UUID}}, ["roles"]),
        "Permission": _obj({"name": STRING, "title": STRING, "description": STRING,
                            "restricted": BOOLEAN, "provider": STRING},
                           ["name", "title"]),
        "PermissionList": _obj({"permissions": {"type": "array", "items": _ref("Permission")}},
                               ["permissions"]),
    }


# -- paths -------------------------------------------------------------------------------------

def _kernel_paths() -> dict[str, Schema]:
    tags = ["Users"]
    role_id = _path_param("role_id", UUID, "A role id")
    return {
        "/api/v1/session": {
            "post": _op("Log in", {"200": _json(_ref("LoginResult"), "Logged in; the session"
                                                " cookie is set"), **_errors(401, 422, 429)},
                        tags=tags, body=_body(_ref("LoginInput")), operation_id="login",
                        description="Needs no CSRF token. Later unsafe calls with the session"
                                    " cookie send `csrf_token` as `X-CSRF-Token`."),
            "delete": _op("Log out", {"204": NO_CONTENT}, tags=tags, operation_id="logout"),
        },
        "/api/v1/users/me": {
            "get": _op("The current user", {"200": _json(_ref("User"), "The user")},
                       tags=tags, operation_id="currentUser"),
        },
        "/api/v1/tokens": {
            "get": _op("List own API tokens", {"200": _json(_ref("TokenList"), "Tokens"),
                                               **_errors(401, 403)},
                       tags=["Tokens"], operation_id="listTokens"),
            "post": _op("Create an API token", {"201": _json(_ref("TokenCreated"), "Created"),
                                                **_errors(401, 403, 409, 422)},
                        tags=["Tokens"], body=_body(_ref("TokenInput")),
                        operation_id="createToken"),
        },
        "/api/v1/tokens/{token_id}": {
            "delete": _op("Revoke an API token", {"204": NO_CONTENT, **_errors(401, 403, 404)},
                          tags=["Tokens"], operation_id="revokeToken",
                          parameters=[_path_param("token_id", UUID, "A token id")]),
        },
        "/api/v1/permissions": {
            "get": _op("List permissions", {"200": _json(_ref("PermissionList"), "All"),
                                            **_errors(401, 403)},
                       tags=["Roles"], operation_id="listPermissions"),
        },
        "/api/v1/roles": {
            "get": _op("List roles", {"200": _json(_ref("RoleList"), "Roles"),
                                      **_errors(401, 403)},
                       tags=["Roles"], operation_id="listRoles"),
            "post": _op("Create a role", {"201": _json(_ref("Role"), "Created"),
                                          **_errors(401, 403, 409, 422)},
                        tags=["Roles"], body=_body(_ref("RoleInput")),
                        operation_id="createRole"),
        },
        "/api/v1/roles/{role_id}": {
            "delete": _op("Delete a role", {"204": NO_CONTENT, **_errors(401, 403, 404, 409)},
                          tags=["Roles"], operation_id="deleteRole", parameters=[role_id]),
        },
        "/api/v1/roles/{role_id}/permissions": {
            "put": _op("Set a role's permissions", {"200": _json(_ref("Role"), "The role"),
                                                    **_errors(401, 403, 404, 422)},
                       tags=["Roles"], body=_body(_ref("RolePermissions")),
                       operation_id="setRolePermissions", parameters=[role_id]),
        },
        "/api/v1/users/{user_id}": {
            "delete": _op("Delete a user", {"204": NO_CONTENT,
                                            **_errors(401, 403, 404, 409, 422)},
                          tags=tags, operation_id="deleteUser",
                          parameters=[_path_param("user_id", UUID, "A user id")],
                          description="Needs `administer users`. The user's items and revisions"
                                      " are reassigned to the anonymous user and their API"
                                      " tokens revoked. 422: the anonymous user; 409: the last"
                                      " administrator, or a plugin refused (`user_delete`)."),
        },
        "/api/v1/users/{user_id}/roles": {
            "put": _op("Set a user's roles", {"204": NO_CONTENT, **_errors(401, 403, 404, 422)},
                       tags=["Roles"], body=_body(_ref("UserRoles")),
                       operation_id="setUserRoles",
                       parameters=[_path_param("user_id", UUID, "A user id")]),
        },
    }


def _content_paths(types: list[ItemType]) -> dict[str, Schema]:
    type_param = _path_param("type", {**MACHINE_NAME, "enum": [t.type for t in types]}
                             if types else MACHINE_NAME, "An item type")
    item_id = _path_param("id", UUID, "An item id")
    item_response = (
        {"oneOf": [_ref(f"Item_{t.type}") for t in types]} if types else _ref("Item")
    )
    tags_t, tags_i = ["Item types"], ["Items"]
    return {
        "/api/v1/item-types": {
            "get": _op("List item types", {"200": _json(_ref("ItemTypeList"), "All types"),
                                           **_errors(401, 403)},
                       tags=tags_t, operation_id="listItemTypes"),
            "post": _op("Create an item type",
                        {"201": _json(_ref("ItemType"), "Created"),
                         **_errors(401, 403, 409, 415, 422)},
                        tags=tags_t, body=_body(_ref("ItemTypeInput")),
                        operation_id="createItemType",
                        description="Needs `administer content types`. A field name keeps one"
                                    " field type and cardinality on every item type."),
        },
        "/api/v1/item-types/{type}": {
            "parameters": [type_param],
            "get": _op("Get an item type", {"200": _json(_ref("ItemType"), "The type"),
                                            **_errors(401, 403, 404)},
                       tags=tags_t, operation_id="getItemType"),
            "patch": _op("Change part of an item type",
                         {"200": _json(_ref("ItemType"), "Changed"),
                          **_errors(401, 403, 404, 415, 422)},
                         tags=tags_t, body=_body(_ref("ItemTypePatch")),
                         operation_id="patchItemType"),
            "put": _op("Replace an item type", {"200": _json(_ref("ItemType"), "Replaced"),
                                                **_errors(401, 403, 404, 415, 422)},
                       tags=tags_t, body=_body(_ref("ItemTypeReplace")),
                       operation_id="putItemType"),
            "delete": _op(
                "Delete an item type",
                {"200": _json(_ref("ItemTypeDeleted"), "Deleted"), **_errors(401, 403, 404,
                                                                              409)},
                tags=tags_t, operation_id="deleteItemType",
                parameters=[_query("force", {"type": "boolean", "default": False},
                                   "Also delete the type's items (refused with 409 otherwise)")],
            ),
        },
        "/api/v1/items": {
            "get": _op(
                "List items",
                {"200": _json(_ref("ItemList"), "One page of items"), **_errors(403, 422)},
                tags=tags_i, operation_id="listItems",
                parameters=[
                    _query("type", MACHINE_NAME, "Only items of this type"),
                    _query("status", STATUS, "Only published (1) or unpublished (0) items"),
                    _query("author", UUID, "Only items by this author"),
                    _query("promote", {"type": "boolean"},
                           "Only items promoted (true) or not promoted (false) to the front page"),
                    _query("sticky", {"type": "boolean"},
                           "Only sticky (true) or non-sticky (false) items"),
                    _query("sort", {"type": "string", "enum": list(SORTS),
                                    "default": "-created"},
                           "Order; `-` for descending; `-sticky` is sticky first, then newest"),
                    _query("page", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE,
                                    "default": 0},
                           "Page number, from 0"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": 25},
                           f"Items per page (at most {MAX_LIMIT})"),
                    STAGE_HEADER,
                ],
            ),
            "post": _op("Create an item", {"201": _json(item_response, "Created"),
                                           **_errors(401, 403, 415, 422)},
                        tags=tags_i, body=_body(_ref("ItemCreate")), operation_id="createItem",
                        parameters=[STAGE_HEADER]),
        },
        "/api/v1/items/{id}": {
            "parameters": [item_id, STAGE_HEADER],
            "get": _op("Get an item", {"200": _json(item_response, "The item"),
                                       **_errors(403, 404)},
                       tags=tags_i, operation_id="getItem"),
            "patch": _op("Change an item", {"200": _json(item_response, "Changed"),
                                            **_errors(401, 403, 404, 409, 415, 422)},
                         tags=tags_i, body=_body(_ref("ItemPatch")), operation_id="patchItem"),
            "delete": _op("Delete an item", {"204": NO_CONTENT, **_errors(401, 403, 404)},
                          tags=tags_i, operation_id="deleteItem"),
        },
        "/api/v1/items/{id}/revisions": {
            "parameters": [item_id, STAGE_HEADER],
            "get": _op("List an item's revisions", {"200": _json(_ref("RevisionList"),
                                                                 "Newest first"),
                                                    **_errors(403, 404)},
                       tags=tags_i, operation_id="listRevisions"),
        },
        "/api/v1/items/{id}/revisions/{rev}/revert": {
            "parameters": [item_id, _path_param("rev", UUID, "A revision id"), STAGE_HEADER],
            "post": _op("Revert to a revision (as a new revision)",
                        {"200": _json(item_response, "The item as reverted"),
                         **_errors(401, 403, 404, 422)},
                        tags=tags_i, operation_id="revertRevision",
                        body=_body(_obj({"log": STRING}), required=False)),
        },
    }


def build_openapi(types: list[ItemType], fields: FieldRegistry, *,
                  cookie_name: str = "trovato_session") -> Schema:
    """The OpenAPI 3.1 document for the current item types."""
    schemas = {
        **_kernel_schemas(),
        **_field_instance_schemas(fields),
        **_item_type_schemas(),
        **_item_schemas(types, fields),
    }
    document: Schema = {
        "openapi": "3.1.0",
        "info": {
            "title": "Trovato JSON API",
            "version": trovato.__version__,
            "description": "Content, item types, users and access of a Trovato site. Errors"
                           " are RFC 9457 problem documents with a message per field.",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        # Relative: clients resolve it against the document's own address, so a forged Host
        # header cannot point them at another server.
        "servers": [{"url": "/"}],
        "tags": [{"name": n} for n in ("Items", "Item types", "Users", "Tokens", "Roles")],
        "security": [{}, {"session": [], "csrf": []}, {"bearer": []}],
        "paths": {**_content_paths(types), **_kernel_paths()},
        "components": {
            "schemas": schemas,
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
        await services.types.all(), services.fields,
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
        raise ProblemError(404, "No such asset.")
    return Response(_asset(name), media_type=f"{media_type}; charset=utf-8",
                    headers={"cache-control": "public, max-age=3600"})


routes = [
    Route("/api/v1/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/v1/docs", docs_page, methods=["GET"]),
    Route("/api/v1/docs/assets/{name}", docs_asset, methods=["GET"]),
]
