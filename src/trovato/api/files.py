"""``/api/v1/files``: upload a file (multipart), read its record, delete one's own temporary
upload.

An upload names the item type and field it is for (``type``, ``field``): the field's settings
decide the extensions allowed, whether it must be an image and whether it is kept public or
private. The file starts temporary and becomes permanent when an item that refers to it is
saved (``{"target_id": <id>}`` in that field); unused uploads are deleted by cron. Uploading
needs ``upload files``; reading follows the file's access rule (:mod:`trovato.web.files`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.routing import Param, api_routes, operation
from trovato.content.types import TYPE_NAME_MAX
from trovato.errors import ServiceError
from trovato.files.service import UPLOAD_FILES, FileError, UploadRules
from trovato.kernel.access import readable_file, require_login, require_permission
from trovato.kernel.context import request_context

MULTIPART = "multipart/form-data"
_NAME = "^[a-z][a-z0-9_]*$"
FILE_ID = Param("id", "path", {"type": "string", "format": "uuid"}, "A file id")


class FileUpload(StrictModel):
    """A multipart form: the file and the item type and field it is for."""

    file: bytes = Field(description="The file's content (its name is the part's filename).",
                        json_schema_extra={"format": "binary", "contentMediaType":
                                           "application/octet-stream"})
    type: str = Field(max_length=TYPE_NAME_MAX, pattern=_NAME,
                      description="The item type whose field the file is for.")
    field: str = Field(max_length=64, pattern=_NAME,
                       description="The file or image field the file is for.")


class FileInfo(ResponseModel):
    """A managed file."""

    id: uuid.UUID
    filename: str
    url: str = Field(description="Where it is served (access-checked).")
    mime: str = Field(description="Its type, from its bytes (not the client's header).")
    size: int
    scheme: Literal["public", "private"]
    status: Literal["temporary", "permanent"]
    owner_id: uuid.UUID | None
    created: datetime
    changed: datetime


async def _rules(request: Request, type_name: str, field_name: str) -> UploadRules:
    ctx = request_context(request)
    item_type = await ctx.kernel.content.types.get(type_name)
    definition = item_type.field(field_name) if item_type is not None else None
    if definition is None:
        raise ServiceError(404, f"There is no field {field_name!r} of an item type"
                                f" {type_name!r}.")
    if definition.type not in ("file", "image"):
        raise ServiceError(422, "The upload names no file or image field.",
                           errors={"field": f"{type_name}.{field_name} is not a file or"
                                            " image field"})
    return UploadRules.of_field(definition.settings, image=definition.type == "image")


@operation("POST", "/api/v1/files", operation_id="uploadFile", summary="Upload a file",
           tag="Files", responses={201: FileInfo}, body=FileUpload, body_media=MULTIPART,
           problems=(404, 413))
async def upload_file(request: Request) -> Response:
    ctx = request_context(request)
    user = require_permission(request, UPLOAD_FILES)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != MULTIPART:
        raise ServiceError(415, "Upload a file as multipart/form-data.")
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        texts = {key: value for key in ("type", "field")
                 if isinstance(value := form.get(key), str)}
        # The model the document shows checks the text parts (the file part is read below).
        try:
            body = FileUpload.model_validate({**texts, "file": b""})
        except ValidationError as exc:
            errors = {".".join(str(p) for p in err["loc"]): err["msg"] for err in exc.errors()}
        else:
            errors = {}
        if not isinstance(upload, UploadFile):
            errors["file"] = "is required (a file part)"
        if errors:
            raise ServiceError(422, "The upload is incomplete or invalid.", errors=errors)
        assert isinstance(upload, UploadFile)
        rules = await _rules(request, body.type, body.field)
        if upload.size is not None and upload.size > ctx.kernel.files.max_bytes:
            raise ctx.kernel.files.too_large()
        record = await ctx.kernel.files.upload(user, upload.file, upload.filename or "", rules)
    return JSON(record.public(), status_code=201,
                headers={"location": f"/api/v1/files/{record.id}"})


@operation("GET", "/api/v1/files/{id}", operation_id="getFile", summary="Get a file's record",
           tag="Files", responses={200: FileInfo}, problems=(404,), stage=True,
           params=(FILE_ID,))
async def get_file(request: Request) -> Response:
    record = await readable_file(request_context(request), request.path_params["id"])
    return JSON(record.public())


@operation("DELETE", "/api/v1/files/{id}", operation_id="deleteFile",
           summary="Delete one's own temporary upload", tag="Files", responses={204: None},
           problems=(404, 409), params=(FILE_ID,))
async def delete_file(request: Request) -> Response:
    user = require_login(request)
    try:
        await request_context(request).kernel.files.delete_temporary(
            user, request.path_params["id"])
    except FileError as exc:
        if exc.status == 403:  # someone else's upload: as if it did not exist
            raise FileError(404, "There is no such file.") from None
        raise
    return Response(status_code=204)


routes = api_routes(upload_file, get_file, delete_file)
