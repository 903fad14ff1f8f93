"""Reading an HTML form post: exactly what Starlette's ``Request.form()`` gives, with a
URL-encoded body (every form without a file) split and unquoted in a few calls per field
instead of the streaming parser's callbacks, which cost an item form's save more calls than
reading, checking and parsing all its fields. A multipart body (uploads) goes to Starlette."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

URLENCODED = "application/x-www-form-urlencoded"
# Starlette's own limits for a URL-encoded body, with its messages.
MAX_FIELDS = 1000
MAX_FIELD_BYTES = 1024 * 1024


async def read_form(request: Request) -> FormData:
    """The fields ``request`` posted, as ``await request.form()`` reads them."""
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip() != URLENCODED:
        return await request.form()
    return parse_urlencoded(await request.body())


def parse_urlencoded(body: bytes) -> FormData:
    """The fields of a URL-encoded body, as Starlette's form parser reads them: pairs split on
    ``&`` (empty ones skipped), a pair without ``=`` is a name with an empty value, names and
    values decoded as Latin-1 and then ``unquote_plus``-ed (escapes as UTF-8). Too many
    fields, or a field too long, is a 400 as from Starlette."""
    items: list[tuple[str, str | UploadFile]] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        if len(pair) > MAX_FIELD_BYTES + 1:  # the "=" is not counted
            name, _, value = pair.partition(b"=")
            if len(name) + len(value) > MAX_FIELD_BYTES:
                raise HTTPException(400, f"Field exceeded maximum size of "
                                         f"{int(MAX_FIELD_BYTES / 1024)}KB.")
        if len(items) == MAX_FIELDS:
            raise HTTPException(400, f"Too many fields. Maximum number of fields is "
                                     f"{MAX_FIELDS}.")
        name, _, value = pair.partition(b"=")
        items.append((_text(name), _text(value)))
    return FormData(items)


_HEX_DIGITS = "0123456789ABCDEFabcdef"
_HEX: dict[bytes, bytes] = {(a + b).encode(): bytes.fromhex(a + b)
                            for a in _HEX_DIGITS for b in _HEX_DIGITS}
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _text(raw: bytes) -> str:
    if b"%" not in raw:
        # unquote_plus of text without "%" is just "+" made a space.
        return raw.decode("latin-1").replace("+", " ") if b"+" in raw \
            else raw.decode("latin-1")
    if not raw.isascii() or _BAD_ESCAPE.search(raw) is not None:
        return unquote_plus(raw.decode("latin-1"))
    # ASCII with only well-formed escapes (what browsers send): unquote_plus decodes the
    # escapes' bytes as UTF-8 (errors replaced); here without a call per escape.
    first, *escaped = raw.replace(b"+", b" ").split(b"%")
    return (first + b"".join([_HEX[item[:2]] + item[2:] for item in escaped])).decode(
        "utf-8", "replace")
