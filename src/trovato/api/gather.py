"""``/api/v1/gather-definitions`` (managing listings, ``administer gather``) and
``/api/v1/gather/{name}`` (a listing's JSON display).

The JSON display answers ``{"items": [items as /api/v1/items shows them], "page", "per_page",
"total"}``; ``page`` counts from 0; ``total`` is the exact number of matches for a ``full``
pager and null for ``mini`` and ``none`` (which never count). Exposed filters are query
parameters named by the definition; a bad value is a 400 naming the parameter, a page past the
last a 404 (page 0 of an empty listing is an empty list). A listing without a ``json``
display is a 404 here.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel
from trovato.api.items import Item
from trovato.api.routing import Param, api_routes, operation, read_body
from trovato.errors import ServiceError
from trovato.gather import Gather
from trovato.gather.definition import MAX_PER_PAGE, NAME_PATTERN, Definition
from trovato.gather.service import MAX_PAGE
from trovato.kernel.context import request_context

DEFINITION_PATH = "/api/v1/gather-definitions/{name}"
NAME = Param("name", "path", {"type": "string", "pattern": NAME_PATTERN, "maxLength": 64},
             "A listing's machine name")
PAGE = Param("page", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE,
                               "default": 0}, "Page number, from 0")


class StoredDefinition(Definition):
    """A stored definition with its version (raised by every change)."""

    version: int
    plugin: str | None = None
    changed: datetime


class DefinitionList(ResponseModel):
    definitions: list[StoredDefinition]


class GatherPage(ResponseModel):
    """One page of a listing; ``total`` is null for the mini and none pagers."""

    items: list[Item]
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
           body=Definition, problems=(409,))
async def create_definition(request: Request) -> Response:
    body = await read_body(request, Definition)
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
           responses={200: StoredDefinition}, body=Definition, problems=(409,),
           params=(NAME,), description="The body's `name` must be the path's.")
async def put_definition(request: Request) -> Response:
    body = await read_body(request, Definition)
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
           description="Exposed filters are further query parameters named by the definition.")
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
                              exposed=request.query_params, stage=ctx.stage)
    return JSON({"items": [item.public() for item in result.items], "page": result.page,
                 "per_page": result.per_page, "total": result.total})


routes = api_routes(list_definitions, create_definition, get_definition, put_definition,
                    delete_definition, run_listing)
