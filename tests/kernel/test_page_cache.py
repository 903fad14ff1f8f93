"""The anonymous full-page cache: hits, what is never cached, and cross-process invalidation."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import api_login, create_account, running_app, site_settings


async def _installed(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)


async def test_anonymous_front_page_is_served_from_cache(client: httpx.AsyncClient) -> None:
    await _installed(client)
    first = await client.get("/")
    second = await client.get("/")
    assert first.headers["x-trovato-cache"] == "MISS"
    assert second.headers["x-trovato-cache"] == "HIT"
    assert first.text == second.text
    # Every response still gets fresh per-request headers.
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert "frame-ancestors" in second.headers["content-security-policy"]
    assert "x-trovato-cache-tags" not in second.headers


async def test_logged_in_pages_and_other_routes_are_never_cached(
    client: httpx.AsyncClient,
) -> None:
    await _installed(client)
    await api_login(client, "root")
    for _ in range(2):
        page = await client.get("/")
        assert "x-trovato-cache" not in page.headers
        assert "root" in page.text
    client.cookies.clear()
    login = await client.get("/user/login")  # a form page: starts a session, never cached
    assert login.headers.get("x-trovato-cache") in (None, "MISS")
    again = await client.get("/api/v1/users/me")
    assert "x-trovato-cache" not in again.headers


async def test_query_strings_are_separate_entries(client: httpx.AsyncClient) -> None:
    await _installed(client)
    await client.get("/")
    assert (await client.get("/?page=2")).headers["x-trovato-cache"] == "MISS"


async def test_invalidation_reaches_every_process(db_url: str, store_backend: str) -> None:
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await _installed(a)
        for client in (a, b):
            await client.get("/")
            assert (await client.get("/")).headers["x-trovato-cache"] == "HIT"
        kernel_a = a._transport.app.state.kernel  # type: ignore[attr-defined]
        kernel_b = b._transport.app.state.kernel  # type: ignore[attr-defined]
        await kernel_a.page_cache.invalidate(["config"])
        assert (await a.get("/")).headers["x-trovato-cache"] == "MISS"
        # b hears of it through the shared store's pub/sub.
        for _ in range(200):
            if len(kernel_b.page_cache) == 0:
                break
            await asyncio.sleep(0.01)
        assert (await b.get("/")).headers["x-trovato-cache"] == "MISS"


async def test_disabled_by_setting(db_url: str) -> None:
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        await _installed(client)
        await client.get("/")
        assert "x-trovato-cache" not in (await client.get("/")).headers
