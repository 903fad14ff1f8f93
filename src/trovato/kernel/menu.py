"""Plugin menu routes: the paths plugins declare in ``tap_menu``, routed to their callbacks.

The entries are read by the plugin manager on every refresh (:attr:`PluginManager.menus`), so
enabling a plugin adds its pages in every process without a restart; this module only turns
them into a table of path patterns. Static kernel routes always win: the menu router only sees
paths no kernel route matched. Permissions are not checked here but at the callback, for every
caller (see :mod:`trovato.plugins.menus`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trovato.plugins import PluginManager
from trovato.plugins.menus import MenuEntry

_WILDCARD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class MenuRoute:
    entry: MenuEntry
    pattern: re.Pattern[str]
    static_segments: int  # more literal segments = more specific

    @classmethod
    def from_entry(cls, entry: MenuEntry) -> MenuRoute:
        parts = []
        for segment in entry.path.split("/"):
            match = _WILDCARD.fullmatch(segment)
            parts.append(f"(?P<{match.group(1)}>[^/]+)" if match else re.escape(segment))
        return cls(
            entry=entry,
            pattern=re.compile("/" + "/".join(parts)),
            static_segments=sum(1 for s in entry.path.split("/") if not _WILDCARD.fullmatch(s)),
        )


class MenuRouter:
    def __init__(self, plugins: PluginManager) -> None:
        self.plugins = plugins
        self._routes: list[MenuRoute] = []
        self._built_for: tuple[MenuEntry, ...] | None = None

    def routes(self) -> list[MenuRoute]:
        """The current menu table (rebuilt when the plugins' menus changed)."""
        entries = self.plugins.menus
        if entries is not self._built_for:
            routes = [MenuRoute.from_entry(entry) for entry in entries]
            # Most literal segments first, so "blog/archive" wins over "blog/{year}".
            routes.sort(key=lambda r: (-r.static_segments, -len(r.entry.path)))
            self._routes, self._built_for = routes, entries
        return self._routes

    def match(self, path: str, method: str) -> tuple[MenuEntry | None, dict[str, str]]:
        """The entry and its wildcard values. No entry: ``(None, {})`` for an unknown path,
        ``(None, {"allowed": method})`` when the path exists for another method."""
        other_method: dict[str, str] = {}
        for route in self.routes():
            found = route.pattern.fullmatch(path.rstrip("/") or "/")
            if found is None:
                continue
            if route.entry.method == method or (method == "HEAD" and route.entry.method == "GET"):
                return route.entry, found.groupdict()
            other_method = {"allowed": route.entry.method}
        return None, other_method
