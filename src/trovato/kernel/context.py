"""Per-request state that middleware fills in and routes read: ``request_context(request)``."""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection
from starlette.types import Scope

from trovato.observability.profiler import Profile
from trovato.plugins import PluginSession, PluginUser
from trovato.stages import LIVE

if TYPE_CHECKING:
    from trovato.kernel.services import Kernel
    from trovato.users.accounts import CurrentUser
    from trovato.users.sessions import Session

SCOPE_KEY = "trovato"
Messages = list[tuple[str, str]]  # (kind, text) shown at the top of a page


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes) in an ASGI scope."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


@dataclass(slots=True)
class RequestContext:
    kernel: Kernel
    request_id: str
    profile: Profile
    client_ip: str
    secure: bool
    session: Session | None = None
    user: CurrentUser | None = None
    auth_method: str = "anonymous"  # "session", "token" or "anonymous"
    token_id: uuid.UUID | None = None  # the API token of a "token" request
    stage: str = LIVE
    # A health probe must answer even when the database is down, so it skips every step of
    # the pipeline that reads the database or the store (session, user, stage).
    probe: bool = False
    # An HTML form post whose CSRF token was missing or stale, let through to a route that
    # handles form posts (``csrf.form_post``): it shows the form again, changing nothing.
    csrf_failed: bool = False
    # Flashed messages (trovato.kernel.flash): the signed cookie the request came with, whether
    # a page took its messages, and those this response sets for the next page.
    flash_cookie: str | None = None
    flash_taken: bool = False
    flash_outgoing: Messages | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _plugins: PluginSession | None = None

    def plugin_session(self) -> PluginSession:
        """This request's plugin session, opened on first use (most requests need none) and
        closed by the pipeline when the request ends, dropping every plugin instance."""
        if self._plugins is None:
            self._plugins = self.kernel.plugins.session(
                PluginUser.from_current_user(self.current_user),
                request_id=self.request_id,
                stage=self.stage,
            )
        return self._plugins

    def close_plugin_session(self) -> None:
        if self._plugins is not None:
            session, self._plugins = self._plugins, None
            session.close()

    @property
    def current_user(self) -> CurrentUser:
        if self.user is None:
            raise RuntimeError("the current-user middleware has not run")
        return self.user


_current: ContextVar[RequestContext | None] = ContextVar("trovato_request", default=None)


def bind_request(ctx: RequestContext) -> Token[RequestContext | None]:
    """Make ``ctx`` the current request of this task (the pipeline does, for its lifetime)."""
    return _current.set(ctx)


def unbind_request(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def request_plugin_session(user_id: str) -> PluginSession | None:
    """The current request's plugin session when the request acts for ``user_id`` (the tap
    front door, :class:`~trovato.plugins.taps.Taps`, decides whether it may serve a call).
    None outside a request or for another user: the plugins must see who acts."""
    ctx = _current.get()
    if ctx is None or ctx.user is None or str(ctx.user.id) != user_id:
        return None
    return ctx.plugin_session()


def request_context(conn: HTTPConnection) -> RequestContext:
    ctx = conn.scope.get(SCOPE_KEY)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError("request has no Trovato context (middleware missing)")
    return ctx
