"""``/files/{id}``: a managed file's bytes, after the files service's access check.

Public and private files are served by the same route; a private one only to a reader of an
item that uses it, asked through the one item read path in the request's stage. Every answer
carries the type sniffed at upload (never the client's), ``X-Content-Type-Options: nosniff``,
a ``Content-Security-Policy`` that lets nothing in the file run, and for anything but an image
``Content-Disposition: attachment``: an upload is never shown as a page of this site.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from trovato.files.service import FileRecord
from trovato.kernel.access import readable_file
from trovato.kernel.context import request_context

_FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


def disposition(record: FileRecord) -> str:
    """``inline`` for an image, ``attachment`` for anything else, with the file's name (ASCII
    for old clients, RFC 5987 UTF-8 for the rest)."""
    kind = "inline" if record.image else "attachment"
    fallback = record.filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(record.filename)}"


def file_headers(record: FileRecord) -> dict[str, str]:
    return {
        "content-disposition": disposition(record),
        "x-content-type-options": "nosniff",
        "content-security-policy": _FILE_CSP,
        "cache-control": "public, max-age=3600" if record.scheme == "public"
        and record.status == 1 else "private, no-cache",
    }


async def serve(request: Request) -> Response:
    ctx = request_context(request)
    record = await readable_file(ctx, request.path_params["id"])
    path = ctx.kernel.files.local_path(record)
    media = f"{record.mime}; charset=utf-8" if record.mime.startswith("text/") else record.mime
    return FileResponse(path, media_type=media, headers=file_headers(record))


routes = [Route("/files/{id}", serve, methods=["GET", "HEAD"])]
