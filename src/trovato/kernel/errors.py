"""Error responses: HTML pages for the site, RFC 9457 problem+json under ``/api/``.

Every error the kernel produces (routing, access, validation, middleware refusals, crashes) goes
through :func:`error_response`, so the two formats stay consistent.

A request that fails because the database or the shared store is unreachable is not a crash:
:func:`unavailable_response` is the one place that recognises those failures and answers them
with a 503 naming the missing part and a ``Retry-After``, logged without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

from trovato.kernel.context import SCOPE_KEY, RequestContext

log = logging.getLogger("trovato.errors")

PROBLEM_TYPE = "https://trovato.dev/problems/"

# Seconds a client is told to wait after a 503 for a part that is down: about the time the
# database pool takes to reconnect once the server is back.
RETRY_AFTER_SECONDS = 5

_UNAVAILABLE = {
    "database": "The site's database is not answering right now.",
    "store": "The site's session and cache store is not answering right now.",
}

_TITLES = {
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}
# A visitor asked for a page; an API client for a resource, which its detail names.
_PAGE_TITLES = {**_TITLES, 404: "Page not found"}
# What an error with no detail of its own says below its title (rather than the title again).
_DETAILS = {404: "Nothing exists at this address."}


class ProblemError(HTTPException):
    """An error with optional per-field messages (``errors`` in the problem document) and
    members of its own (``extensions``, e.g. a refused publish's ``conflicts``).

    ``debug`` is developer detail (a plugin's traceback) that only a development site shows
    on its HTML error page; callers pass it only in development mode."""

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        *,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        debug: str = "",
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.errors = errors or {}
        self.debug = debug
        self.extensions = dict(extensions or {})


def wants_json(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"


def error_response(
    scope: Scope,
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    debug: str = "",
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    api = wants_json(scope)
    title = (_TITLES if api else _PAGE_TITLES).get(status) or HTTPStatus(status).phrase
    detail = detail or _DETAILS.get(status) or title
    if api:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + HTTPStatus(status).phrase.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
        if errors:
            body["errors"] = errors
        body.update(extensions or {})
        return ProblemResponse(body, status_code=status, headers=headers)
    ctx = scope.get(SCOPE_KEY)
    user = ctx.user if isinstance(ctx, RequestContext) else None
    csrf = ""
    if isinstance(ctx, RequestContext) and ctx.session is not None and ctx.session.exists:
        csrf = ctx.session.csrf_token()
    html = f"<!doctype html><title>Error</title><h1>{status}</h1>"
    if isinstance(ctx, RequestContext):
        try:
            html = ctx.kernel.templates.render(
                "error.html",
                {
                    "title": title,
                    "detail": detail,
                    "status": status,
                    "user": user,
                    "csrf_token": csrf,
                    "messages": [("error", m) for m in (errors or {}).values()],
                    "debug": debug,
                },
            )
        except Exception:  # an error page must never fail: fall back to the bare page
            log.exception("error template failed")
    return HTMLResponse(html, status_code=status, headers=headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    errors = exc.errors if isinstance(exc, ProblemError) else None
    debug = exc.debug if isinstance(exc, ProblemError) else ""
    extensions = exc.extensions if isinstance(exc, ProblemError) else None
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    return error_response(
        request.scope, exc.status_code, detail, errors=errors, headers=exc.headers, debug=debug,
        extensions=extensions,
    )


async def server_error_handler(request: Request, exc: Exception) -> Response:
    ctx = request.scope.get(SCOPE_KEY)
    request_id = ctx.request_id if isinstance(ctx, RequestContext) else "-"
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"data": {"request_id": request_id, "path": request.url.path}},
    )
    return error_response(
        request.scope,
        500,
        f"The server could not complete the request (request id {request_id}).",
    )


def _unavailable_part(exc: BaseException, store_errors: tuple[type[BaseException], ...]) -> str:
    """"database" or "store" when ``exc`` means that part cannot be reached, else ""."""
    if store_errors and isinstance(exc, store_errors):
        return "store"
    if isinstance(exc, psycopg.OperationalError):
        # No SQLSTATE: the socket failed or no pooled connection came in time (PoolTimeout).
        # Class 08 is a connection exception, 57P an operator intervention (shutdown, the
        # server starting up). Other operational errors (a cancelled statement, a lock
        # timeout) are the query's own failure, not an outage.
        state = exc.sqlstate
        if state is None or state.startswith(("08", "57P")):
            return "database"
    return ""


def unavailable_response(scope: Scope, exc: BaseException) -> Response | None:
    """The 503 for a request that failed because a part of the site is unreachable, or None
    when ``exc`` is some other error (which stays a crash)."""
    ctx = scope.get(SCOPE_KEY)
    store_errors = ctx.kernel.store.outage_errors if isinstance(ctx, RequestContext) else ()
    part = _unavailable_part(exc, store_errors)
    if not part:
        return None
    if isinstance(ctx, RequestContext):
        # Its changes cannot be saved to a store that may be the part that failed, and the
        # request they belong to did not complete.
        ctx.session = None
    log.warning(
        "%s unavailable",
        part,
        extra={"data": {"request_id": ctx.request_id if isinstance(ctx, RequestContext) else "-",
                        "path": scope.get("path", ""), "error": f"{type(exc).__name__}: {exc}"}},
    )
    detail = f"{_UNAVAILABLE[part]} Please try again in a few seconds."
    return error_response(
        scope, 503, detail, headers={"retry-after": str(RETRY_AFTER_SECONDS)}
    )
