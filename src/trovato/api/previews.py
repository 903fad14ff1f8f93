"""``/api/v1/stages/{id}/preview-links``: create, list and revoke a stage's preview links.

Whoever may use a stage may share it read-only: a new link's ``url`` (``/?preview=<token>``)
opens the site in the stage for anyone holding it, without an account, until it expires or is
revoked (:mod:`trovato.stages.preview`). The token is shown only when the link is created.
A stage the caller may not use is a 404, as everywhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.routing import Param, api_routes, operation, read_body
from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.access import require_login
from trovato.kernel.context import request_context
from trovato.stages import StageError
from trovato.stages.desk import StageInfo
from trovato.stages.preview import MAX_SECONDS, MIN_SECONDS, preview_url

PATH = "/api/v1/stages/{id}/preview-links"
STAGE_ID = Param(
    "id", "path", {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}, "A stage id"
)
LINK_ID = Param("link", "path", {"type": "string", "format": "uuid"}, "A preview link id")


class PreviewLinkBody(StrictModel):
    expires_in: int | None = Field(
        default=None,
        ge=MIN_SECONDS,
        le=MAX_SECONDS,
        description="Seconds the link is valid for (default seven days, at most thirty).",
    )


class PreviewLink(ResponseModel):
    id: uuid.UUID
    stage: str
    created_by: uuid.UUID | None
    created: datetime
    expires: datetime
    revoked: datetime | None
    active: bool


class PreviewLinkCreated(PreviewLink):
    url: str = Field(description="`/?preview=<token>`; shown only once.")


class PreviewLinkList(ResponseModel):
    links: list[PreviewLink]


async def _stage(request: Request) -> StageInfo:
    ctx = request_context(request)
    return await ctx.kernel.stage_desk.get(require_login(request), request.path_params["id"])


@operation(
    "POST",
    PATH,
    operation_id="createPreviewLink",
    summary="Create a preview link",
    tag="Stages",
    responses={201: PreviewLinkCreated},
    body=PreviewLinkBody,
    body_required=False,
    problems=(404, 409),
    params=(STAGE_ID,),
)
async def create_link(request: Request) -> Response:
    stage = await _stage(request)
    expires_in = None
    if await request.body():
        expires_in = (await read_body(request, PreviewLinkBody)).expires_in
    ctx = request_context(request)
    try:
        link, token = await ctx.kernel.previews.create(stage.id, ctx.current_user.id, expires_in)
    except StageError as exc:
        raise ServiceError(
            exc.status,
            exc.message,
            errors={"expires_in": exc.message} if exc.status == 422 else None,
        ) from None
    return JSON({**link.public(), "url": preview_url(token)}, status_code=201)


@operation(
    "GET",
    PATH,
    operation_id="listPreviewLinks",
    summary="List a stage's preview links",
    tag="Stages",
    responses={200: PreviewLinkList},
    problems=(404,),
    params=(STAGE_ID,),
)
async def list_links(request: Request) -> Response:
    stage = await _stage(request)
    links = await request_context(request).kernel.previews.list(stage.id)
    return JSON({"links": [link.public() for link in links]})


@operation(
    "DELETE",
    f"{PATH}/{{link}}",
    operation_id="revokePreviewLink",
    summary="Revoke a preview link",
    tag="Stages",
    responses={204: None},
    problems=(404,),
    params=(STAGE_ID, LINK_ID),
)
async def revoke_link(request: Request) -> Response:
    stage = await _stage(request)
    link_id = parse_uuid(request.path_params["link"])
    if link_id is None:
        raise ServiceError(404, "No such preview link for this stage.")
    await request_context(request).kernel.previews.revoke(stage.id, link_id)
    return Response(status_code=204)


routes = api_routes(create_link, list_links, revoke_link)
