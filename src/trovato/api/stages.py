"""``/api/v1/stages``: stage records, a stage's changes and conflicts, discarding and publishing.

Thin on purpose: the records and who may use them are the stages service's
(:class:`~trovato.stages.Stages`), a stage's content is the content service's
(:class:`~trovato.content.staging.Staging`). A stage the caller may not reach answers 404, as
one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, PatchModel, ResponseModel, StrictModel
from trovato.api.item_types import content_services
from trovato.api.routing import DOCUMENTED_BY, Param, api_routes, operation, read_body
from trovato.content.staging import Staging
from trovato.kernel.context import request_context
from trovato.stages import LIVE, Stages

STAGE_PATH = "/api/v1/stages/{id}"
STAGE_ID_PATTERN = "^[a-z][a-z0-9_]*$"
# One line, not blank (what the stages service accepts).
LABEL_PATTERN = r"^[^\r\n]*\S[^\r\n]*$"
STAGE_ID = Param("id", "path", {"type": "string", "pattern": STAGE_ID_PATTERN, "maxLength": 64},
                 "A stage id")
ITEM_ID = Param("item", "path", {"type": "string", "format": "uuid"}, "An item id")


class StageCreateBody(StrictModel):
    id: str = Field(min_length=1, max_length=64, pattern=STAGE_ID_PATTERN)
    label: str = Field(min_length=1, max_length=255, pattern=LABEL_PATTERN)
    upstream: str = Field(default=LIVE, max_length=64,
                          json_schema_extra={DOCUMENTED_BY: "StageName"})
    visibility: Literal["private", "public"] = "private"
    roles: list[str] = Field(default_factory=list, max_length=100, json_schema_extra={
        "items": {DOCUMENTED_BY: "RoleId"}})


class StagePatchBody(PatchModel):
    label: str | None = Field(default=None, min_length=1, max_length=255, pattern=LABEL_PATTERN)
    upstream: str | None = Field(default=None, max_length=64,
                                 json_schema_extra={DOCUMENTED_BY: "StageName"})
    visibility: Literal["private", "public"] | None = None
    roles: list[str] | None = Field(default=None, max_length=100, json_schema_extra={
        "items": {DOCUMENTED_BY: "RoleId"}})


class Resolution(StrictModel):
    item: str = Field(max_length=64)
    field: str = Field(max_length=255)
    take: Literal["stage", "upstream"]


class PublishBody(StrictModel):
    dry_run: bool = False
    resolutions: list[Resolution] = Field(default_factory=list, max_length=10_000)


class Stage(ResponseModel):
    id: str = Field(pattern=STAGE_ID_PATTERN)
    label: str
    upstream: str
    owner_id: uuid.UUID | None
    visibility: Literal["private", "public"]
    status: Literal["open", "published", "archived"]
    created: datetime
    changed: datetime
    published: datetime | None
    roles: list[uuid.UUID]


class StageList(ResponseModel):
    stages: list[Stage]


class FieldChange(ResponseModel):
    field: str
    stage: Any
    upstream: Any


class StageChange(ResponseModel):
    item: uuid.UUID
    change: Literal["created", "edited", "deleted"]
    title: str
    when: datetime
    fields: list[FieldChange]


class StageChanges(ResponseModel):
    changes: list[StageChange]


class StageConflict(ResponseModel):
    """A field changed in the stage and upstream to different values since the stage's edit
    began."""

    item: uuid.UUID
    field: str
    stage: Any
    upstream: Any
    base: Any


class StageConflicts(ResponseModel):
    conflicts: list[StageConflict]


class PublishResult(ResponseModel):
    stage: str
    upstream: str
    dry_run: bool
    created: list[uuid.UUID]
    edited: list[uuid.UUID]
    deleted: list[uuid.UUID]
    skipped: list[uuid.UUID]
    resolved: list[StageConflict]


def _stages(request: Request) -> Stages:
    return request_context(request).kernel.stages


def _staging(request: Request) -> Staging:
    return content_services(request).staging


@operation("GET", "/api/v1/stages", operation_id="listStages", summary="List stages",
           tag="Stages", responses={200: StageList})
async def list_stages(request: Request) -> Response:
    user = request_context(request).current_user
    return JSON({"stages": [s.public() for s in await _stages(request).list(user)]})


@operation("POST", "/api/v1/stages", operation_id="createStage", summary="Create a stage",
           tag="Stages", responses={201: Stage}, body=StageCreateBody, problems=(409,))
async def create_stage(request: Request) -> Response:
    body = await read_body(request, StageCreateBody)
    record = await _stages(request).create(
        request_context(request).current_user, body.id, body.label,
        upstream=body.upstream, visibility=body.visibility, roles=body.roles)
    return JSON(record.public(), status_code=201,
                headers={"location": f"/api/v1/stages/{record.id}"})


@operation("GET", STAGE_PATH, operation_id="getStage", summary="Get a stage", tag="Stages",
           responses={200: Stage}, problems=(404,), params=(STAGE_ID,))
async def get_stage(request: Request) -> Response:
    record = await _stages(request).get(request_context(request).current_user,
                                        request.path_params["id"])
    return JSON(record.public())


@operation("PATCH", STAGE_PATH, operation_id="patchStage", summary="Change a stage",
           tag="Stages", responses={200: Stage}, body=StagePatchBody, problems=(404,),
           params=(STAGE_ID,))
async def patch_stage(request: Request) -> Response:
    body = await read_body(request, StagePatchBody)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    record = await _stages(request).edit(request_context(request).current_user,
                                         request.path_params["id"], **changes)
    return JSON(record.public())


@operation("DELETE", STAGE_PATH, operation_id="deleteStage",
           summary="Delete a stage and discard its changes", tag="Stages",
           responses={204: None}, problems=(404, 409), params=(STAGE_ID,))
async def delete_stage(request: Request) -> Response:
    await _stages(request).delete(request_context(request).current_user,
                                  request.path_params["id"])
    return Response(status_code=204)


@operation("POST", f"{STAGE_PATH}/archive", operation_id="archiveStage",
           summary="Archive a stage (it keeps its changes and takes no more)", tag="Stages",
           responses={200: Stage}, problems=(404, 409), params=(STAGE_ID,))
async def archive_stage(request: Request) -> Response:
    record = await _stages(request).archive(request_context(request).current_user,
                                            request.path_params["id"])
    return JSON(record.public())


@operation("GET", f"{STAGE_PATH}/changes", operation_id="listStageChanges",
           summary="A stage's changes, each with the fields that differ from upstream",
           tag="Stages", responses={200: StageChanges}, problems=(404,), params=(STAGE_ID,))
async def list_changes(request: Request) -> Response:
    diff = await _staging(request).diff(request_context(request).current_user,
                                        request.path_params["id"])
    return JSON({"changes": diff})


@operation("DELETE", f"{STAGE_PATH}/changes/{{item}}", operation_id="discardStageChange",
           summary="Discard a stage's change to one item", tag="Stages",
           responses={204: None}, problems=(404, 409), params=(STAGE_ID, ITEM_ID))
async def discard_change(request: Request) -> Response:
    await _staging(request).discard(request_context(request).current_user,
                                    request.path_params["id"], request.path_params["item"])
    return Response(status_code=204)


@operation("GET", f"{STAGE_PATH}/conflicts", operation_id="listStageConflicts",
           summary="What publishing the stage now would need resolved", tag="Stages",
           responses={200: StageConflicts}, problems=(404,), params=(STAGE_ID,))
async def list_conflicts(request: Request) -> Response:
    conflicts = await _staging(request).conflicts(request_context(request).current_user,
                                                  request.path_params["id"])
    return JSON({"conflicts": conflicts})


@operation("POST", f"{STAGE_PATH}/publish", operation_id="publishStage",
           summary="Publish a stage to its upstream", tag="Stages",
           responses={200: PublishResult}, body=PublishBody, body_required=False,
           problems=(404, 409), params=(STAGE_ID,),
           description="Refused with 409 and `conflicts` while a field changed on both sides"
                       " has no resolution; `dry_run` reports and writes nothing.")
async def publish_stage(request: Request) -> Response:
    body = PublishBody()
    if await request.body():
        body = await read_body(request, PublishBody)
    result = await _staging(request).publish(
        request_context(request).current_user, request.path_params["id"],
        [r.model_dump() for r in body.resolutions], dry_run=body.dry_run)
    return JSON(result)


routes = api_routes(list_stages, create_stage, get_stage, patch_stage, delete_stage,
                    archive_stage, list_changes, discard_change, list_conflicts, publish_stage)
