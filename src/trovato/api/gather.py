"""``/api/v1/gather-definitions`` (managing listings, ``administer gather``) and
``/api/v1/gather/{name}`` (a listing's JSON display).

The JSON display answers ``{"items": [...], "page", "per_page", "total"}``: for an item
listing the items as ``/api/v1/items`` shows them (with ``related``, the fields read through
relationships, when the definition has some), for a user listing each user's public record
(``id``, ``name``, ``created``; ``mail`` only for readers with ``administer users``), for a
tag listing each tag (``id``, ``name``, ``slug``, ``vocabulary``, ``description``,
``weight``). ``page`` counts from 0; ``total`` is the exact number of matches for a ``full``
pager and null for ``mini`` and ``none`` (which never count). Exposed filters are query
parameters named by the definition; a bad value is a 400 naming the parameter, a page past the
last a 404 (page 0 of an empty listing is an empty list). A listing without a ``json``
display is a 404 here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel
from trovato.api.items import Item
from trovato.api.routing import DOCUMENTED_BY, Param, api_routes, operation, read_body
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.gather import Gather
from trovato.gather.definition import (
    LIST_OPS,
    MAX_FILTERS,
    MAX_JOINS,
    MAX_LIST_VALUES,
    MAX_PER_PAGE,
    MAX_TEXT,
    NAME_PATTERN,
    NO_VALUE,
    OPERATORS,
    PARAMETER_PATTERN,
    RESERVED_PARAMETERS,
    TEXT_OPS,
    Definition,
    RelationshipDef,
    SortDef,
    UseDef,
)
from trovato.gather.fields import SEARCH_FIELD, FieldSpec, field_specs
from trovato.gather.service import MAX_PAGE
from trovato.gather.values import RELATIVE_PATTERN
from trovato.kernel.context import request_context

DEFINITION_PATH = "/api/v1/gather-definitions/{name}"
NAME = Param("name", "path", {"type": "string", "pattern": NAME_PATTERN, "maxLength": 64},
             "A listing's machine name")
PAGE = Param("page", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE,
                               "default": 0}, "Page number, from 0")


class SortBody(SortDef):
    field: str = Field(min_length=1, max_length=64,
                       json_schema_extra={DOCUMENTED_BY: "GatherSortField"})


class RelationshipBody(RelationshipDef):
    field: str = Field(min_length=1, max_length=64,
                       json_schema_extra={DOCUMENTED_BY: "GatherRelationshipField"})


class DefinitionBody(Definition):
    """A definition as a request sends it: its field names, filters and sorts are those the
    site's item types define (``GatherFilter``, ``GatherFieldName``, ``GatherSortField``,
    built from the types). Within one definition each exposed query parameter names one
    filter."""

    filters: list[Any] = Field(default_factory=list, max_length=MAX_FILTERS,
                               json_schema_extra={"items": {DOCUMENTED_BY: "GatherCondition"}})
    # A list of the subclass in the subclass (lists are invariant, the validation is not).
    sorts: list[SortBody | UseDef] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=5,
        json_schema_extra={"items": {DOCUMENTED_BY: "GatherSort"}})
    fields: list[str] = Field(default_factory=list, max_length=20,
                              json_schema_extra={"items": {DOCUMENTED_BY: "GatherFieldName"}})
    relationships: list[RelationshipBody] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=MAX_JOINS)


class StoredDefinition(Definition):
    """A stored definition with its version (raised by every change)."""

    version: int
    plugin: str | None = None
    changed: datetime


class DefinitionList(ResponseModel):
    definitions: list[StoredDefinition]


class GatherItem(Item):
    """An item of an item listing."""

    related: dict[str, Any] | None = Field(default=None, description=(
        "The definition's fields read through its relationships (`author.name`, "
        "`topic.title`), null where the reader may not see the joined record; only when the "
        "definition has such fields."))


class GatherUser(ResponseModel):
    """A user of a user listing (active users only; public columns)."""

    id: uuid.UUID
    name: str
    created: datetime
    mail: str | None = Field(default=None, description="Only for readers with "
                                                       "`administer users`.")


class GatherTag(ResponseModel):
    """A tag of a tag listing."""

    id: uuid.UUID
    name: str
    slug: str
    vocabulary: str = Field(description="The vocabulary's machine name")
    description: str
    weight: int


class GatherPage(ResponseModel):
    """One page of a listing; ``total`` is null for the mini and none pagers. The items'
    shape follows the definition's ``base``."""

    items: list[GatherItem | GatherUser | GatherTag]
    page: int = Field(ge=0)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int | None


def _gather(request: Request) -> Gather:
    return request_context(request).kernel.gather


@operation("GET", "/api/v1/gather-definitions", operation_id="listGatherDefinitions",
           summary="List Gather listings", tag="Gather", responses={200: DefinitionList})
async def list_definitions(request: Request) -> Response:
    stored = await _gather(request).all(request_context(request).current_user)
    return JSON({"definitions": [s.public() for s in stored]})


