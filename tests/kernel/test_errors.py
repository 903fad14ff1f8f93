"""The one error path: a ServiceError raised under a route becomes problem+json under /api/ and
the site's HTML error page elsewhere, through the kernel's one handler."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.api.conftest import admin_headers
from tests.conftest import site_settings
from trovato.api.routing import Problem
from trovato.app import create_app
from trovato.content.items import ItemError
from trovato.errors import ServiceError
from trovato.plugins import PluginRefused, PluginTrap
from trovato.users.roles import RoleError


async def _invalid(request: Request) -> Response:
    raise RoleError("name", "is already taken", status=409)


async def _detailed(request: Request) -> Response:
    raise ServiceError(
        422,
        "The thing is invalid.",
        errors={"fields.count": "must be a number"},
        extensions={"conflicts": ["a", "b"]},
        headers={"retry-after": "7"},
        debug="Traceback: the developer's detail",
    )


async def _denied(request: Request) -> Response:
    raise ItemError(403, "You may not view this item.")


async def _broken_plugin(request: Request) -> Response:
    raise PluginTrap("tally", "count", "unreachable executed", traceback="in count, line 3")


async def _refused_by_plugin(request: Request) -> Response:
    raise PluginRefused("tally", "count", "Counting is closed today.")


TEST_ROUTES = {
    "invalid": _invalid,
    "detailed": _detailed,
    "denied": _denied,
    "broken-plugin": _broken_plugin,
    "refused-by-plugin": _refused_by_plugin,
}


@asynccontextmanager
async def app_raising(db_url: str, environment: str = "test") -> AsyncIterator[httpx.AsyncClient]:
    """The real app plus routes that raise, at ``/api/v1/test/<name>`` and ``/test/<name>``."""
    app = create_app(site_settings(db_url, environment=environment))
    for name, endpoint in TEST_ROUTES.items():
        for prefix in ("/api/v1/test", "/test"):
            # First: the plugin pages' catch-all route must not see them.
            app.router.routes.insert(0, Route(f"{prefix}/{name}", endpoint))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_raising(db_url) as client:
        yield client


def test_a_service_error_carries_its_problem() -> None:
    error = RoleError("name", "is already taken", status=409)
    assert (error.status, error.message, str(error)) == (
        409,
        "is already taken",
        "name: is already taken",
    )
    assert error.problem_errors() == {"name": "is already taken"}
    assert ServiceError(404).status == 404 and ServiceError(404).problem_errors() == {}
    trap = PluginTrap("tally", "count", "unreachable executed", traceback="line 3")
    # A malfunction's own message is for the log: the client is told which plugin failed.
    assert (trap.status, trap.detail) == (500, "The plugin 'tally' failed (trap).")
    assert trap.message == "unreachable executed" and "line 3" in trap.debug
    refused = PluginRefused("tally", "count", "Closed today.")
    assert (refused.status, refused.detail) == (400, "Closed today.")


async def test_api_errors_are_problem_documents_naming_the_field(site: httpx.AsyncClient) -> None:
    response = await site.get("/api/v1/test/invalid")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://trovato.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "is already taken",
        "instance": "/api/v1/test/invalid",
        "errors": {"name": "is already taken"},
    }
    Problem.model_validate(response.json())  # the document's Problem

    detailed = await site.get("/api/v1/test/detailed")
    assert detailed.status_code == 422
    assert detailed.headers["retry-after"] == "7"
    body = detailed.json()
    assert body["detail"] == "The thing is invalid."
    assert body["errors"] == {"fields.count": "must be a number"}
    assert body["conflicts"] == ["a", "b"]  # a member of the problem beyond RFC 9457's
    assert "Traceback" not in detailed.text  # debug text never goes into a problem document
    Problem.model_validate({**body, "conflicts": []})


async def test_site_errors_are_html_pages(site: httpx.AsyncClient) -> None:
    response = await site.get("/test/invalid")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    assert "<h1" in page and "is already taken" in page

    detailed = await site.get("/test/detailed")
    assert detailed.status_code == 422
    assert detailed.headers["retry-after"] == "7"
    page = html.unescape(detailed.text)
    assert "The thing is invalid." in page and "must be a number" in page
    assert "conflicts" not in page
    assert "the developer's detail" not in page  # not a development site


async def test_a_refusal_of_an_anonymous_api_caller_asks_for_credentials(
    site: httpx.AsyncClient,
) -> None:
    anonymous = await site.get("/api/v1/test/denied")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="trovato"'
    assert anonymous.json()["detail"] == "You may not view this item. Log in or use an API token."
    # A page answers 403: a browser cannot meet a Bearer challenge.
    page = await site.get("/test/denied")
    assert page.status_code == 403 and "www-authenticate" not in page.headers
    await admin_headers(site)
    known = await site.get("/api/v1/test/denied")
    assert known.status_code == 403
    assert known.json()["detail"] == "You may not view this item."


async def test_plugin_errors_take_the_same_path(site: httpx.AsyncClient) -> None:
    refused = await site.get("/api/v1/test/refused-by-plugin")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Counting is closed today."
    broken = await site.get("/api/v1/test/broken-plugin")
    assert broken.status_code == 500
    assert broken.json()["detail"] == "The plugin 'tally' failed (trap)."
    assert "unreachable" not in broken.text
    page = await site.get("/test/broken-plugin")
    assert page.status_code == 500
    assert "The plugin 'tally' failed (trap)." in html.unescape(page.text)
    assert "in count, line 3" not in page.text


async def test_a_development_site_shows_the_debug_text(db_url: str) -> None:
    async with app_raising(db_url, "development") as site:
        page = html.unescape((await site.get("/test/broken-plugin")).text)
        assert "in count, line 3" in page
        assert "the developer's detail" in html.unescape((await site.get("/test/detailed")).text)
        api = await site.get("/api/v1/test/detailed")
        assert "the developer's detail" not in api.text


async def test_service_routes_let_their_errors_through(site: httpx.AsyncClient) -> None:
    """Routes no longer convert: the services' refusals reach the handler with their status,
    field and headers."""
    headers = await admin_headers(site)
    created = await site.post("/api/v1/roles", json={"name": "editor"}, headers=headers)
    assert created.status_code == 201
    again = await site.post("/api/v1/roles", json={"name": "Editor"}, headers=headers)
    assert again.status_code == 409
    assert set(again.json()["errors"]) == {"name"}
    role_id = created.json()["id"]
    unknown = await site.put(
        f"/api/v1/roles/{role_id}/permissions",
        json={"permissions": ["no such thing"]},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"permissions": "unknown permission(s): no such thing"}
    missing = await site.get("/api/v1/items/00000000-0000-7000-8000-000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "No such item."
    page = await site.get("/item/00000000-0000-7000-8000-000000000000")
    assert page.status_code == 404 and "No such item." in page.text
