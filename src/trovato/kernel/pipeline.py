"""The request pipeline: one ASGI middleware that runs the kernel's stages in a fixed order.

    request id → profiler → security headers → body limit → session → current user →
    active stage → rate limits → CSRF → routing (→ error pages)

Each stage is a small function that fills in the :class:`RequestContext` or refuses the
request with an error response. They run inside a single middleware rather than as nine
stacked ones because every ASGI layer costs a coroutine and a ``send`` wrapper per request;
here the response headers of all stages are added in one place (:meth:`KernelPipeline._send`).
"""

from __future__ import annotations

import logging
import random
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trovato.kernel.context import SCOPE_KEY, RequestContext, bind_request, unbind_request
from trovato.kernel.errors import error_response
from trovato.kernel.page_cache import TAGS_HEADER
from trovato.observability import load
from trovato.observability.profiler import Profile, current_profile
from trovato.stages import VIEW_STAGES, StageError, is_live
from trovato.users.sessions import Session

log = logging.getLogger("trovato.request")

HEALTH_PATH = "/health"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Login with JSON needs no CSRF token (there is no session to ride on yet), but a JSON body
# cannot be sent cross-site without a CORS preflight, which we never grant.
_CSRF_EXEMPT = frozenset({("POST", "/api/v1/session")})

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

Refusal = Response | None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _BodyTooLargeError(Exception):
    pass


