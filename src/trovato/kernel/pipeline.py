"""The request pipeline: one ASGI middleware that runs the kernel's steps in a fixed order.

    request id → profiler → security headers → body limit → session → current user →
    active stage → rate limits → CSRF → routing (→ error pages)

An unsafe request without the session's CSRF token is refused before any route runs, except
an HTML form post to a route marked :func:`~trovato.kernel.csrf.form_post`, which shows its
form again (the CSRF step: :mod:`trovato.kernel.csrf`).

Each step is a small function that fills in the :class:`RequestContext` or refuses the
request with an error response. They run inside a single middleware rather than as nine
stacked ones because every ASGI layer costs a coroutine and a ``send`` wrapper per request;
here the response headers of all steps are added in one place (:meth:`KernelPipeline._send`).

A GET that can only come from an anonymous visitor on the live stage (no session cookie, no
``Authorization``, no stage or preview asked for) is first looked up in the page cache; a hit is
answered from there with the security headers and request id and nothing else runs. Every other
request, misses included, goes through all the steps.

A preview link (``?preview=<token>``, :mod:`trovato.stages.preview`) puts a GET in the link's
stage without an account, read-only: any unsafe method carrying one is refused (403), and its
pages are never looked up in nor stored into the page cache. The token is kept in the
``trovato_preview`` cookie (HttpOnly, for this browser session), so every link and form on the
previewed pages stays in the preview; it is checked again on every request, so revoking or
expiring the link ends the preview at once, and ``?preview=end`` leaves it.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trovato.kernel.context import (
    SCOPE_KEY,
    RequestContext,
    bind_request,
    scope_header,
    unbind_request,
)
from trovato.kernel.csrf import check_csrf
from trovato.kernel.errors import error_response, unavailable_response
from trovato.kernel.flash import COOKIE as FLASH_COOKIE
from trovato.kernel.flash import set_cookie as flash_set_cookie
from trovato.kernel.page_cache import EXTRA_TAGS, QUERY_HEADER, TAGS_HEADER
from trovato.observability import load
from trovato.observability.metrics import UNMATCHED_ROUTE
from trovato.observability.profiler import Profile, current_profile
from trovato.settings import Settings
from trovato.stages import StageError, is_live
from trovato.stages.preview import END as PREVIEW_END
from trovato.stages.preview import QUERY_PARAM as PREVIEW_PARAM
from trovato.users.sessions import Session

log = logging.getLogger("trovato.request")

HEALTH_PATH = "/health"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self';"
        b" script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
        b" frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_SECURITY_HEADER_NAMES = frozenset(name for name, _ in _SECURITY_HEADERS)
_HSTS = (b"strict-transport-security", b"max-age=31536000")
_CACHE_HIT = (b"x-trovato-cache", b"HIT")
_CACHE_MISS = (b"x-trovato-cache", b"MISS")
# Request headers after which a GET may be someone's own page, or another stage's.
_NOT_ANONYMOUS_LIVE = frozenset({b"authorization", b"x-trovato-stage"})
PREVIEW_COOKIE = "trovato_preview"
_PREVIEW_QUERY = f"{PREVIEW_PARAM}=".encode()
# A previewed page is one person's view of unpublished content: no shared cache keeps it and no
# search engine indexes it.
_PREVIEW_HEADERS = ((b"cache-control", b"private, no-store"), (b"x-robots-tag", b"noindex"))

Refusal = Response | None
class _BodyTooLargeError(Exception):
    pass


class KernelPipeline:
    """Runs every kernel step around the router for HTTP requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET" and await _serve_anonymous_hit(scope, send):
            return
        ctx = _request_context(scope)
        scope[SCOPE_KEY] = ctx
        token = current_profile.set(ctx.profile)
        bound = bind_request(ctx)
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                await self._response_headers(ctx, message)
                started = True  # after the headers: a store failure there can still be a 503
            await send(message)

        limit = body_limit(scope, ctx.kernel.settings)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        load.request_started()
        try:
            refusal = _request_line(scope) or _body_limit(scope, ctx)
            if refusal is None and not ctx.probe:
                refusal = await _run_steps(scope, ctx)
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
                return
            app_receive: Receive = limited_receive
            app_send: Send = send_wrapper
            if scope["method"] not in SAFE_METHODS:
                csrf_refusal, app_receive = await check_csrf(scope, ctx, limited_receive)
                if csrf_refusal is not None:
                    await csrf_refusal(scope, receive, send_wrapper)
                    return
            elif _page_cacheable(scope, ctx):
                if await _serve_cached(scope, ctx, send_wrapper):
                    return
                app_send = _capturing(scope, ctx, send_wrapper)
            await self.app(scope, app_receive, app_send)
        except _BodyTooLargeError:
            if not started:
                await _too_large(scope, limit)(scope, receive, send_wrapper)
        except Exception as exc:
            unavailable = None if started else unavailable_response(scope, exc)
            if unavailable is None:
                raise
            await unavailable(scope, receive, send_wrapper)
        finally:
            ctx.close_plugin_session()
            load.request_finished()
            unbind_request(bound)
            current_profile.reset(token)
            _observe(scope, ctx, status)

    async def _response_headers(self, ctx: RequestContext, message: Message) -> None:
        headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
        _add_security_headers(headers)
        headers.append((b"x-request-id", ctx.request_id.encode()))
        if ctx.secure:
            headers.append(_HSTS)
        session = ctx.session
        if session is not None and (session.modified or session.old_sid is not None):
            kernel = ctx.kernel
            new_sid = await kernel.sessions.save(session)
            cookie_name = kernel.settings.session_cookie
            if new_sid is not None:
                # Re-sent on every save so the browser's expiry follows the store's.
                headers.append((b"set-cookie", _cookie(ctx, cookie_name, new_sid).encode()))
                headers.append((b"cache-control", b"private, no-store"))
            elif ctx.extra.get("had_session_cookie"):
                headers.append((b"set-cookie", _cookie(ctx, cookie_name, None).encode()))
        flash_cookie = flash_set_cookie(ctx)
        if flash_cookie is not None:
            headers.append((b"set-cookie", flash_cookie))
            if not any(name == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", b"private, no-store"))
        if "preview_cookie" in ctx.extra:
            token = ctx.extra["preview_cookie"]
            headers.append((b"set-cookie", _preview_cookie(ctx, token).encode()))
        if "preview" in ctx.extra:
            headers.extend(_PREVIEW_HEADERS)
        headers.append((b"server-timing", ctx.profile.server_timing().encode()))


def _add_security_headers(headers: list[tuple[bytes, bytes]]) -> None:
    if any(name in _SECURITY_HEADER_NAMES for name, _ in headers):
        # The route set some policy itself (stricter or looser): keep its values.
        present = {name for name, _ in headers}
        headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
    else:
        headers.extend(_SECURITY_HEADERS)


def _request_id(incoming: str | None) -> str:
    """The client's ``X-Request-ID`` if it is a short token, else a new one."""
    if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum():
        return incoming
    # Unique, not secret: a fast PRNG avoids a getrandom() syscall per request.
    return f"{random.getrandbits(64):016x}"


def _request_context(scope: Scope) -> RequestContext:
    """Step 1: the request id, client address and scheme."""
    kernel = scope["app"].state.kernel
    settings = kernel.settings
    request_id = _request_id(scope_header(scope, b"x-request-id"))
    client = scope.get("client")
    ip = client[0] if client else "unknown"
    secure = scope.get("scheme") == "https"
    if settings.trust_proxy_headers:
        forwarded_for = scope_header(scope, b"x-forwarded-for")
        if forwarded_for:
            ip = forwarded_for.split(",")[0].strip()[:64]
        secure = secure or scope_header(scope, b"x-forwarded-proto") == "https"
    return RequestContext(
        kernel=kernel,
        request_id=request_id,
        profile=Profile(),
        client_ip=ip,
        secure=secure,
        # A health probe must answer while the database is down, so it skips the steps
        # that read the database or the store.
        probe=scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"),
    )


def _request_line(scope: Scope) -> Refusal:
    """Step 3b: no NUL in the path or query string (no text column or JSONB can hold one)."""
    if "\x00" in scope["path"]:
        return error_response(scope, 400, "The path contains a NUL byte.")
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return error_response(scope, 400, "The query string contains a NUL byte (%00).")
    return None


def _body_limit(scope: Scope, ctx: RequestContext) -> Refusal:
    """Step 4 (by header; :class:`KernelPipeline` also counts streamed bytes)."""
    declared = scope_header(scope, b"content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        return error_response(scope, 400, "Invalid Content-Length header.")
    limit = body_limit(scope, ctx.kernel.settings)
    if int(declared) > limit:
        return _too_large(scope, limit)
    return None


def body_limit(scope: Scope, settings: Settings) -> int:
    """The largest body a request may send: a multipart one (a form with a file) may carry
    one upload of up to ``file_max_bytes`` besides the form; the files service refuses a
    larger file with its own message."""
    content_type = (scope_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return settings.max_body_bytes + settings.file_max_bytes
    return settings.max_body_bytes


def _too_large(scope: Scope, limit: int) -> Response:
    detail = f"The request body is larger than the limit of {limit} bytes."
    return error_response(scope, 413, detail)


async def _run_steps(scope: Scope, ctx: RequestContext) -> Refusal:
    """Steps 5-8 in order; the first refusal ends the request."""
    await _session(scope, ctx)
    return (
        await _current_user(scope, ctx)
        or await _stage(scope, ctx)
        or await _rate_limit(scope, ctx)
    )


def _cookie_value(scope: Scope, name: str) -> str | None:
    """The value of cookie ``name`` (the last one sent, as ``http.cookies`` reads it), split
    by hand: ``SimpleCookie`` runs a regular expression over the whole header on every
    request. A malformed header yields no value or one that names no session or preview
    (both are looked up, never trusted), never an error."""
    raw_cookie = scope_header(scope, b"cookie")
    if not raw_cookie or name not in raw_cookie:
        return None
    found = None
    for part in raw_cookie.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            found = value.strip()
    return found


async def _session(scope: Scope, ctx: RequestContext) -> None:
    """Step 5: load the session named by the cookie (saved in ``_response_headers``)."""
    kernel = ctx.kernel
    sid = _cookie_value(scope, kernel.settings.session_cookie)
    ctx.extra["had_session_cookie"] = sid is not None
    ctx.flash_cookie = _cookie_value(scope, FLASH_COOKIE)
    ctx.session = await kernel.sessions.load(sid) if sid is not None else Session(None)


async def _current_user(scope: Scope, ctx: RequestContext) -> Refusal:
    """Step 6: the user of a Bearer token or of the session; anonymous otherwise."""
    kernel = ctx.kernel
    authorization = scope_header(scope, b"authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        found = await kernel.tokens.check(secret.strip()) if scheme.lower() == "bearer" else None
        user = await kernel.accounts.load(found[1]) if found else None
        if found is None or user is None:
            return error_response(
                scope,
                401,
                "Invalid or expired API token.",
                headers={"www-authenticate": 'Bearer realm="trovato"'},
            )
        ctx.user, ctx.auth_method, ctx.token_id = user, "token", found[0]
        return None
    session = ctx.session
    uid = session.data.get("uid") if session is not None and session.exists else None
    user = await kernel.accounts.for_session(uid, session.stamp) if uid and session else None
    if user is not None:
        ctx.user, ctx.auth_method = user, "session"
        return None
    if uid is not None and session is not None:
        session.logout()  # the account was blocked or deleted meanwhile
    ctx.user = await kernel.accounts.anonymous()
    return None


def _query_value(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope["query_string"].decode("latin-1")).get(name)
    return values[0] if values else None


async def _stage(scope: Scope, ctx: RequestContext) -> Refusal:
    """Step 7: the active stage: a preview link's, else from ``X-Trovato-Stage``, ``?stage=``
    or the session (``stage_via`` in the context says which, for the stage banner)."""
    query_string = scope.get("query_string", b"")
    token = _query_value(scope, PREVIEW_PARAM) if _PREVIEW_QUERY in query_string else None
    if token == PREVIEW_END:
        ctx.extra["preview_cookie"] = None
    elif token is not None:
        return await _preview(scope, ctx, token, remember=True)
    elif (kept := _cookie_value(scope, PREVIEW_COOKIE)) is not None:
        return await _preview(scope, ctx, kept, remember=False)
    requested = scope_header(scope, b"x-trovato-stage")
    via = "request"
    if requested is None and b"stage=" in query_string:
        requested = _query_value(scope, "stage")
    if requested is None and ctx.session is not None and ctx.session.exists:
        requested, via = ctx.session.get("stage"), "session"
    if not requested:
        return None  # the context starts in live
    try:
        ctx.stage = await ctx.kernel.stage_desk.choose(ctx.current_user, requested)
    except StageError as exc:
        if via != "session" or ctx.session is None:
            return error_response(scope, exc.status, exc.message)
        # The session's stage was deleted or is out of the user's reach now: back to live,
        # rather than refusing every request of the session.
        ctx.session.pop("stage")
        return None
    await _stage_banner(scope, ctx, via)
    return None


async def _preview(scope: Scope, ctx: RequestContext, token: str, *, remember: bool) -> Refusal:
    """A preview link's stage, read-only; the pages say why not when the link is not valid
    (and a link kept in the cookie is forgotten). ``remember``: keep a valid token, which came
    in the query, in the cookie (only once checked: it is the client's text until then)."""
    if scope["method"] not in ("GET", "HEAD"):
        return error_response(
            scope, 403, "A preview link is read-only: it cannot be used to change anything."
            f" Leave the preview (/?{PREVIEW_PARAM}={PREVIEW_END}) first.")
    try:
        ctx.stage = await ctx.kernel.previews.check(token)
    except StageError as exc:
        ctx.extra["preview_cookie"] = None  # forgotten: the next page is live again
        return error_response(scope, exc.status, exc.message)
    ctx.extra["preview"] = ctx.stage
    # Whoever holds the link reads this one stage (and, the method being safe, only reads).
    ctx.user = replace(ctx.current_user, preview_stage=ctx.stage)
    if remember:
        ctx.extra["preview_cookie"] = token
    await _stage_banner(scope, ctx, "preview")
    return None


async def _stage_banner(scope: Scope, ctx: RequestContext, via: str) -> None:
    """What the banner of a page in another stage than live says (pages only)."""
    if is_live(ctx.stage) or scope["path"].startswith("/api/"):
        return
    ctx.extra["stage_via"] = via
    ctx.extra["stage_label"] = await ctx.kernel.stage_desk.label(ctx.stage)


async def _rate_limit(scope: Scope, ctx: RequestContext) -> Refusal:
    """Step 8: cap state-changing requests per principal across all processes.

    The principal is the API token of a token request, the user of a session, else the client
    address; each kind has its own rate, and holders of ``bypass rate limits`` have none.
    """
    if scope["method"] in SAFE_METHODS:
        return None
    user = ctx.current_user
    if user.can("bypass rate limits"):
        return None
    settings = ctx.kernel.settings
    if ctx.token_id is not None:
        key, limit = f"write:token:{ctx.token_id}", settings.token_write_rate_limit
    elif user.is_authenticated:
        key, limit = f"write:user:{user.id}", settings.user_write_rate_limit
    else:
        key, limit = f"write:ip:{ctx.client_ip}", settings.write_rate_limit
    result = await ctx.kernel.store.rate_limits.hit(key, limit, 60)
    if result.allowed:
        return None
    retry = max(1, int(result.retry_after + 0.999))
    return error_response(
        scope,
        429,
        f"Too many requests: the limit is {limit} state-changing requests a minute;"
        f" try again in {retry} seconds.",
        headers={"retry-after": str(retry)},
    )


async def _serve_anonymous_hit(scope: Scope, send: Send) -> bool:
    """Answer a GET from the page cache before any step runs, if it is a hit.

    Only when the request cannot be anyone's but an anonymous visitor's on the live stage:
    no session cookie (a stale one goes the long way, which also deletes it), no flashed
    messages to show, no ``Authorization`` and no stage or preview asked for (the cache key
    ignores query parameters the route does not read, so ``?preview=`` must never get this
    far). Sends what the full pipeline would on a hit.
    """
    started = time.perf_counter()
    kernel = scope["app"].state.kernel
    page_cache = kernel.page_cache
    query_string: bytes = scope.get("query_string", b"")
    path: str = scope["path"]
    if (not page_cache.enabled or path == HEALTH_PATH or b"stage=" in query_string
            or _PREVIEW_QUERY in query_string):
        return False
    settings = kernel.settings
    session_cookie = settings.session_cookie.encode("latin-1")
    preview_cookie = PREVIEW_COOKIE.encode()
    flash_cookie = FLASH_COOKIE.encode()
    incoming_id: bytes | None = None
    forwarded_proto: bytes | None = None
    for name, value in scope["headers"]:
        if name in _NOT_ANONYMOUS_LIVE or (
            name == b"cookie"
            and (session_cookie in value or preview_cookie in value or flash_cookie in value)
        ):
            return False
        if name == b"x-request-id":
            incoming_id = value
        elif name == b"x-forwarded-proto":
            forwarded_proto = value
    page = page_cache.get(path, query_string)
    if page is None:
        return False  # the full pipeline counts the miss and renders the page
    request_id = _request_id(incoming_id.decode("latin-1") if incoming_id else None)
    secure = scope.get("scheme") == "https" or (
        settings.trust_proxy_headers and forwarded_proto == b"https"
    )
    headers = [*page.headers, (b"x-request-id", request_id.encode())]
    if secure:
        headers.append(_HSTS)
    load.request_started()
    try:
        elapsed = time.perf_counter() - started
        headers.append((b"server-timing", f"total;dur={elapsed * 1000:.2f}".encode()))
        await send({"type": "http.response.start", "status": page.status, "headers": headers})
        await send({"type": "http.response.body", "body": page.body})
    finally:
        load.request_finished()
        elapsed = time.perf_counter() - started
        kernel.metrics.count_cache("page", True)
        kernel.metrics.observe_request("GET", page.route, page.status, elapsed, 0.0)
        if elapsed * 1000 >= settings.slow_request_ms:
            log.warning("slow request", extra={"data": {
                "request_id": request_id, "method": "GET", "path": path,
                "status": page.status, "total_ms": round(elapsed * 1000, 3),
            }})
    return True


def _page_cacheable(scope: Scope, ctx: RequestContext) -> bool:
    """Whether this request is an anonymous GET of a live page (a page cache lookup)."""
    return (
        ctx.kernel.page_cache.enabled
        and scope["method"] == "GET"
        and not ctx.probe
        and ctx.auth_method == "anonymous"
        and is_live(ctx.stage)
        and "preview" not in ctx.extra
        and ctx.flash_cookie is None  # the page shows the messages once, to this browser
        and not (ctx.session is not None and ctx.session.exists)
    )


async def _serve_cached(scope: Scope, ctx: RequestContext, send: Send) -> bool:
    page = ctx.kernel.page_cache.get(scope["path"], scope.get("query_string", b""))
    ctx.kernel.metrics.count_cache("page", page is not None)
    if page is None:
        return False
    ctx.extra["route"] = page.route
    await send({"type": "http.response.start", "status": page.status,
                "headers": list(page.headers)})
    await send({"type": "http.response.body", "body": page.body})
    return True


def _cache_header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    value = next((v for k, v in headers if k == name), None)
    return None if value is None else value.decode("latin-1")


def _capturing(scope: Scope, ctx: RequestContext, send: Send) -> Send:
    """A send that stores the response in the page cache if the route marked it cacheable."""
    tags: frozenset[str] = frozenset()
    params: tuple[str, ...] = ()
    status = 0
    kept: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    generation = ctx.kernel.page_cache.generation

    async def capture(message: Message) -> None:
        nonlocal tags, params, status, kept
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = message.get("headers", [])
            raw_tags = _cache_header(headers, TAGS_HEADER)
            raw_params = _cache_header(headers, QUERY_HEADER)
            kept = [(k, v) for k, v in headers if k != TAGS_HEADER and k != QUERY_HEADER]
            sets_cookie = any(k == b"set-cookie" for k, _ in kept)
            if raw_tags is not None and status == 200 and not sets_cookie:
                tags = frozenset((*raw_tags.split(), *ctx.extra.get(EXTRA_TAGS, ())))
                params = tuple(sorted(set((raw_params or "").split())))
            message["headers"] = [*kept, _CACHE_MISS]
        elif message["type"] == "http.response.body" and tags:
            chunks.append(message.get("body", b""))
            session = ctx.session
            if not message.get("more_body") and not (session is not None and session.modified):
                _store(scope, ctx, status, kept, b"".join(chunks), tags, params, generation)
        await send(message)

    return capture


def _store(
    scope: Scope,
    ctx: RequestContext,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    tags: frozenset[str],
    params: tuple[str, ...],
    generation: int,
) -> None:
    """Store a page with the headers every hit sends but the per-request ones."""
    hit_headers = list(headers)
    _add_security_headers(hit_headers)
    hit_headers.append(_CACHE_HIT)
    ctx.kernel.page_cache.put(
        scope["path"], scope.get("query_string", b""), status=status, headers=hit_headers,
        body=body, tags=tags, params=params, route=_route(scope), generation=generation,
    )


def _route(scope: Scope) -> str:
    """The matched route's template: one of the router's own, never a request's path."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE


def _cookie(ctx: RequestContext, name: str, value: str | None) -> str:
    settings = ctx.kernel.settings
    parts = [f"{name}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
    parts.append(f"Max-Age={settings.session_ttl_seconds if value else 0}")
    if ctx.secure:
        parts.append("Secure")
    return "; ".join(parts)


def _preview_cookie(ctx: RequestContext, token: str | None) -> str:
    """Keeps a preview link's token for this browser session, or (None) forgets it."""
    parts = [f"{PREVIEW_COOKIE}={token or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if token is None:
        parts.append("Max-Age=0")
    if ctx.secure:
        parts.append("Secure")
    return "; ".join(parts)


def _observe(scope: Scope, ctx: RequestContext, status: int) -> None:
    """Step 2's other half: latency metrics and the slow-request log."""
    profile = ctx.profile
    elapsed = profile.elapsed()
    template = ctx.extra.get("route") or _route(scope)
    ctx.kernel.metrics.observe_request(scope["method"], template, status, elapsed, profile.db_time)
    if elapsed * 1000 >= ctx.kernel.settings.slow_request_ms:
        log.warning(
            "slow request",
            extra={
                "data": {
                    "request_id": ctx.request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    **profile.as_dict(),
                }
            },
        )
