"""The indexed router picks the route Starlette's linear scan picks, for every path of the
application's table, and answers what it does not settle (405, slash redirects, 404) as
Starlette does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.testclient import TestClient

from trovato.app import routes
from trovato.web.router import IndexedRouter, leading_segments

PARAM = re.compile(r"\{[^}]*\}")


def _linear(table: list[BaseRoute], scope: dict[str, Any]) -> BaseRoute | None:
    """Starlette's choice: the first full match, else the first partial one."""
    partial = None
    for route in table:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _paths(table: list[BaseRoute]) -> list[str]:
    """Every route's path with its parameters filled, and variants of it."""
    paths = {"/", "", "/nowhere", "/admin", "/admin/", "/item", "/item/", "//item/x", "/a/b/c/d"}
    for route in table:
        if isinstance(route, Route | Mount):
            for fill in ("x", "123", "00000000-0000-0000-0000-000000000001", "a/b"):
                path = PARAM.sub(fill, route.path) or "/"
                paths.update({path, path + "/", path.rstrip("/") or "/", path + "/more",
                              path + "x", "/assets/trovato.css"})
    return sorted(paths)


def test_the_index_picks_starlettes_route_for_every_path() -> None:
    table = routes()
    router = IndexedRouter(table)
    checked = 0
    for path in _paths(table):
        for method in ("GET", "POST", "DELETE"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            found = router.resolve(scope)
            assert (found[0] if found else None) is _linear(table, scope), (method, path)
            checked += 1
    assert checked > 1000


def test_only_the_routes_a_path_could_match_are_tried() -> None:
    router = IndexedRouter(routes())
    tried = router.candidates("/admin/content")
    assert len(tried) < len(router.routes) / 5
    assert [r.path for r in tried if isinstance(r, Route)][-1] == "/{path:path}"
    assert leading_segments(Route("/item/{id}", lambda r: r)) == ("item",)
    assert leading_segments(Route("/admin/content/bulk", lambda r: r)) == ("admin", "content")
    assert leading_segments(Mount("/assets", routes=[])) == ("assets",)


def _endpoint(name: str) -> Any:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {request.path_params}")
    return endpoint


@pytest.fixture
def client() -> TestClient:
    app = Starlette()
    app.router = IndexedRouter([
        Route("/a/b", _endpoint("ab"), methods=["GET"]),
        Route("/a/{x}", _endpoint("ax"), methods=["GET", "POST"]),
        Route("/c/", _endpoint("c")),
        Route("/r/{rest:path}", _endpoint("rest"), methods=["PUT"]),
    ])
    return TestClient(app)


def test_dispatch_answers_as_starlette(client: TestClient) -> None:
    assert client.get("/a/b").text == "ab {}"
    assert client.post("/a/b").text == "ax {'x': 'b'}"  # the second route, as in table order
    assert client.get("/a/z").text == "ax {'x': 'z'}"
    assert client.delete("/a/z").status_code == 405
    redirected = client.get("/c", follow_redirects=False)
    assert redirected.status_code == 307 and redirected.headers["location"].endswith("/c/")
    assert client.get("/nowhere").status_code == 404
    assert client.get("/r/x/y").status_code == 405
    assert client.put("/r/x/y").text == "rest {'rest': 'x/y'}"


def test_a_route_added_later_is_found(client: TestClient) -> None:
    client.get("/a/b")
    router = client.app.router  # type: ignore[attr-defined]
    router.routes.insert(0, Route("/a/b", _endpoint("new")))
    assert client.get("/a/b").text == "new {}"
