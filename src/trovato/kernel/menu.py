"""Plugin menu routes: the paths plugins declare in ``tap_menu``, routed to their callbacks.

The table is rebuilt whenever the set of enabled plugins changes (the plugin manager swaps its
dispatcher then), so enabling a plugin adds its pages in every process without a restart.
Static kernel routes always win: the menu router only sees paths no kernel route matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from trovato.plugins import PluginManager, PluginSession
from trovato.plugins.dispatch import Dispatcher

_WILDCARD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class MenuRoute:
    plugin: str
    path: str  # as declared, e.g. "blog/{year}"
    title: str
    callback: str
    permission: str | None
    method: str
    pattern: re.Pattern[str]
    static_segments: int  # more literal segments = more specific

    @classmethod
    def from_reply(cls, plugin: str, entry: dict[str, Any]) -> MenuRoute:
        path = str(entry["path"]).strip("/")
        parts = []
        for segment in path.split("/"):
            match = _WILDCARD.fullmatch(segment)
            parts.append(f"(?P<{match.group(1)}>[^/]+)" if match else re.escape(segment))
        return cls(
            plugin=plugin,
            path=path,
            title=str(entry.get("title") or ""),
            callback=str(entry["callback"]),
            permission=entry.get("permission"),
            method=str(entry.get("method") or "GET"),
            pattern=re.compile("^/" + "/".join(parts) + r"\Z"),
            static_segments=sum(1 for s in path.split("/") if not _WILDCARD.fullmatch(s)),
        )


class MenuRouter:
    def __init__(self, plugins: PluginManager) -> None:
        self.plugins = plugins
        self._routes: list[MenuRoute] = []
        self._built_for: Dispatcher | None = None

    async def routes(self, session: PluginSession) -> list[MenuRoute]:
        """The current menu table (collected through ``tap_menu`` when plugins changed)."""
        dispatcher = self.plugins.dispatcher
        if dispatcher is not self._built_for:
            outcome = await dispatcher.invoke(session, "menu")
            routes = [
                MenuRoute.from_reply(reply.plugin, entry)
                for reply in outcome.replies
                for entry in reply.value or []
            ]
            # Most literal segments first, so "blog/archive" wins over "blog/{year}".
            routes.sort(key=lambda r: (-r.static_segments, -len(r.path)))
            self._routes, self._built_for = routes, dispatcher
        return self._routes

    async def match(
        self, session: PluginSession, path: str, method: str
    ) -> tuple[MenuRoute | None, dict[str, str]]:
        """The route and its wildcard values. No route: ``(None, {})`` for an unknown path,
        ``(None, {"allowed": method})`` when the path exists for another method."""
        other_method: dict[str, str] = {}
        for route in await self.routes(session):
            found = route.pattern.match(path.rstrip("/") or "/")
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict()
            other_method = {"allowed": route.method}
        return None, other_method
