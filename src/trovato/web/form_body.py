"""Reading an HTML form post: exactly what Starlette's ``Request.form()`` gives, with a
URL-encoded body (every form without a file) split and unquoted in a few calls per field
instead of the streaming parser's callbacks, which cost an item form's save more calls than
reading, checking and parsing all its fields. A multipart body (uploads) goes to Starlette."""

from __future__ import annotations

from urllib.parse import parse_qsl

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
    values decoded as Latin-1 and then ``unquote_plus``-ed (escapes as UTF-8). The splitting
    and unquoting is the standard library's ``parse_qsl`` (linear in the body), or for what a
    browser sends, the same in a few C calls (:func:`_browser_pairs`). Too many fields, or a
    field too long, is a 400 as from Starlette."""
    text = body.decode("latin-1")
    if text.count("&") >= MAX_FIELDS:  # as parse_qsl counts: one field more than the "&"s
        raise HTTPException(400, f"Too many fields. Maximum number of fields is "
                                 f"{MAX_FIELDS}.")
    pairs = _browser_pairs(text)
    if pairs is None:
        pairs = parse_qsl(text, keep_blank_values=True)
    if len(text) > MAX_FIELD_BYTES:  # only a body this long can hold a field too long
        for pair in text.split("&"):
            name, _, value = pair.partition("=")
            if len(name) + len(value) > MAX_FIELD_BYTES:
                raise HTTPException(400, f"Field exceeded maximum size of "
                                         f"{int(MAX_FIELD_BYTES / 1024)}KB.")
    items: list[tuple[str, str | UploadFile]] = list(pairs)
    return FormData(items)


# What a browser sends is ASCII with every other character escaped as ``%XX``: written as
# ``\xXX``, the ``unicode_escape`` codec decodes every escape of the body in one C call.
# ``&`` and ``=`` become characters no escape makes (private use), so an escaped ``%26`` or
# ``%3D`` is never taken for a separator. Four ``str.replace`` calls, not one ``str.translate``
# with a table: a table mapping a character to several is applied one character at a time.
_PAIR, _EQUALS = "\ue000", "\ue001"


def _browser_pairs(text: str) -> list[tuple[str, str]] | None:
    """``parse_qsl(text, keep_blank_values=True)`` for an ASCII body without backslashes
    (which the codec would read as escapes) whose every ``%`` starts an escape; None for any
    other body. A name or value is its escapes' bytes read as UTF-8, as ``unquote`` reads
    them (an invalid sequence: U+FFFD)."""
    if not text.isascii() or "\\" in text:
        return None
    try:
        escaped = (text.replace("%", "\\x").replace("+", " ").replace("&", "\\ue000")
                   .replace("=", "\\ue001"))
        decoded = escaped.encode("ascii").decode("unicode_escape")
    except UnicodeDecodeError:  # a "%" escaping nothing ("%zz", a "%" at the end)
        return None
    pairs: list[tuple[str, str]] = []
    for pair in decoded.split(_PAIR):
        if not pair:
            continue
        name, _, value = pair.partition(_EQUALS)
        if _EQUALS in value:  # an "=" after the first is part of the value
            value = value.replace(_EQUALS, "=")
        pairs.append((name.encode("latin-1").decode("utf-8", "replace"),
                      value.encode("latin-1").decode("utf-8", "replace")))
    return pairs
