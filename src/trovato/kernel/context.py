"""Per-request state that middleware fills in and routes read: ``request_context(request)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from trovato.observability.profiler import Profile
from trovato.plugins import PluginSession, PluginUser

if TYPE_CHECKING:
    from trovato.kernel.services import Kernel
    from trovato.users.accounts import CurrentUser
    from trovato.users.sessions import Session

SCOPE_KEY = "trovato"


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
    stage: str = "live"
    # A health probe must answer even when the database is down, so it skips every stage of
    # the pipeline that reads the database or the store (session, user, stage).
    probe: bool = False
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


def request_context(conn: HTTPConnection) -> RequestContext:
    ctx = conn.scope.get(SCOPE_KEY)
    if not isinstance(ctx, RequestContext):
        raise RuntimeError("request has no Trovato context (middleware missing)")
    return ctx