class KernelPipeline:
    """Runs every kernel stage around the router for HTTP requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
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
                started = True
                status = message["status"]
                await self._response_headers(ctx, message)
            await send(message)

        limit = ctx.kernel.settings.max_body_bytes
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
            refusal = _body_limit(scope, ctx)
            if refusal is None and not ctx.probe:
                refusal = await _run_stages(scope, ctx)
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
                return
            app_receive: Receive = limited_receive
            app_send: Send = send_wrapper
            if scope["method"] not in SAFE_METHODS:
                csrf_refusal, app_receive = await _csrf(scope, ctx, limited_receive)
                if csrf_refusal is not None:
                    await csrf_refusal(scope, receive, send_wrapper)
                    return
            else:
                cache_key = _page_cache_key(scope, ctx)
                if cache_key is not None:
                    if await _serve_cached(ctx, cache_key, send_wrapper):
                        return
                    app_send = _capturing(ctx, cache_key, send_wrapper)
            await self.app(scope, app_receive, app_send)
        except _BodyTooLargeError:
            if not started:
                await _too_large(scope, limit)(scope, receive, send_wrapper)
        finally:
            ctx.close_plugin_session()
            load.request_finished()
            unbind_request(bound)
            current_profile.reset(token)
            _observe(scope, ctx, status)

    async def _response_headers(self, ctx: RequestContext, message: Message) -> None:
        headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
        if any(name in _SECURITY_HEADER_NAMES for name, _ in headers):
            # The route set some policy itself (stricter or looser): keep its values.
            present = {name for name, _ in headers}
            headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
        else:
            headers.extend(_SECURITY_HEADERS)
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
        headers.append((b"server-timing", ctx.profile.server_timing().encode()))


def _request_context(scope: Scope) -> RequestContext:
    """Stage 1: the request id, client address and scheme."""
    kernel = scope["app"].state.kernel
    settings = kernel.settings
    incoming = _header(scope, b"x-request-id")
    request_id = (
        incoming
        if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        # Unique, not secret: a fast PRNG avoids a getrandom() syscall per request.
        else f"{random.getrandbits(64):016x}"
    )
    client = scope.get("client")
    ip = client[0] if client else "unknown"
    secure = scope.get("scheme") == "https"
    if settings.trust_proxy_headers:
        forwarded_for = _header(scope, b"x-forwarded-for")
        if forwarded_for:
            ip = forwarded_for.split(",")[0].strip()[:64]
        secure = secure or _header(scope, b"x-forwarded-proto") == "https"
    return RequestContext(
        kernel=kernel,
        request_id=request_id,
        profile=Profile(),
        client_ip=ip,
        secure=secure,
        # A health probe must answer while the database is down, so it skips the stages
        # that read the database or the store.
        probe=scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"),
    )


def _body_limit(scope: Scope, ctx: RequestContext) -> Refusal:
    """Stage 4 (by header; :class:`KernelPipeline` also counts streamed bytes)."""
    declared = _header(scope, b"content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        return error_response(scope, 400, "Invalid Content-Length header.")
    if int(declared) > ctx.kernel.settings.max_body_bytes:
        return _too_large(scope, ctx.kernel.settings.max_body_bytes)
    return None


def _too_large(scope: Scope, limit: int) -> Response:
    detail = f"The request body is larger than the limit of {limit} bytes."
    return error_response(scope, 413, detail)


async def _run_stages(scope: Scope, ctx: RequestContext) -> Refusal:
    """Stages 5-8 in order; the first refusal ends the request."""
    await _session(scope, ctx)
    return (
        await _current_user(scope, ctx)
        or await _stage(scope, ctx)
        or await _rate_limit(scope, ctx)
    )


async def _session(scope: Scope, ctx: RequestContext) -> None:
    """Stage 5: load the session named by the cookie (saved in ``_response_headers``)."""
    kernel = ctx.kernel
    cookie_name = kernel.settings.session_cookie
    raw_cookie = _header(scope, b"cookie")
    sid: str | None = None
    if raw_cookie and cookie_name in raw_cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw_cookie)
        except CookieError:  # a malformed cookie header is the client's problem, not a 500
            jar = SimpleCookie()
        if cookie_name in jar:
            sid = jar[cookie_name].value
    ctx.extra["had_session_cookie"] = sid is not None
    ctx.session = await kernel.sessions.load(sid) if sid is not None else Session(None)


async def _current_user(scope: Scope, ctx: RequestContext) -> Refusal:
    """Stage 6: the user of a Bearer token or of the session; anonymous otherwise."""
    kernel = ctx.kernel
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        user_id = (
            await kernel.tokens.user_for(secret.strip()) if scheme.lower() == "bearer" else None
        )
        user = await kernel.accounts.load(user_id) if user_id else None
        if user is None:
            return error_response(
                scope,
                401,
                "Invalid or expired API token.",
                headers={"www-authenticate": 'Bearer realm="trovato"'},
            )
        ctx.user, ctx.auth_method = user, "token"
        return None
    session = ctx.session
    uid = session.user_id if session is not None and session.exists else None
    user = await kernel.accounts.load(uid) if uid else None
    if user is not None:
        ctx.user, ctx.auth_method = user, "session"
        return None
    if uid is not None and session is not None:
        session.logout()  # the account was blocked or deleted meanwhile
    ctx.user = await kernel.accounts.anonymous()
    return None


async def _stage(scope: Scope, ctx: RequestContext) -> Refusal:
    """Stage 7: the active stage from ``X-Trovato-Stage``, ``?stage=`` or the session."""
    requested = _header(scope, b"x-trovato-stage")
    if requested is None and b"stage=" in scope.get("query_string", b""):
        values = parse_qs(scope["query_string"].decode("latin-1")).get("stage")
        requested = values[0] if values else None
    if requested is None and ctx.session is not None and ctx.session.exists:
        requested = ctx.session.get("stage")
    if not requested:
        return None  # the context starts in live
    try:
        ctx.stage = await ctx.kernel.stages.active(
            requested, may_view_stages=ctx.current_user.can(VIEW_STAGES))
    except StageError as exc:
        return error_response(scope, exc.status, exc.message)
    return None


async def _rate_limit(scope: Scope, ctx: RequestContext) -> Refusal:
    """Stage 8: cap state-changing requests per client address across all processes."""
    if scope["method"] in SAFE_METHODS:
        return None
    limit = ctx.kernel.settings.write_rate_limit
    result = await ctx.kernel.store.rate_limits.hit(f"write:ip:{ctx.client_ip}", limit, 60)
    if result.allowed:
        return None
    retry = max(1, int(result.retry_after + 0.999))
    return error_response(
        scope,
        429,
        f"Too many requests; try again in {retry} seconds.",
        headers={"retry-after": str(retry)},
    )


async def _csrf(
    scope: Scope, ctx: RequestContext, receive: Receive
) -> tuple[Refusal, Receive]:
    """Stage 9: unsafe requests riding on the session cookie must carry its token.

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
    supplied = _header(scope, b"x-csrf-token")
    if supplied is None and not is_api:
        supplied, receive = await _form_token(scope, receive)
    if expected and supplied and secrets.compare_digest(str(expected), supplied):
        return None, receive
    detail = (
        "Missing or invalid X-CSRF-Token header."
        if is_api
        else "The form has expired or did not come from this site. Reload the page and try again."
    )
    return error_response(scope, 403, detail), receive


