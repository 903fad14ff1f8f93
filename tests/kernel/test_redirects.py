"""Redirects in the request path: a GET or HEAD that would get its 404 page answers with the
redirect of its path (status and Location), nothing else does (other methods, the API, pages
that exist), and the anonymous page cache never keeps a page from them."""

from __future__ import annotations

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.kernel.test_page_cache import _article
from tests.plugins.conftest import kernel_of
from trovato.routing import Redirects


def _redirects(client: httpx.AsyncClient) -> Redirects:
    redirects: Redirects = kernel_of(client).redirects
    return redirects


async def test_a_missing_page_redirects_on_get_and_head(client: httpx.AsyncClient) -> None:
    assert (await client.get("/old-page")).status_code == 404
    # Added after the path was a 404 for anonymous visitors: it applies at once.
    await _redirects(client).create("/old-page", "/new-page?from=old", 301, actor=None)
    for response in (await client.get("/old-page"), await client.head("/old-page"),
                     await client.get("/old-page/"), await client.get("/old-page?x=1")):
        assert response.status_code == 301
        assert response.headers["location"] == "/new-page?from=old"  # no query carried over
        assert response.headers["cache-control"] == "max-age=60"  # the page cache's time
        assert "x-trovato-cache" not in response.headers or \
            response.headers["x-trovato-cache"] == "MISS"
    await _redirects(client).create("/gone", "https://example.com/moved", 307, actor=None)
    moved = await client.get("/gone")
    assert (moved.status_code, moved.headers["location"]) == (307, "https://example.com/moved")
    assert (await client.get("/other")).status_code == 404
    for odd in ("/old-page%00", "/old-page%0d%0a"):  # refused first, or not looked up
        response = await client.get(odd)
        assert response.status_code in (400, 404) and "location" not in response.headers


async def test_other_methods_are_not_redirected(client: httpx.AsyncClient) -> None:
    await _redirects(client).create("/form-target", "/new", 308, actor=None)
    headers = await admin_headers(client)
    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(method, "/form-target", headers=headers)
        assert response.status_code in (404, 405), method
        assert "location" not in response.headers


async def test_unicode_paths_match_decoded_and_redirect_encoded(
        client: httpx.AsyncClient) -> None:
    await _redirects(client).create("/caf%C3%A9/menü", "/thé", 302, actor=None)
    response = await client.get("/caf%C3%A9/men%C3%BC")
    assert response.status_code == 302
    assert response.headers["location"] == "/th%C3%A9"
    assert (await client.get("/cafe/menu")).status_code == 404


async def test_pages_that_exist_are_never_shadowed(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    item_id = await _article(client, headers, "Still here")
    redirects = _redirects(client)
    await redirects.create(f"/item/{item_id}", "/elsewhere", 301, actor=None)
    await redirects.create("/search", "/elsewhere", 301, actor=None)
    client.cookies.clear()  # anonymous: the page cache takes part
    for _ in range(2):  # rendered, then from the cache
        page = await client.get(f"/item/{item_id}")
        assert page.status_code == 200 and "Still here" in page.text
    assert page.headers["x-trovato-cache"] == "HIT"
    assert (await client.get("/search")).status_code == 200
    # The item is deleted: its page is dropped from the cache and its old address redirects.
    headers = await login_as(client, "root")
    deleted = await client.delete(f"/api/v1/items/{item_id}", headers=headers)
    assert deleted.status_code in (200, 204), deleted.text
    client.cookies.clear()
    gone = await client.get(f"/item/{item_id}")
    assert (gone.status_code, gone.headers["location"]) == (301, "/elsewhere")


async def test_the_api_answers_its_own_404(client: httpx.AsyncClient) -> None:
    # No source may be under /api; a row written past the service still never answers there.
    await kernel_of(client).db.execute(
        "INSERT INTO redirect (source, destination) VALUES ('/api/v1/nothing', '/x')")
    response = await client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
