"""The tap front door: every tap the kernel fires, and every menu callback, goes through
:class:`Taps`, which picks the plugin session the call runs in so no caller opens one.

The session, in order of preference:

1. the current request's, when the call acts for the request's user (in the request's stage,
   when the call names one) and that session is not inside a guest call: every tap of one
   request shares the request's plugin instances;
2. else the one of the enclosing :meth:`Taps.sharing` block for that user (one session for the
   many votes of a listing read from inside a guest call, or for a refresh's taps);
3. else a session of its own for this one call (cron, queue workers, events acting for
   another user, and a tap fired from a host function inside a guest call: a nested call never
   re-enters the busy session), in the stage the call names: the taps of a write in a stage
   read and write in that stage, however the write was reached.

Lifecycle taps (``install``, ``enable``, ``requirements`` …) reach one plugin that may not be
enabled yet: :meth:`Taps.fire_lifecycle` runs them in a session holding just that plugin.

:data:`DISPATCHED` declares where the code base fires each tap (module names, checked by
``tests/plugins/test_taps.py`` against the source); with
:data:`~trovato.plugins.catalogue.NOT_YET_AVAILABLE` it covers the whole catalogue.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from trovato.plugins.catalogue import NOT_YET_AVAILABLE
from trovato.plugins.dispatch import Dispatcher, TapOutcome
from trovato.plugins.host import PluginUser, RequestHost
from trovato.stages import LIVE

if TYPE_CHECKING:
    from trovato.plugins.manager import PluginManager
    from trovato.plugins.session import PluginSession

# Given the acting user's id, the current request's plugin session when the request acts for
# that user (None outside a request or for another user); the kernel supplies it.
RequestSession = Callable[[str], "PluginSession | None"]

# Tap -> the modules that fire it through this door.
DISPATCHED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("install", "uninstall", "enable", "disable", "perm", "menu"),
                    ("trovato.plugins.manager",)),
    "requirements": ("trovato.plugins.requirements",),
    **dict.fromkeys(("item_info", "item_presave", "item_insert", "item_update", "item_delete",
                     "item_access", "stage_publish_before", "stage_publish_after"),
                    ("trovato.content.taps",)),
    **dict.fromkeys(("item_view", "item_view_alter", "preprocess_item"),
                    ("trovato.content.view",)),
    **dict.fromkeys(("user_login", "user_logout", "user_register", "user_delete"),
                    ("trovato.users.accounts",)),  # through its on_event, this door
    "user_update": ("trovato.api.roles", "trovato.users.accounts"),
    **dict.fromkeys(("form_alter", "form_validate", "form_submit", "form_ajax"),
                    ("trovato.forms.service",)),
    **dict.fromkeys(("cron", "queue_info", "queue_worker"), ("trovato.cron",)),
    **dict.fromkeys(("tag_insert", "tag_update", "tag_delete"), ("trovato.categories.taps",)),
    "gather_info": ("trovato.gather.storage",),
    **dict.fromkeys(("gather_alter", "gather_result_alter"), ("trovato.gather.service",)),
    **dict.fromkeys(("tile_info", "tile_view"), ("trovato.tiles.service",)),
}

# The session of the enclosing ``sharing`` block in this task, by acting user id.
_shared: ContextVar[tuple[str, PluginSession] | None] = ContextVar(
    "trovato_shared_plugin_session", default=None)


def _no_request(user_id: str) -> PluginSession | None:
    return None


class Taps:
    """The one way the kernel fires taps (see the module docstring for the session rule)."""

    def __init__(self, plugins: Callable[[], PluginManager], *,
                 request_session: RequestSession = _no_request) -> None:
        # A provider, not the manager: the manager's host functions read items through the
        # content service, whose hooks fire taps through this door (a cycle of construction).
        self._plugins = plugins
        self._request_session = request_session

    def listens(self, tap: str) -> bool:
        """Whether any enabled plugin implements ``tap`` (asked per item on listings)."""
        return tap in self._plugins().dispatcher.listened

    def listens_to_any(self, taps: Iterable[str]) -> bool:
        """Whether any enabled plugin implements one of ``taps``."""
        return not self._plugins().dispatcher.listened.isdisjoint(taps)

    def implementers(self, tap: str) -> tuple[str, ...]:
        """The enabled plugins implementing ``tap``, in call order (what a cache of the
        tap's answers is keyed by)."""
        return self._plugins().dispatcher.implementations(tap)

    def _session(self, user_id: str, stage: str | None = None) -> PluginSession | None:
        """The request's or the ``sharing`` block's session for ``user_id`` (in ``stage``, if
        given), if free."""
        session = self._request_session(user_id)
        if session is not None and not session.busy and stage in (None, session.host.stage):
            return session
        shared = _shared.get()
        if shared is not None and shared[0] == user_id and not shared[1].busy \
                and stage in (None, shared[1].host.stage):
            return shared[1]
        return None

    async def fire(self, tap: str, payload: dict[str, Any] | None = None, *,
                   user: PluginUser | None = None, plugins: Sequence[str] | None = None,
                   stage: str | None = None) -> TapOutcome:
        """Dispatch ``tap`` acting for ``user`` (default anonymous) in ``stage`` (default: the
        session's, else live), to ``plugins`` only if given; an empty outcome, without
        touching the runtime, when no plugin listens."""
        if tap in NOT_YET_AVAILABLE:
            raise KeyError(f"tap {tap!r} is not available yet")
        manager = self._plugins()
        if not manager.dispatcher.implementations(tap):
            return TapOutcome(tap)
        acting = user or PluginUser.anonymous()
        session = self._session(acting.id, stage)
        if session is not None:
            return await manager.dispatcher.invoke(session, tap, payload, plugins=plugins)
        async with manager.session(acting, request_id=tap, stage=stage or LIVE) as own:
            return await manager.dispatcher.invoke(own, tap, payload, plugins=plugins)

    async def fire_lifecycle(self, tap: str, plugin: str,
                             payload: dict[str, Any] | None = None) -> TapOutcome | None:
        """Run lifecycle ``tap`` of ``plugin`` alone, even while it is not enabled yet;
        None when the plugin does not implement it."""
        manager = self._plugins()
        loaded = await manager.load(plugin)
        if tap not in loaded.taps:
            return None
        manager.tables.specs[plugin] = manager.info(plugin).tables
        host = RequestHost(manager.services, PluginUser.anonymous(),
                           request_id=f"{tap}:{plugin}")
        dispatcher = Dispatcher({tap: [plugin]}, manager.metrics)
        async with manager.runtime.session({plugin: loaded}, host) as session:
            return await dispatcher.invoke(session, tap, payload)

    async def call(self, plugin: str, function: str, payload: dict[str, Any], *,
                   user: PluginUser) -> Any:
        """Call ``plugin``'s exported ``function`` (a menu callback) acting for ``user``."""
        manager = self._plugins()
        session = self._session(user.id)
        if session is not None:
            return await manager.dispatcher.call_function(session, plugin, function, payload)
        async with manager.session(user, request_id=function) as own:
            return await manager.dispatcher.call_function(own, plugin, function, payload)

    @contextlib.asynccontextmanager
    async def sharing(self, user: PluginUser, *, request_id: str) -> AsyncIterator[None]:
        """One session for every tap fired for ``user`` inside the block where the request's
        own session cannot serve (none, or it is inside a guest call): without it each vote of
        a listing would instantiate the voting plugins anew."""
        if self._session(user.id) is not None:
            yield
            return
        async with self._plugins().session(user, request_id=request_id) as session:
            token = _shared.set((user.id, session))
            try:
                yield
            finally:
                _shared.reset(token)
