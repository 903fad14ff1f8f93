"""The menu entries plugins declare (``tap_menu``), and the permissions guarding their callbacks.

A menu callback builds a page for the request's user, so the entry's permission belongs to the
callback, not to the route that reaches it: :meth:`CallbackGuard.check` runs before every call
of an exported function, whoever makes it — the menu router for a request to the entry's path
(``Dispatcher.call_function``) or another plugin through ``invoke-plugin``. A callback named by
several entries needs every one of their permissions.

What ``invoke-plugin`` may call: the target's exported functions (``describe().functions``:
the public top-level functions of its ``plugin.py`` and ``@function`` exports; never taps).
A menu callback among them only when the request's user holds its permission(s); a plain
function always (it is the plugin's API to other plugins, and it checks ``ctx.user.can`` itself
when it returns anything a user may not see). A plugin whose ``menu`` tap failed has unknown
callbacks, so none of its functions can be called until its menu is read (fail closed).

The manager reads every enabled plugin's menu once per refresh (:func:`read_menus`), so the
guard and the router's table change together with the set of enabled plugins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trovato.errors import ServiceError

if TYPE_CHECKING:
    from trovato.plugins.dispatch import TapOutcome
    from trovato.plugins.host import PluginUser


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One ``Menu(...)`` a plugin declared (validated by the tap catalogue's schema)."""

    plugin: str
    path: str  # as declared, without surrounding slashes, e.g. "blog/{year}"
    title: str
    callback: str
    permission: str | None
    method: str

    @classmethod
    def from_reply(cls, plugin: str, entry: dict[str, Any]) -> MenuEntry:
        permission = entry.get("permission")
        return cls(plugin=plugin, path=str(entry["path"]).strip("/"),
                   title=str(entry.get("title") or ""), callback=str(entry["callback"]),
                   permission=str(permission) if permission else None,
                   method=str(entry.get("method") or "GET"))


class CallbackRefused(ServiceError):
    """The request's user may not run this function (403); ``message`` says why."""

    def __init__(self, message: str, *, permission: str | None = None) -> None:
        super().__init__(403, message)
        self.permission = permission


class CallbackGuard:
    """Which exported functions are menu callbacks, and the permissions each needs.

    ``plugins`` are those whose menus were read; a function of any other plugin is refused.
    ``None`` (a guard without a plugin manager, as in unit tests of the runtime) trusts every
    plugin to have no callbacks beyond ``entries``.
    """

    def __init__(self, entries: Iterable[MenuEntry] = (),
                 plugins: frozenset[str] | None = None) -> None:
        required: dict[tuple[str, str], set[str]] = {}
        for entry in entries:
            needed = required.setdefault((entry.plugin, entry.callback), set())
            if entry.permission:
                needed.add(entry.permission)
        self._required = {key: tuple(sorted(value)) for key, value in required.items()}
        self._plugins = plugins

    def permissions(self, plugin: str, function: str) -> tuple[str, ...]:
        """The permissions a call of ``plugin``'s ``function`` needs (none: not a guarded
        callback)."""
        return self._required.get((plugin, function), ())

    def check(self, user: PluginUser, plugin: str, function: str) -> None:
        """Raise :class:`CallbackRefused` unless ``user`` may run ``plugin``'s ``function``."""
        if self._plugins is not None and plugin not in self._plugins:
            raise CallbackRefused(f"the menu of plugin {plugin!r} could not be read, so its "
                                  f"functions cannot be called")
        for permission in self.permissions(plugin, function):
            if not user.can(permission):
                raise CallbackRefused(
                    f"You need the permission {permission!r} to do this.",
                    permission=permission)


def read_menus(outcome: TapOutcome, plugins: Iterable[str]) -> tuple[list[MenuEntry],
                                                                     CallbackGuard]:
    """The menu entries of one ``menu`` dispatch over ``plugins``, and their guard.

    A plugin whose ``menu`` tap failed contributes no entries and is left out of the guard's
    plugins, so its functions are refused (fail closed) until the next refresh reads them.
    """
    entries = [MenuEntry.from_reply(reply.plugin, entry)
               for reply in outcome.replies for entry in reply.value or []]
    failed = {failure.plugin for failure in outcome.failures}
    return entries, CallbackGuard(entries, frozenset(plugins) - failed)
