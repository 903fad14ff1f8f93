"""``/api/v1/search``: a page of the items the caller may see that match ``q``, most relevant
first, each with an HTML snippet (escaped text, matches in ``<mark>``). Thin: the search
service decides everything, through the one item read path, in the request's stage.

``/api/v1/item-types/{type}/search-weights``: the type's search field weights (A to D; a field
without one weighs D), read and replaced (which reindexes the type's items) by holders of
``administer content types``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.item_types import TYPE_PARAM
from trovato.api.routing import Param, api_routes, operation, read_body
from trovato.content.access import ADMINISTER_TYPES
from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.search import MAX_QUERY, PER_PAGE
from trovato.search.service import MAX_PER_PAGE

MAX_PAGE = 1_000_000


class SearchResult(ResponseModel):
    id: uuid.UUID
    type: str
    title: str
    created: datetime
    changed: datetime
    url: str
    snippet: str = Field(description="HTML: the item's text around the matches, escaped, the"
                                     " matched words in <mark>")


class SearchResults(ResponseModel):
    q: str
    results: list[SearchResult]
    page: int
    limit: int
    total: int


PARAMS = (
    Param("q", "query", {"type": "string", "maxLength": MAX_QUERY},
          'The words, in web search syntax: `"a phrase"`, `or`, `-excluded`'),
    Param("page", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0},
          "Page number, from 0"),
    Param("limit", "query",
          {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
          f"Results per page (at most {MAX_PER_PAGE})"),
)


def _number(request: Request, name: str, default: int, high: int,
            errors: dict[str, str]) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if len(raw) <= 20 and raw.isascii() and raw.isdigit() and int(raw) <= high:
        return int(raw)
    errors[name] = f"must be an integer from 0 to {high}"
    return default


@operation("GET", "/api/v1/search", operation_id="search", summary="Search items",
           tag="Search", responses={200: SearchResults}, stage=True, params=PARAMS)
async def search(request: Request) -> Response:
    ctx = request_context(request)
    errors: dict[str, str] = {}
    page = _number(request, "page", 0, MAX_PAGE, errors)
    limit = _number(request, "limit", PER_PAGE, MAX_PER_PAGE, errors)
    if limit < 1:
        errors["limit"] = f"must be an integer from 1 to {MAX_PER_PAGE}"
    if errors:
        raise ServiceError(422, "Invalid search parameters.", errors=errors)
    found = await ctx.kernel.search.search(ctx.current_user, request.query_params.get("q", ""),
                                           page=page, limit=limit, stage=ctx.stage)
    return JSON({
        "q": found.words,
        "results": [{
            "id": r.item.id, "type": r.item.type, "title": r.item.title,
            "created": r.item.created, "changed": r.item.changed,
            "url": f"/item/{r.item.id}", "snippet": str(r.snippet),
        } for r in found.results],
        "page": found.page,
        "limit": found.limit,
        "total": found.total,
    })


class SearchWeights(ResponseModel):
    weights: dict[str, Literal["A", "B", "C", "D"]] = Field(
        description="Field name → weight, A the most; a field not named weighs D")


class SearchWeightsBody(StrictModel):
    weights: dict[str, Literal["A", "B", "C", "D"]] = Field(
        description="Field name → weight (A to D): replaces all of the type's weights")


WEIGHTS_PATH = "/api/v1/item-types/{type}/search-weights"


@operation("GET", WEIGHTS_PATH, operation_id="getSearchWeights",
           summary="An item type's search field weights", tag="Search",
           responses={200: SearchWeights}, problems=(404,), params=(TYPE_PARAM,))
async def get_weights(request: Request) -> Response:
    require_permission(request, ADMINISTER_TYPES)
    weights = await request_context(request).kernel.search.weights(request.path_params["type"])
    return JSON({"weights": weights})


@operation("PUT", WEIGHTS_PATH, operation_id="setSearchWeights",
           summary="Replace an item type's search field weights (and reindex its items)",
           tag="Search", responses={200: SearchWeights}, body=SearchWeightsBody,
           problems=(404,), params=(TYPE_PARAM,))
async def set_weights(request: Request) -> Response:
    user = require_permission(request, ADMINISTER_TYPES)
    body = await read_body(request, SearchWeightsBody)
    weights = await request_context(request).kernel.search.set_weights(
        request.path_params["type"], body.weights, actor=user.id)
    return JSON({"weights": weights})


routes = api_routes(search, get_weights, set_weights)
