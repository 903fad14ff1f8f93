"""The application's router: Starlette's, trying only the routes a path could match.

Starlette tries every route of the table in order until one matches, three calls or more per
route: with a hundred routes, finding ``/admin/content`` cost more calls than drawing its
filter form. :class:`IndexedRouter` indexes the routes by the literal segments their paths
start with (at most two: ``/admin/content/bulk`` under ``("admin", "content")``,
``/item/{id}`` under ``("item",)``, ``/{path:path}`` under ``()``) and tries, still in table
order, only the routes whose leading segments agree with the request's path. A route whose
leading segments differ from the path's can never match it, so the route found, the 405 for
a known path with another method, the redirect to the path with or without its trailing
slash and the 404 are exactly Starlette's: whatever the candidates do not settle goes to
Starlette's own dispatch.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

DEPTH = 2
"""How many leading path segments the index distinguishes."""

Key = tuple[str, ...]


def leading_segments(route: BaseRoute) -> Key:
    """The literal segments ``route``'s path starts with (up to :data:`DEPTH`); ``()`` for a
    route that may match any path (a parameter first, or not a path route)."""
    if not isinstance(route, Route | Mount):
        return ()
    literal: list[str] = []
    for segment in route.path.split("/")[1:DEPTH + 1]:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that tries only the routes whose leading literal
    segments agree with the request's path, in table order. The index follows the table: a
    route added later re-indexes on the next request."""

    _indexed: tuple[int, int] = (0, -1)
    _by_two: dict[Key, list[BaseRoute]]
    _by_one: dict[str, list[BaseRoute]]
    _any: list[BaseRoute]

    def _reindex(self) -> None:
        keyed = [(leading_segments(route), n, route) for n, route in enumerate(self.routes)]

        def among(*keys: Key) -> list[BaseRoute]:
            return [route for key, _, route in keyed if key in keys]

        self._any = among(())
        self._by_one = {key[0]: among((), key[:1]) for key, _, _ in keyed if key}
        self._by_two = {key: among((), key[:1], key) for key, _, _ in keyed if len(key) == 2}
        self._indexed = (id(self.routes), len(self.routes))

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that could match ``path`` (a route path), in table order."""
        if self._indexed != (id(self.routes), len(self.routes)):
            self._reindex()
        segments = path.split("/", DEPTH + 1)
        if len(segments) < 2 or segments[0]:
            return self.routes
        if len(segments) > DEPTH:
            found = self._by_two.get((segments[1], segments[2]))
            if found is not None:
                return found
        return self._by_one.get(segments[1], self._any)

    def resolve(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route that handles ``scope`` as Starlette picks it (the first full match, else
        the first partial one: a known path with another method), and its child scope."""
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            if match is Match.PARTIAL and partial is None:
                partial = route, child_scope
        return partial

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        found = self.resolve(scope)
        if found is None:  # Starlette's own: the slash redirect or the 404
            await super().app(scope, receive, send)
            return
        route, child_scope = found
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)