@operation("POST", "/api/v1/gather-definitions", operation_id="createGatherDefinition",
           summary="Create a Gather listing", tag="Gather", responses={201: StoredDefinition},
           body=DefinitionBody, problems=(409,))
async def create_definition(request: Request) -> Response:
    body = await read_body(request, DefinitionBody)
    stored = await _gather(request).create(request_context(request).current_user,
                                           body.document())
    return JSON(stored.public(), status_code=201,
                headers={"location": f"/api/v1/gather-definitions/{stored.name}"})


@operation("GET", DEFINITION_PATH, operation_id="getGatherDefinition",
           summary="Get a Gather listing's definition", tag="Gather",
           responses={200: StoredDefinition}, problems=(404,), params=(NAME,))
async def get_definition(request: Request) -> Response:
    stored = await _gather(request).get(request_context(request).current_user,
                                        request.path_params["name"])
    return JSON(stored.public())


@operation("PUT", DEFINITION_PATH, operation_id="putGatherDefinition",
           summary="Replace (or create) a Gather listing's definition", tag="Gather",
           responses={200: StoredDefinition}, body=DefinitionBody, problems=(409,),
           params=(NAME,), description="The body's `name` must be the path's (else 409).")
async def put_definition(request: Request) -> Response:
    body = await read_body(request, DefinitionBody)
    stored = await _gather(request).put(request_context(request).current_user,
                                        request.path_params["name"], body.document())
    return JSON(stored.public())


@operation("DELETE", DEFINITION_PATH, operation_id="deleteGatherDefinition",
           summary="Delete a Gather listing", tag="Gather", responses={204: None},
           problems=(404, 409), params=(NAME,),
           description="The front page listing (`frontpage`) can be changed, not deleted.")
async def delete_definition(request: Request) -> Response:
    await _gather(request).delete(request_context(request).current_user,
                                  request.path_params["name"])
    return Response(status_code=204)


@operation("GET", "/api/v1/gather/{name}", operation_id="runGather",
           summary="One page of a listing (its JSON display)", tag="Gather",
           responses={200: GatherPage}, problems=(400, 404), stage=True, params=(NAME, PAGE),
           description="Exposed filters and contextual arguments are further query "
                       "parameters named by the definition.")
async def run_listing(request: Request) -> Response:
    ctx = request_context(request)
    raw = request.query_params.get("page", "0")
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_PAGE:
        raise ServiceError(400, f"The query parameter 'page' must be an integer from 0 to "
                                f"{MAX_PAGE}.", field="page")
    gather = _gather(request)
    name = request.path_params["name"]
    stored = await gather.stored(name)
    if stored.definition.displays.json_ is None:
        raise ServiceError(404, f"The listing {name!r} has no JSON display.")
    result = await gather.run(ctx.current_user, name, page=int(raw),
                              exposed=request.query_params, arguments=request.query_params,
                              stage=ctx.stage)
    return JSON({"items": result.public(), "page": result.page,
                 "per_page": result.per_page, "total": result.total})


# -- the configured schemas ----------------------------------------------------------------------

Schema = dict[str, Any]
_REF = "#/components/schemas/{}"


