"""``/api/v1/items``: list, read, create, patch and delete items; revisions and revert.

Thin on purpose: every decision (access, validation, stage, revisions, plugin taps) is made by
the content services (reads by :class:`~trovato.content.query.ItemQuery`, writes by
:class:`~trovato.content.items.Items`), which the HTML pages and plugins use too; their refusals
(:class:`~trovato.content.items.ItemError`) reach the kernel's error handler as they are. The
active stage comes from the request (``X-Trovato-Stage``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, PatchModel, ResponseModel, StrictModel
from trovato.api.item_types import MACHINE_NAME, content_services, service_checked
from trovato.api.routing import Param, api_routes, documented_by, operation, read_body
from trovato.content.items import Items
from trovato.content.query import ItemQuery
from trovato.content.statements import DEFAULT_LIMIT, MAX_LIMIT, SORTS
from trovato.content.types import TYPE_NAME, TYPE_NAME_MAX
from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.context import request_context

# Deeper than any listing goes; bounded so page * limit stays far inside a bigint.
MAX_PAGE = 1_000_000


STATUS_DESCRIPTION = "1 published, 0 unpublished"
# An integer, not a literal: pydantic would take JSON false for the literal 0.
Status = Annotated[int, Field(ge=0, le=1, description=STATUS_DESCRIPTION)]
# A title is one line (the service refuses line breaks), and not blank when the item's type
# has a title: per item type the create schema says which (``ItemCreate_<type>``).
ONE_LINE = r"^[^\n\r]*$"
FILLED_LINE = r"^[^\n\r]*\S[^\n\r]*$"


class ItemCreateBody(StrictModel):
    """A new item: documented per item type (``ItemCreate_<type>``, its fields exactly)."""

    model_config = ConfigDict(json_schema_extra=documented_by("ItemCreate"))

    type: str = Field(max_length=TYPE_NAME_MAX,
                      json_schema_extra=service_checked(pattern=f"^{MACHINE_NAME}$"))
    title: str = Field(default="", max_length=255,
                       json_schema_extra=service_checked(pattern=ONE_LINE))
    status: Status = 1
    promote: bool = False
    sticky: bool = False
    fields: dict[str, Any] = Field(default_factory=dict)
    log: str = Field(default="", max_length=10_000)


class ItemPatchBody(PatchModel):
    # The body does not name the type, so it shows the rule of the types that have a title.
    title: str | None = Field(default=None, max_length=255,
                              json_schema_extra=service_checked(pattern=FILLED_LINE))
    status: Status | None = None
    promote: bool | None = None
    sticky: bool | None = None
    # A field set to null is cleared; fields left out keep their values.
    fields: dict[str, Any] | None = None
    log: str = Field(default="", max_length=10_000)
    revision_id: str | None = Field(
        default=None, json_schema_extra={"format": "uuid"},
        description="The item's `revision_id` the change was made from: if the item has a"
                    " newer revision now, the change is refused (409, its `errors` name the"
                    " `current_revision`) instead of writing over it. Left out: no check.")


class RevertBody(StrictModel):
    log: str | None = Field(default=None, max_length=10_000)


class Item(ResponseModel):
    """An item of any type."""

    id: uuid.UUID
    type: str
    title: str
    status: Status
    promote: bool
    sticky: bool
    author_id: uuid.UUID
    created: datetime
    changed: datetime
    revision_id: uuid.UUID
    stage: str
    fields: dict[str, Any] = Field(
        description="Field name → a value object (single-valued) or a list of value objects"
                    " (multi-valued).")


class ItemResponse(Item):
    """An item, documented per item type (``Item_<type>``: its fields exactly)."""

    model_config = ConfigDict(json_schema_extra=documented_by("ItemResponse"))


class ItemList(ResponseModel):
    """One page of a listing."""

    items: list[Item]
    page: int
    limit: int
    total: int


class Revision(ResponseModel):
    id: uuid.UUID
    created: datetime
    author_id: uuid.UUID
    title: str
    log: str


class RevisionList(ResponseModel):
    revisions: list[Revision]


ITEM_PATH = "/api/v1/items/{id}"
ITEM_ID = Param("id", "path", {"type": "string", "format": "uuid"}, "An item id")
LIST_PARAMS = (
    Param("type", "query", {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
          "Only items of this type"),
    Param("status", "query", {"type": "integer", "enum": [0, 1]},
          "Only published (1) or unpublished (0) items"),
    Param("author", "query", {"type": "string", "format": "uuid"}, "Only items by this author"),
    Param("promote", "query", {"type": "boolean"},
          "Only items promoted (true) or not promoted (false) to the front page"),
    Param("sticky", "query", {"type": "boolean"}, "Only sticky (true) or non-sticky (false) items"),
    Param("sort", "query", {"type": "string", "enum": list(SORTS), "default": "-created"},
          "Order; `-` for descending; `-sticky` is sticky first, then newest"),
    Param("page", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0},
          "Page number, from 0"),
    Param("limit", "query",
          {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
          f"Items per page (at most {MAX_LIMIT})"),
)


def _items(request: Request) -> Items:
    return content_services(request).items


def _query(request: Request) -> ItemQuery:
    return content_services(request).query


def _int_param(request: Request, name: str, default: int | None, errors: dict[str, str],
               *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = f"must be an integer from {low} to {high}"
        return default
    return value


def _bool_param(request: Request, name: str, errors: dict[str, str]) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("1", "true"):
        return True
    if raw.lower() in ("0", "false"):
        return False
    errors[name] = "must be true or false (1 or 0)"
    return None


@operation("GET", "/api/v1/items", operation_id="listItems", summary="List items",
           tag="Items", responses={200: ItemList}, stage=True,
           params=LIST_PARAMS)
async def list_items(request: Request) -> Response:
    ctx = request_context(request)
    errors: dict[str, str] = {}
    page = _int_param(request, "page", 0, errors, low=0, high=MAX_PAGE)
    limit = _int_param(request, "limit", DEFAULT_LIMIT, errors, low=1, high=MAX_LIMIT)
    status = _int_param(request, "status", None, errors, low=0, high=1)
    promote = _bool_param(request, "promote", errors)
    sticky = _bool_param(request, "sticky", errors)
    item_type = request.query_params.get("type")
    if item_type is not None and not TYPE_NAME.match(item_type):
        errors["type"] = "must be an item type's machine name"
    author = request.query_params.get("author")
    if author is not None and parse_uuid(author) is None:
        errors["author"] = "must be a user id (a UUID)"
    if errors:
        raise ServiceError(422, "Invalid listing parameters.", errors=errors)
    result = await _query(request).list(
        ctx.current_user,
        type=item_type,
        status=status,
        author=author,
        promote=promote,
        sticky=sticky,
        sort=request.query_params.get("sort") or "-created",
        page=page or 0,
        limit=DEFAULT_LIMIT if limit is None else limit,
        stage=ctx.stage,
    )
    return JSON({
        "items": [i.public() for i in result.items],
        "page": result.page,
        "limit": result.limit,
        "total": result.total,
    })


@operation("POST", "/api/v1/items", operation_id="createItem", summary="Create an item",
           tag="Items", responses={201: ItemResponse}, body=ItemCreateBody,
           stage=True)
async def create_item(request: Request) -> Response:
    ctx = request_context(request)
    body = await read_body(request, ItemCreateBody)
    item = await _items(request).create(
        ctx.current_user, body.type, title=body.title, status=body.status,
        promote=body.promote, sticky=body.sticky, fields=body.fields, log=body.log,
        stage=ctx.stage,
    )
    return JSON(item.public(), status_code=201, headers={"location": f"/api/v1/items/{item.id}"})


@operation("GET", ITEM_PATH, operation_id="getItem", summary="Get an item", tag="Items",
           responses={200: ItemResponse}, problems=(404,), stage=True,
           params=(ITEM_ID,))
async def get_item(request: Request) -> Response:
    ctx = request_context(request)
    item = await _query(request).load(ctx.current_user, request.path_params["id"],
                                      stage=ctx.stage)
    return JSON(item.public())


@operation("PATCH", ITEM_PATH, operation_id="patchItem", summary="Change an item",
           tag="Items", responses={200: ItemResponse}, body=ItemPatchBody,
           problems=(404, 409), stage=True, params=(ITEM_ID,))
async def patch_item(request: Request) -> Response:
    ctx = request_context(request)
    body = await read_body(request, ItemPatchBody)
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("title", "status", "promote", "sticky"):
        if name in given:
            changes[name] = getattr(body, name)
    expected = None
    if body.revision_id is not None:
        expected = parse_uuid(body.revision_id)
        if expected is None:
            raise ServiceError(422, "The change is invalid.", errors={
                "revision_id": "must be the id of the revision the change was made from"})
    item = await _items(request).update(
        ctx.current_user, request.path_params["id"], fields=body.fields, log=body.log,
        stage=ctx.stage, expected_revision=expected, **changes,
    )
    return JSON(item.public())


@operation("DELETE", ITEM_PATH, operation_id="deleteItem", summary="Delete an item",
           tag="Items", responses={204: None}, problems=(404,), stage=True, params=(ITEM_ID,))
async def delete_item(request: Request) -> Response:
    ctx = request_context(request)
    await _items(request).delete(ctx.current_user, request.path_params["id"],
                                 stage=ctx.stage)
    return Response(status_code=204)


@operation("GET", f"{ITEM_PATH}/revisions", operation_id="listRevisions",
           summary="List an item's revisions", tag="Items", responses={200: RevisionList},
           problems=(404,), stage=True, params=(ITEM_ID,))
async def list_revisions(request: Request) -> Response:
    ctx = request_context(request)
    revisions = await _items(request).revisions.history(
        ctx.current_user, request.path_params["id"], stage=ctx.stage)
    return JSON({"revisions": [r.public() for r in revisions]})


@operation("POST", f"{ITEM_PATH}/revisions/{{rev}}/revert", operation_id="revertRevision",
           summary="Revert to a revision (as a new revision)", tag="Items",
           responses={200: ItemResponse}, body=RevertBody, body_required=False,
           problems=(404,), stage=True,
           params=(ITEM_ID, Param("rev", "path", {"type": "string", "format": "uuid"},
                                  "A revision id")))
async def revert_revision(request: Request) -> Response:
    ctx = request_context(request)
    log: str | None = None
    if await request.body():
        log = (await read_body(request, RevertBody)).log
    item = await _items(request).revisions.revert(
        ctx.current_user, request.path_params["id"], request.path_params["rev"],
        stage=ctx.stage, log=log,
    )
    return JSON(item.public())


routes = api_routes(list_items, create_item, get_item, patch_item, delete_item, list_revisions,
                    revert_revision)
