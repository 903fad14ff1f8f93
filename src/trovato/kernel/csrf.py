"""The pipeline's CSRF step: an unsafe request riding on the session cookie must carry the
session's token, as the ``X-CSRF-Token`` header or the ``csrf_token`` form field.

An HTML form post without the token (or with a stale one) to a route marked :func:`form_post`
is let through with ``RequestContext.csrf_failed`` set: that route shows its form again with
what was typed and "The form has expired, please submit again." and changes nothing (a token
goes stale when the session ends or changes; the user's typing should not go with it). Every
other such request is refused with a 403.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Message, Receive, Scope

from trovato.kernel.context import RequestContext, scope_header
from trovato.kernel.errors import error_response

# Login with JSON needs no CSRF token (there is no session to ride on yet), but a JSON body
# cannot be sent cross-site without a CORS preflight, which we never grant.
_CSRF_EXEMPT = frozenset({("POST", "/api/v1/session")})
_FORM_POST = "__trovato_form_post__"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., object])
# A form body read for its CSRF token stays in memory up to this size, then goes to a
# temporary file (an upload); it is replayed to the route in chunks of the second.
_SPOOL_MEMORY = 1024 * 1024
_REPLAY_CHUNK = 64 * 1024


def form_post(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route endpoint as handling its HTML form posts when their CSRF token is missing
    or stale (``RequestContext.csrf_failed``): it must show the form again with the submitted
    values and change nothing. Every other unsafe request is refused by the pipeline."""
    setattr(endpoint, _FORM_POST, True)
    return endpoint


def handles_form_posts(scope: Scope) -> bool:
    """Whether the route this request goes to is a :func:`form_post` endpoint (asked only
    when a token is missing or wrong, so the extra route match costs nothing otherwise)."""
    router = getattr(scope.get("app"), "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return bool(getattr(getattr(route, "endpoint", None), _FORM_POST, False))
    return False


async def check_csrf(
    scope: Scope, ctx: RequestContext, receive: Receive
) -> tuple[Response | None, Receive]:
    """Step 9: unsafe requests riding on the session cookie must carry its token.

    The token is sent as ``X-CSRF-Token`` (API, scripts) or as the ``csrf_token`` form field
    (HTML forms). Bearer-token calls carry no ambient credentials and need none; neither do API
    calls made without a session cookie. Returns the receive callable the route must use (the
    form body may have been read here and is replayed).
    """
    path = scope["path"]
    is_api = path.startswith("/api/")
    if ctx.probe or ctx.auth_method == "token" or (scope["method"], path) in _CSRF_EXEMPT:
        return None, receive
    session = ctx.session
    has_session = session is not None and session.exists
    if is_api and not has_session:
        return None, receive
    expected = session.get("csrf") if session is not None and has_session else None
    supplied = scope_header(scope, b"x-csrf-token")
    if supplied is None and not is_api:
        supplied, receive = await _form_token(scope, receive)
    # Compared as bytes: compare_digest refuses non-ASCII str, and a header may carry any byte.
    if expected and supplied and secrets.compare_digest(
        str(expected).encode(), supplied.encode("utf-8", "surrogateescape")
    ):
        return None, receive
    if not is_api and handles_form_posts(scope):
        ctx.csrf_failed = True
        return None, receive
    detail = (
        "Missing or invalid X-CSRF-Token header."
        if is_api
        else "The form has expired or did not come from this site. Reload the page and try again."
    )
    return error_response(scope, 403, detail), receive


async def _form_token(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """Read the body once to find ``csrf_token``; return a receive that replays it.

    The body is spooled: in memory up to :data:`_SPOOL_MEMORY`, in a temporary file beyond (a
    form carrying an upload), so an upload is never held in memory whole; it is replayed in
    chunks."""
    # Not a context manager: the route reads it through the replay after this returns (it is
    # closed when the replay is dropped).
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        spool.write(message.get("body", b""))
        if not message.get("more_body"):
            break
    size = spool.tell()

    def replaying() -> Receive:
        offset = 0
        done = False

        async def replay() -> Message:
            nonlocal offset, done
            if done:
                return await receive()
            spool.seek(offset)
            chunk = spool.read(_REPLAY_CHUNK)
            offset += len(chunk)
            done = offset >= size
            return {"type": "http.request", "body": chunk, "more_body": not done}

        return replay

    content_type = (scope_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    token: str | None = None
    if content_type == "application/x-www-form-urlencoded":
        spool.seek(0)  # within TROVATO_MAX_BODY_BYTES: a multipart body alone may be larger
        token = urlencoded_value(spool.read().decode("utf-8", "replace"), "csrf_token")
    elif content_type == "multipart/form-data":
        try:
            async with Request(scope, replaying()).form() as form:
                value = form.get("csrf_token")
                token = value if isinstance(value, str) else None
        except Exception:  # malformed multipart: no token, so the request is refused
            token = None
    return token, replaying()


def urlencoded_value(text: str, name: str) -> str | None:
    """The first value of ``name`` in a URL-encoded form body, as ``parse_qs`` reads it (pairs
    without ``=`` or with an empty value skipped, names and values unquoted), without
    unquoting every other field of the form the way ``parse_qs`` does."""
    for pair in text.split("&"):
        key, sep, value = pair.partition("=")
        if not sep or not value:
            continue
        if key != name and (("%" not in key and "+" not in key) or unquote_plus(key) != name):
            continue
        return unquote_plus(value)
    return None