async def _form_token(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """Read the body once to find ``csrf_token``; return a receive that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)

    def replaying() -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    token: str | None = None
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("utf-8", "replace")).get("csrf_token")
        token = values[0] if values else None
    elif content_type == "multipart/form-data":
        try:
            form = await Request(scope, replaying()).form()
            value = form.get("csrf_token")
            token = value if isinstance(value, str) else None
        except Exception:  # malformed multipart: no token, so the request is refused
            token = None
    return token, replaying()


def _page_cache_key(scope: Scope, ctx: RequestContext) -> tuple[str, str, bytes] | None:
    """The cache key of an anonymous GET of a live page, or None when it must not be cached."""
    page_cache = ctx.kernel.page_cache
    if (
        not page_cache.enabled
        or scope["method"] != "GET"
        or ctx.probe
        or ctx.auth_method != "anonymous"
        or not is_live(ctx.stage)
        or (ctx.session is not None and ctx.session.exists)
    ):
        return None
    return (ctx.stage, scope["path"], scope.get("query_string", b""))


async def _serve_cached(ctx: RequestContext, key: tuple[str, str, bytes], send: Send) -> bool:
    page = ctx.kernel.page_cache.get(key)
    ctx.kernel.metrics.cache_requests.labels("page", "hit" if page else "miss").inc()
    if page is None:
        return False
    headers = [*page.headers, (b"x-trovato-cache", b"HIT")]
    await send({"type": "http.response.start", "status": page.status, "headers": headers})
    await send({"type": "http.response.body", "body": page.body})
    return True


def _capturing(ctx: RequestContext, key: tuple[str, str, bytes], send: Send) -> Send:
    """A send that stores the response in the page cache if the route marked it cacheable."""
    tags: frozenset[str] = frozenset()
    status = 0
    kept: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal tags, status, kept
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = message.get("headers", [])
            raw = next((v for k, v in headers if k == TAGS_HEADER), None)
            kept = [(k, v) for k, v in headers if k != TAGS_HEADER]
            sets_cookie = any(k == b"set-cookie" for k, _ in kept)
            if raw is not None and status == 200 and not sets_cookie:
                tags = frozenset(raw.decode("latin-1").split())
            message["headers"] = [*kept, (b"x-trovato-cache", b"MISS")]
        elif message["type"] == "http.response.body" and tags:
            chunks.append(message.get("body", b""))
            session = ctx.session
            if not message.get("more_body") and not (session is not None and session.modified):
                ctx.kernel.page_cache.put(key, status, kept, b"".join(chunks), tags)
        await send(message)

    return capture


def _cookie(ctx: RequestContext, name: str, value: str | None) -> str:
    settings = ctx.kernel.settings
    parts = [f"{name}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
    parts.append(f"Max-Age={settings.session_ttl_seconds if value else 0}")
    if ctx.secure:
        parts.append("Secure")
    return "; ".join(parts)


def _observe(scope: Scope, ctx: RequestContext, status: int) -> None:
    """Stage 2's other half: latency metrics and the slow-request log."""
    profile = ctx.profile
    elapsed = profile.elapsed()
    route = scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
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
