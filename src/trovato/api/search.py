"""``/api/v1/search``: a page of the items the caller may see that match ``q``, most relevant
first, each with an HTML snippet (escaped text, matches in ``<mark>``). Thin: the search
service decides everything, through the one item read path, in the request's stage.

``/api/v1/item-types/{type}/search-weights``: the type's search field weights (A to D; a field
without one weighs D), read and replaced (which reindexes the type's items) by holders of
``administer content types``.

``/api/v1/search/language``: the search language (a PostgreSQL text search configuration) and
the ones to choose from, read and changed by holders of ``administer site configuration``, as
on the admin page. A change starts the same batch that page starts to rebuild the index
(``search.reindex``): the answer is 202 with the batch's progress, which the caller drives
through ``/api/v1/batches/{id}`` (:mod:`trovato.api.batches`); until it ends, searches may
miss items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.batches import BATCH_PATH, BatchProgress, progress
from trovato.api.item_types import TYPE_PARAM
from trovato.api.routing import DOCUMENTED_BY, Param, api_routes, operation, read_body
from trovato.content.access import ADMINISTER_TYPES
from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.batches import batches
from trovato.kernel.context import request_context
from trovato.search import MAX_QUERY, PER_PAGE
from trovato.search.reindexing import ADMINISTER_LANGUAGE, change_language
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


class SearchLanguage(ResponseModel):
    language: str = Field(description="The text search configuration every search uses")
    languages: list[str] = Field(description="The configurations of the database: the"
                                             " languages to choose from")


class SearchLanguageBody(StrictModel):
    # A configuration's name: schema-qualified when not on the search path, each part a
    # quoted identifier of at most 63 bytes at worst.
    language: str = Field(max_length=300, description="One of the configurations `GET` lists"
                                                      " (e.g. `english`, `simple`)",
                          json_schema_extra={DOCUMENTED_BY: "SearchLanguageName"})


class SearchLanguageChange(ResponseModel):
    language: str
    changed: bool = Field(description="False when the language already was this one")
    reindex: BatchProgress | None = Field(
        description="The batch rebuilding the index (202), which the caller drives with"
                    " `POST /api/v1/batches/{id}/step`; null when nothing is to reindex")


LANGUAGE_PATH = "/api/v1/search/language"


@operation("GET", LANGUAGE_PATH, operation_id="getSearchLanguage",
           summary="The search language", tag="Search", responses={200: SearchLanguage})
async def get_language(request: Request) -> Response:
    require_permission(request, ADMINISTER_LANGUAGE)
    service = request_context(request).kernel.search
    return JSON({"language": await service.language(), "languages": await service.languages()})


@operation("PUT", LANGUAGE_PATH, operation_id="setSearchLanguage",
           summary="Change the search language (and start rebuilding the index)", tag="Search",
           responses={200: SearchLanguageChange, 202: SearchLanguageChange},
           body=SearchLanguageBody,
           description="A change starts the batch that rebuilds every item's search words and"
                       " answers 202 with its progress: drive it with `POST"
                       " /api/v1/batches/{id}/step` until `finished`. Unchanged, or on a site"
                       " without items, the answer is 200 and `reindex` null.")
async def set_language(request: Request) -> Response:
    user = require_permission(request, ADMINISTER_LANGUAGE)
    body = await read_body(request, SearchLanguageBody)
    kernel = request_context(request).kernel
    changed, batch = await change_language(batches(kernel), kernel.search, body.language,
                                           actor=user.id, return_to=LANGUAGE_PATH)
    language = await kernel.search.language()
    answer = {"language": language, "changed": changed, "reindex": None}
    if batch is None:
        return JSON(answer)
    answer["reindex"] = progress(batch)
    return JSON(answer, status_code=202, headers={"location": BATCH_PATH.format(batch_id=batch.id)})


routes = api_routes(search, get_weights, set_weights, get_language, set_language)
