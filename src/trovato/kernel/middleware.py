"""The request pipeline, outermost first (see :data:`PIPELINE`).

Each stage is a small pure-ASGI class (no ``BaseHTTPMiddleware``: it costs a task per request)
that does one thing and records its result in the :class:`RequestContext`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trovato.kernel.context import SCOPE_KEY, RequestContext
from trovato.kernel.errors import error_response
from trovato.observability.profiler import Profile, current_profile

log = logging.getLogger("trovato.request")

HEALTH_PATH = "/health"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Login with JSON needs no CSRF token (there is no session to ride on yet), but a JSON body
# cannot be sent cross-site without a CORS preflight, which we never grant.
_CSRF_EXEMPT = frozenset({("POST", "/api/v1/session")})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestIdMiddleware:
    """Creates the request context and tags the response with ``X-Request-Id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kernel = scope["app"].state.kernel
        settings = kernel.settings
        incoming = _header(scope, b"x-request-id")
        request_id = (
            incoming
            if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
            else secrets.token_hex(8)
        )
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        secure = scope.get("scheme") == "https"
        if settings.trust_proxy_headers:
            forwarded_for = _header(scope, b"x-forwarded-for")
            if forwarded_for:
                ip = forwarded_for.split(",")[0].strip()[:64]
            secure = secure or _header(scope, b"x-forwarded-proto") == "https"
        scope[SCOPE_KEY] = RequestContext(
            kernel=kernel,
            request_id=request_id,
            profile=Profile(),
            client_ip=ip,
            secure=secure,
            probe=scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"),
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class ProfilerMiddleware:
    """Times the request: ``Server-Timing``, latency metrics and a JSON line when slow."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        profile = ctx.profile
        token = current_profile.set(profile)
        status = 500

        async def send_with_timing(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"server-timing", profile.server_timing().encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            current_profile.reset(token)
            elapsed = profile.elapsed()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics = ctx.kernel.metrics
            metrics.request_latency.labels(scope["method"], template, str(status)).observe(
                elapsed
            )
            metrics.db_time.observe(profile.db_time)
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


def request_context_of(scope: Scope) -> RequestContext:
    ctx = scope.get(SCOPE_KEY)
    assert isinstance(ctx, RequestContext)
    return ctx


_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
        b" script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
        b" frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Adds CSP, framing, sniffing and referrer headers (and HSTS behind TLS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = request_context_of(scope).secure

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                for key, value in _SECURITY_HEADERS:
                    if key not in present:  # a route may set a stricter or looser policy
                        headers.append((key, value))
                if secure:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses bodies over ``max_body_bytes`` with 413, by header and while streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = request_context_of(scope).kernel.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(scope, 400, "Invalid Content-Length header.")(
                    scope, receive, send
                )
                return
            if int(declared) > limit:
                await error_response(
                    scope, 413, f"The request body is larger than the limit of {limit} bytes."
                )(scope, receive, send)
                return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await error_response(
                    scope, 413, f"The request body is larger than the limit of {limit} bytes."
                )(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class SessionMiddleware:
    """Loads the session named by the cookie; saves it and sets the cookie if it changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_context_of(scope).probe:
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        kernel = ctx.kernel
        cookie_name = kernel.settings.session_cookie
        raw_cookie = _header(scope, b"cookie")
        sid: str | None = None
        if raw_cookie and cookie_name in raw_cookie:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(raw_cookie)
            except Exception:  # a malformed cookie header is the client's problem, not a 500
                jar = SimpleCookie()
            if cookie_name in jar:
                sid = jar[cookie_name].value
        session = await kernel.sessions.load(sid)
        ctx.session = session
        had_cookie = sid is not None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and (
                session.modified or session.old_sid is not None
            ):
                new_sid = await kernel.sessions.save(session)
                headers = MutableHeaders(scope=message)
                if new_sid is not None:
                    # Re-sent on every save so the browser's expiry follows the store's.
                    headers.append("set-cookie", _cookie(ctx, cookie_name, new_sid))
                    headers.append("cache-control", "private, no-store")
                elif had_cookie:
                    headers.append("set-cookie", _cookie(ctx, cookie_name, None))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(ctx: RequestContext, name: str, value: str | None) -> str:
    settings = ctx.kernel.settings
    parts = [f"{name}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
    parts.append(f"Max-Age={settings.session_ttl_seconds if value else 0}")
    if ctx.secure:
        parts.append("Secure")
    return "; ".join(parts)


class CurrentUserMiddleware:
    """Resolves the user from a Bearer token or the session; anonymous otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_context_of(scope).probe:
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        kernel = ctx.kernel
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            user_id = (
                await kernel.tokens.user_for(secret.strip())
                if scheme.lower() == "bearer"
                else None
            )
            user = await kernel.accounts.load(user_id) if user_id else None
            if user is None:
                await error_response(
                    scope,
                    401,
                    "Invalid or expired API token.",
                    headers={"www-authenticate": 'Bearer realm="trovato"'},
                )(scope, receive, send)
                return
            ctx.user, ctx.auth_method = user, "token"
        else:
            session = ctx.session
            uid = session.user_id if session is not None and session.exists else None
            user = await kernel.accounts.load(uid) if uid else None
            if user is not None:
                ctx.user, ctx.auth_method = user, "session"
            else:
                if uid is not None and session is not None:
                    session.logout()  # the account was blocked or deleted
                ctx.user = await kernel.accounts.anonymous()
        await self.app(scope, receive, send)


class StageMiddleware:
    """Chooses the active stage: ``X-Trovato-Stage``, ``?stage=``, then the session's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_context_of(scope).probe:
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        requested = _header(scope, b"x-trovato-stage")
        if requested is None and b"stage=" in scope.get("query_string", b""):
            values = parse_qs(scope["query_string"].decode("latin-1")).get("stage")
            requested = values[0] if values else None
        if requested is None and ctx.session is not None and ctx.session.exists:
            requested = ctx.session.get("stage")
        if requested and requested != "live":
            user = ctx.current_user
            if not user.can("view stages"):
                await error_response(
                    scope, 403, "You may not view content in other stages."
                )(scope, receive, send)
                return
            exists = await ctx.kernel.db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM stage WHERE id = %s)", (requested,)
            )
            if not exists:
                await error_response(scope, 400, f"Unknown stage {requested!r}.")(
                    scope, receive, send
                )
                return
            ctx.stage = requested
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """Caps state-changing requests per client address (shared across processes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        limit = ctx.kernel.settings.write_rate_limit
        result = await ctx.kernel.store.rate_limits.hit(f"write:ip:{ctx.client_ip}", limit, 60)
        if not result.allowed:
            retry = max(1, int(result.retry_after + 0.999))
            await error_response(
                scope,
                429,
                f"Too many requests; try again in {retry} seconds.",
                headers={"retry-after": str(retry)},
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CSRFMiddleware:
    """Unsafe requests that ride on the session cookie must prove they come from our pages.

    The token is the session's: sent as ``X-CSRF-Token`` (API, scripts) or as the
    ``csrf_token`` form field (HTML forms). Bearer-token calls carry no ambient credentials and
    need none; neither do API calls made without a session cookie.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        ctx = request_context_of(scope)
        path = scope["path"]
        if ctx.auth_method == "token" or (scope["method"], path) in _CSRF_EXEMPT:
            await self.app(scope, receive, send)
            return
        session = ctx.session
        if path.startswith("/api/") and (session is None or not session.exists):
            await self.app(scope, receive, send)
            return
        expected = session.get("csrf") if session is not None and session.exists else None
        supplied = _header(scope, b"x-csrf-token")
        replay: Callable[[], Any] | None = None
        if supplied is None and not path.startswith("/api/"):
            supplied, replay = await _form_token(scope, receive)
        if not expected or not supplied or not secrets.compare_digest(
            str(expected), supplied
        ):
            await error_response(
                scope,
                403,
                "The form has expired or did not come from this site. Reload the page and"
                " try again."
                if not path.startswith("/api/")
                else "Missing or invalid X-CSRF-Token header.",
            )(scope, receive, send)
            return
        await self.app(scope, replay or receive, send)


async def _form_token(scope: Scope, receive: Receive) -> tuple[str | None, Callable[[], Any]]:
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
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    token: str | None = None
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("utf-8", "replace")).get("csrf_token")
        token = values[0] if values else None
    elif content_type == "multipart/form-data":
        probe_sent = False

        async def probe() -> Message:
            nonlocal probe_sent
            if probe_sent:
                return {"type": "http.disconnect"}
            probe_sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(scope, probe).form()
            value = form.get("csrf_token")
            token = value if isinstance(value, str) else None
        except Exception:  # malformed multipart: no token, so the request is refused
            token = None
    return token, replay
