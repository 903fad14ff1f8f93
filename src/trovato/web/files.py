"""``/files/{id}``: a managed file's bytes, after the files service's access check;
``/files/styles/{style}/{id}``: an image style's derivative of it, after the same check.

Public and private files are served by the same route; a private one only to a reader of an
item that uses it, asked through the one item read path in the request's stage. Every answer
carries the type sniffed at upload (never the client's), ``X-Content-Type-Options: nosniff``,
a ``Content-Security-Policy`` that lets nothing in the file run, and for anything but an image
``Content-Disposition: attachment``: an upload is never shown as a page of this site.

The bytes are streamed from the storage, local or S3 alike. An S3 site does not redirect to
the bucket (not even with a short-lived presigned URL for a public file): the bucket could not
send these headers, a redirect would let a URL outlive a revoked ``access content``, and every
object stays private to the bucket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from trovato.files.service import FileRecord
from trovato.files.storage import CHUNK
from trovato.kernel.access import readable_file
from trovato.kernel.context import request_context

_FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


def disposition(record: FileRecord, name: str | None = None) -> str:
    """``inline`` for an image, ``attachment`` for anything else, with the file's name (or
    ``name``; ASCII for old clients, RFC 5987 UTF-8 for the rest)."""
    kind = "inline" if record.image else "attachment"
    shown = name or record.filename
    fallback = shown.encode("ascii", "replace").decode().replace("?", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(shown)}"


def file_headers(record: FileRecord, name: str | None = None) -> dict[str, str]:
    return {
        "content-disposition": disposition(record, name),
        "x-content-type-options": "nosniff",
        "content-security-policy": _FILE_CSP,
        "cache-control": "public, max-age=3600" if record.scheme == "public"
        and record.status == 1 else "private, no-cache",
    }


async def _chunks(source: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(source.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(source.close)


async def _stream(request: Request, source: BinaryIO, mime: str,
                  headers: dict[str, str]) -> Response:
    media = f"{mime}; charset=utf-8" if mime.startswith("text/") else mime
    if request.method == "HEAD":
        await asyncio.to_thread(source.close)
        return Response(media_type=media, headers=headers)
    return StreamingResponse(_chunks(source), media_type=media, headers=headers)


async def serve(request: Request) -> Response:
    ctx = request_context(request)
    record = await readable_file(ctx, request.path_params["id"])
    source = await ctx.kernel.files.open(record.uri)
    return await _stream(request, source, record.mime,
                         {**file_headers(record), "content-length": str(record.size)})


async def serve_styled(request: Request) -> Response:
    """A style's derivative, under the original's access check (private stays private)."""
    ctx = request_context(request)
    record = await readable_file(ctx, request.path_params["id"])
    files = ctx.kernel.files
    style = await files.styles.require(request.path_params["style"])
    uri, mime = await files.derivative(record, style)
    # A converted derivative's name says its format: cat.png.webp.
    name = record.filename if mime == record.mime else \
        f"{record.filename}.{uri.rpartition('.')[2]}"
    return await _stream(request, await files.open(uri), mime, file_headers(record, name))


routes = [Route("/files/{id}", serve, methods=["GET", "HEAD"]),
          Route("/files/styles/{style}/{id}", serve_styled, methods=["GET", "HEAD"])]
