"""Error responses: HTML pages for the site, RFC 9457 problem+json under ``/api/``.

Every error the kernel produces (routing, access, validation, middleware refusals, crashes) goes
through :func:`error_response`, so the two formats stay consistent. A refusal raised anywhere
below a route is a :class:`~trovato.errors.ServiceError`; :func:`service_error_handler` is the
one place that turns it into a response (routes do not convert errors themselves).

A GET or HEAD about to get its 404 page is first looked up among the redirects
(:func:`not_found_redirect`): an old address answers with its redirect, and only a page that
would not be found pays that one query.

A request that fails because the database or the shared store is unreachable is not a crash:
:func:`unavailable_response` is the one place that recognises those failures and answers them
with a 503 naming the missing part and a ``Retry-After``, logged without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import psycopg
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ExceptionHandler, Scope

from trovato.errors import ServiceError
from trovato.kernel.banner import stage_banner
from trovato.kernel.context import SCOPE_KEY, RequestContext
from trovato.kernel.slots import page_slots
from trovato.kernel.toolbar import toolbar_for

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
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    debug: str = "",
    slots: Mapping[str, Markup] | None = None,
) -> Response:
    """The error in the request's format; ``extensions`` are further members of a problem
    document (an HTML page has no place for them); ``slots`` the page's rendered tiles
    (:func:`error_slots`)."""
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
        for name, value in (extensions or {}).items():
            body.setdefault(name, value)
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
                    "stage_banner": stage_banner(ctx, str(scope.get("path", "/"))),
                    "toolbar": toolbar_for(user),
                    "login_href": _login_href(scope),
                    "slots": slots or {},
                },
            )
        except Exception:  # an error page must never fail: fall back to the bare page
            log.exception("error template failed")
    return HTMLResponse(html, status_code=status, headers=headers)


def _login_href(scope: Scope) -> str:
    """The log-in link of a refused page: back to that page after logging in (GET only: a
    refused form submission cannot be repeated by following a link)."""
    if scope.get("method") != "GET":
        return "/user/login"
    path = str(scope.get("path", "/"))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    return "/user/login?destination=" + quote(f"{path}?{query}" if query else path, safe="")


async def error_slots(scope: Scope, status: int) -> dict[str, Markup]:
    """The tiles (main menu, sidebar …) a 403 or 404 page shows, as the reader would see them
    on that path; none for other errors, API requests, or when reading them fails (an error
    page must not fail: it is then drawn without them)."""
    ctx = scope.get(SCOPE_KEY)
    if (status not in (403, 404) or wants_json(scope) or not isinstance(ctx, RequestContext)
            or ctx.user is None):
        return {}
    try:
        return await page_slots(ctx, str(scope.get("path", "/")))
    except Exception:
        log.exception("the error page's tiles failed")
        return {}


async def not_found_redirect(scope: Scope) -> Response | None:
    """The redirect answering a GET or HEAD of a page that is not found (a 404 outside the
    API), or None. A failed lookup is logged and the 404 page shown: an error page must not
    fail."""
    ctx = scope.get(SCOPE_KEY)
    if (scope.get("method") not in ("GET", "HEAD") or wants_json(scope)
            or not isinstance(ctx, RequestContext)):
        return None
    try:
        found = await ctx.kernel.redirects.find(str(scope.get("path", "")))
    except Exception:
        log.exception("the redirect lookup failed")
        return None
    if found is None:
        return None
    # A browser keeps a 301 or 308 with no cache header as long as it likes: bounded as the
    # page cache bounds pages, a changed or deleted redirect reaches returning visitors too.
    max_age = int(ctx.kernel.settings.page_cache_seconds)
    return RedirectResponse(found.destination, status_code=found.status_code,
                            headers={"cache-control": f"max-age={max_age}"})


async def service_error_handler(request: Request, exc: Exception) -> Response:
    """THE conversion of a refused operation into its response (registered for
    :class:`~trovato.errors.ServiceError` on the app)."""
    assert isinstance(exc, ServiceError)
    scope = request.scope
    ctx = scope.get(SCOPE_KEY)
    status, detail, headers = exc.status, exc.detail, exc.headers
    if status == 404 and (redirect := await not_found_redirect(scope)) is not None:
        return redirect
    api = wants_json(scope)
    if (status == 403 and api and isinstance(ctx, RequestContext)
            and not ctx.current_user.is_authenticated):
        # An anonymous API caller is told to authenticate, as require_permission does.
        status, detail = 401, f"{detail} Log in or use an API token."
        headers = {**headers, "www-authenticate": 'Bearer realm="trovato"'}
    development = (isinstance(ctx, RequestContext)
                   and ctx.kernel.settings.environment == "development")
    return error_response(
        scope, status, detail or None,
        # A page shows the message once, above the messages about other inputs.
        errors=exc.problem_errors() if api else exc.errors,
        extensions=exc.extensions, headers=headers or None,
        debug=exc.debug if development else "", slots=await error_slots(scope, status),
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (an unrouted path, a method a plain route does not take)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and (redirect := await not_found_redirect(request.scope)):
        return redirect
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    return error_response(request.scope, exc.status_code, detail, headers=exc.headers,
                          slots=await error_slots(request.scope, exc.status_code))


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


def exception_handlers() -> dict[Any, ExceptionHandler]:
    """The app's error handlers: refused operations, Starlette's own refusals, crashes."""
    return {
        ServiceError: service_error_handler,
        HTTPException: http_exception_handler,
        500: server_error_handler,
    }


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