def _value_schema(spec: FieldSpec) -> Schema:
    """One value of ``spec``'s kind, as :func:`trovato.gather.values.convert` takes it."""
    kind = spec.kind
    if kind == "text":
        text: Schema = {"type": "string", "maxLength": MAX_TEXT}
        return {**text, "enum": list(spec.options)} if spec.options else text
    if kind == "int":
        return {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
    if kind in ("decimal", "float"):
        return {"anyOf": [{"type": "number"}, {
            "type": "string", "pattern": r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$"}]}
    if kind == "bool":
        return {"type": "boolean"}
    if kind in ("date", "datetime"):
        return {"anyOf": [{"type": "string", "format": "date" if kind == "date" else "date-time"},
                          {"type": "string", "pattern": RELATIVE_PATTERN}]}
    return {"type": "string", "format": "uuid"}


def _signature(spec: FieldSpec) -> tuple[Any, ...]:
    fulltext = spec.kind == "text" and spec.column in (None, "title")
    return (spec.kind, spec.options, fulltext, spec.name == SEARCH_FIELD)


def _variants(names: list[str], spec: FieldSpec) -> list[Schema]:
    """The filters on the fields ``names`` (all like ``spec``): one shape per kind of
    operator, each with and without an exposed query parameter."""
    kind, _, fulltext, search = _signature(spec)
    ops = {"fulltext"} if search else set(OPERATORS[kind]) - (set() if fulltext
                                                              else {"fulltext"})
    one = _value_schema(spec)
    groups: list[tuple[set[str], Schema | None, bool]] = [
        (ops & NO_VALUE, None, False),
        (ops & LIST_OPS, {"type": "array", "items": one, "minItems": 1,
                          "maxItems": MAX_LIST_VALUES}, False),
        (ops & {"between"}, {"type": "array", "items": one, "minItems": 2, "maxItems": 2},
         False),
        (ops & TEXT_OPS, {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
         kind == "text"),
        (ops - NO_VALUE - LIST_OPS - TEXT_OPS - {"between"}, one, kind == "text"),
    ]
    parameter: Schema = {"type": "string", "pattern": PARAMETER_PATTERN, "maxLength": 64,
                         "not": {"enum": sorted(RESERVED_PARAMETERS)}}
    common: Schema = {"field": {"type": "string", "enum": names},
                      "label": {"anyOf": [{"type": "string", "maxLength": 255},
                                          {"type": "null"}]}}
    unset: Schema = {"argument": {"type": "null"}, "default": {"type": "null"}}
    defaults = ["ignore", "not_found", *(["current_user"] if kind == "uuid" else [])]
    variants: list[Schema] = []
    for chosen, value, with_options in groups:
        if not chosen:
            continue
        op: Schema = {"op": {"type": "string", "enum": sorted(chosen)}}
        base = {**common, **op, **unset}
        if with_options and value is not None:
            base["options"] = {"anyOf": [{"type": "array", "items": value,
                                          "maxItems": MAX_LIST_VALUES}, {"type": "null"}]}
        if value is None:
            variants.append(_object(["field", "op"], {**base, "value": {"type": "null"},
                                                      "exposed": {"type": "null"}}))
            continue
        variants.append(_object(["field", "op", "value"], {
            **base, "value": value, "exposed": {"type": "null"}}))
        variants.append(_object(["field", "op", "exposed"], {
            **base, "value": {"anyOf": [value, {"type": "null"}]}, "exposed": parameter}))
        if chosen & (LIST_OPS | {"between"}):
            continue
        # A contextual argument: its value from the path, else its default's.
        argument = {**common, **op, "argument": parameter, "exposed": {"type": "null"}}
        variants.append(_object(["field", "op", "argument"], {
            **argument, "value": {"type": "null"},
            "default": {"anyOf": [{"type": "string", "enum": defaults}, {"type": "null"}]}}))
        variants.append(_object(["field", "op", "argument", "value", "default"], {
            **argument, "value": value, "default": {"type": "string", "const": "fixed"}}))
    return variants


def _object(required: list[str], properties: Schema) -> Schema:
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": properties}


def gather_schemas(types: list[ItemType]) -> dict[str, Schema]:
    """The components an item listing's names and filters follow (the item types' fields)."""
    specs = field_specs({t.type: t for t in types})
    specs[SEARCH_FIELD] = FieldSpec(SEARCH_FIELD, "text", column="*")
    alike: dict[tuple[Any, ...], list[str]] = {}
    for name, spec in specs.items():
        alike.setdefault(_signature(spec), []).append(name)
    variants = [variant for names in alike.values()
                for variant in _variants(names, specs[names[0]])]
    # Documented: what an item listing can name on its own. The user and tag bases' columns
    # (valid only with that base), fields read through its
    # relationships (``<relationship>.<field>``) and plugins' filters and sorts (``{"use":
    # "<plugin>.<name>"}``) are valid only with that relationship or an enabled plugin
    # declaring the name, which a schema cannot say; the service checks them (422 naming the
    # part) and docs/architecture.md ("Gather") describes them.
    return {
        "GatherFieldName": {"type": "string", "enum": sorted(specs)},
        "GatherRelationshipField": {"type": "string", "enum": sorted(
            name for name, spec in specs.items() if spec.target and not spec.multiple)},
        "GatherSortField": {"type": "string", "enum": sorted(
            name for name, spec in specs.items()
            if not spec.multiple and name != SEARCH_FIELD)},
        "GatherSort": {"type": "object", "additionalProperties": False, "required": ["field"],
                       "description": "A sort key: a field and its direction.",
                       "properties": {
                           "field": {"$ref": _REF.format("GatherSortField")},
                           "direction": {"type": "string", "enum": ["asc", "desc"],
                                         "default": "asc"}}},
        "GatherFilter": {"anyOf": variants, "description": (
            "One condition: a field, an operator that fits the field's type, and a value of "
            "that type (none for is_null, is_not_null, current_user); with `exposed`, the "
            "query parameter a visitor sets the value with; with `argument`, the path "
            "placeholder (or JSON display query parameter) that gives it, and its `default` "
            "without one (each parameter names one filter of a definition).")},
        "GatherFilterGroup": {"type": "object", "additionalProperties": False,
                              "required": ["group", "filters"], "properties": {
                                  "group": {"type": "string", "enum": ["and", "or"]},
                                  "filters": {"type": "array", "minItems": 1,
                                              "maxItems": MAX_FILTERS,
                                              "items": {"$ref": _REF.format("GatherCondition")}}}},
        "GatherCondition": {"anyOf": [{"$ref": _REF.format("GatherFilter")},
                                      {"$ref": _REF.format("GatherFilterGroup")}]},
    }


routes = api_routes(list_definitions, create_definition, get_definition, put_definition,
                    delete_definition, run_listing)
