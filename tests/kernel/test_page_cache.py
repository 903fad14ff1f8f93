"""The anonymous full-page cache: hits, what is never cached, its key and byte bound, expiry, and
invalidation (by tag, and on permission, role and item type changes) in every process."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import api_login, create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.users.permissions import ANONYMOUS_ROLE


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


async def test_only_the_query_parameters_a_route_reads_make_separate_entries(
    db_url: str,
) -> None:
    async with running_app(site_settings(db_url, front_page_items=1)) as client:
        headers = await admin_headers(client)
        await _article(client, headers, "First")
        await _article(client, headers, "Second")
        client.cookies.clear()
        assert (await client.get("/")).headers["x-trovato-cache"] == "MISS"
        # The front page reads ?page=: page 1 is its own entry …
        assert (await client.get("/?page=1")).headers["x-trovato-cache"] == "MISS"
        # … and every other parameter is ignored: these share the entries above.
        for query in ("?n=1", "?utm_source=x&n=2", "?page=1&n=3", "?n=4&page=1",
                      "?page=0&page=1", "?page=1&page=1&page=1"):
            response = await client.get("/" + query)
            assert response.headers["x-trovato-cache"] == "HIT", query
        assert len(kernel_of(client).page_cache) == 2


async def test_unknown_query_parameters_share_an_item_page(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    item_id = await _article(client, headers, "Shared")
    client.cookies.clear()
    assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "MISS"
    for n in range(20):
        page = await client.get(f"/item/{item_id}?n={n}")
        assert page.headers["x-trovato-cache"] == "HIT", n
    assert len(kernel_of(client).page_cache) == 1


async def test_the_cache_is_bounded_in_bytes_and_skips_oversized_pages(db_url: str) -> None:
    bound = 64 * 1024
    settings = site_settings(db_url, page_cache_bytes=bound, page_cache_max_page_bytes=24 * 1024)
    async with running_app(settings) as client:
        headers = await admin_headers(client)
        small = [await _article(client, headers, f"Small {n}", body="words " * 1000)
                 for n in range(8)]
        large = await _article(client, headers, "Large", body="words " * 5000)
        client.cookies.clear()
        cache = kernel_of(client).page_cache
        for item_id in small:
            await client.get(f"/item/{item_id}")
            assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "HIT"
            assert cache.bytes <= bound
        # Eight pages of about 9 KB do not fit in 64 KB: the oldest went first.
        assert 0 < len(cache) < len(small)
        assert (await client.get(f"/item/{small[-1]}")).headers["x-trovato-cache"] == "HIT"
        assert (await client.get(f"/item/{small[0]}")).headers["x-trovato-cache"] == "MISS"
        # A page over the per-page limit is rendered every time and evicts nothing.
        held = len(cache)
        for _ in range(2):
            page = await client.get(f"/item/{large}")
            assert page.status_code == 200 and page.headers["x-trovato-cache"] == "MISS"
        assert len(cache) == held


async def test_expired_pages_are_swept_without_being_asked_for(db_url: str) -> None:
    async with running_app(site_settings(db_url, page_cache_seconds=0.2)) as client:
        await _installed(client)
        await client.get("/")
        cache = kernel_of(client).page_cache
        assert len(cache) == 1
        for _ in range(100):  # nobody asks for "/" again
            if len(cache) == 0:
                break
            await asyncio.sleep(0.02)
        assert len(cache) == 0 and cache.bytes == 0


async def test_a_page_rendered_before_an_invalidation_is_not_stored(db_url: str) -> None:
    async with running_app(site_settings(db_url)) as client:
        await _installed(client)
        cache = kernel_of(client).page_cache
        before = cache.generation
        await cache.invalidate(["config"])  # lands while that page was being rendered
        cache.put("/", b"", status=200, headers=[], body=b"old", tags=frozenset({"config"}),
                  params=(), route="/", generation=before)
        assert len(cache) == 0
        assert (await client.get("/")).headers["x-trovato-cache"] == "MISS"
        assert (await client.get("/")).headers["x-trovato-cache"] == "HIT"


async def test_revoking_access_from_anonymous_drops_cached_pages_everywhere(
    db_url: str, store_backend: str,
) -> None:
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        headers = await admin_headers(a)
        item_id = await _article(a, headers, "Public")
        for client in (a, b):
            client.cookies.clear()
            await client.get(f"/item/{item_id}")
            assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "HIT"
        kept = await _set_anonymous_permissions(a, [])
        a.cookies.clear()
        refused = await a.get(f"/item/{item_id}")
        assert refused.status_code == 403 and refused.headers["x-trovato-cache"] != "HIT"
        for _ in range(200):  # b hears of it through the shared store's pub/sub
            if len(kernel_of(b).page_cache) == 0:
                break
            await asyncio.sleep(0.01)
        assert (await b.get(f"/item/{item_id}")).status_code == 403
        await _set_anonymous_permissions(a, kept)
        a.cookies.clear()
        assert (await a.get(f"/item/{item_id}")).status_code == 200


async def test_deleting_a_role_drops_cached_pages(client: httpx.AsyncClient) -> None:
    await _installed(client)
    await client.get("/")
    assert len(kernel_of(client).page_cache) == 1
    headers = await login_as(client, "root")
    role = (await client.post("/api/v1/roles", json={"name": "editor"}, headers=headers)).json()
    deleted = await client.delete(f"/api/v1/roles/{role['id']}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert len(kernel_of(client).page_cache) == 0


async def test_force_deleting_an_item_type_drops_its_pages_everywhere(
    db_url: str, store_backend: str,
) -> None:
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        headers = await admin_headers(a)
        item_id = await _article(a, headers, "Doomed")
        for client in (a, b):
            client.cookies.clear()
            await client.get(f"/item/{item_id}")
            assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "HIT"
        headers = await login_as(a, "root")
        deleted = await a.delete("/api/v1/item-types/article?force=true", headers=headers)
        assert deleted.status_code in (200, 204), deleted.text
        a.cookies.clear()
        assert (await a.get(f"/item/{item_id}")).status_code == 404
        for _ in range(200):
            if len(kernel_of(b).page_cache) == 0:
                break
            await asyncio.sleep(0.01)
        assert (await b.get(f"/item/{item_id}")).status_code == 404


async def _article(client: httpx.AsyncClient, headers: dict[str, str], title: str,
                   *, body: str = "Body text") -> str:
    """A published, promoted article (creating the type first if needed)."""
    if (await client.get("/api/v1/item-types/article", headers=headers)).status_code == 404:
        created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
        assert created.status_code == 201, created.text
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "status": 1, "promote": True,
        "fields": {"field_body": {"value": body, "format": "plain_text"}}})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _set_anonymous_permissions(client: httpx.AsyncClient,
                                     permissions: list[str]) -> list[str]:
    """Replace the anonymous role's permissions as root; returns what it had."""
    headers = await login_as(client, "root")
    roles = (await client.get("/api/v1/roles", headers=headers)).json()["roles"]
    anonymous = next(r for r in roles if r["id"] == str(ANONYMOUS_ROLE))
    response = await client.put(f"/api/v1/roles/{ANONYMOUS_ROLE}/permissions",
                                json={"permissions": permissions}, headers=headers)
    assert response.status_code == 200, response.text
    return list(anonymous["permissions"])


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


async def test_invalidating_thousands_of_tags_reaches_every_process(
    db_url: str, store_backend: str
) -> None:
    """More tags than one pub/sub message carries (PostgreSQL's NOTIFY: 7999 bytes), as when
    a big stage is published, go out in several messages."""
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await _installed(a)
        await b.get("/")
        kernel_a = a._transport.app.state.kernel  # type: ignore[attr-defined]
        kernel_b = b._transport.app.state.kernel  # type: ignore[attr-defined]
        assert len(kernel_b.page_cache) == 1
        many = [f"item:00000000-0000-7000-8000-{n:012d}" for n in range(2000)]
        await kernel_a.page_cache.invalidate([*many, "config"])  # "config" sorts last
        for _ in range(200):
            if len(kernel_b.page_cache) == 0:
                break
            await asyncio.sleep(0.01)
        assert len(kernel_b.page_cache) == 0


async def test_disabled_by_setting(db_url: str) -> None:
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        await _installed(client)
        await client.get("/")
        assert "x-trovato-cache" not in (await client.get("/")).headers


async def test_an_item_edit_drops_its_page_in_every_process(
    db_url: str, store_backend: str,
) -> None:
    """With PostgreSQL's pub/sub the edit's own statement carries the message (a notification
    delivered at commit: nothing published afterwards); with Redis it is published after the
    commit. Either way every process drops the item's page."""
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        headers = await admin_headers(a)
        item_id = await _article(a, headers, "Before")
        for client in (a, b):
            client.cookies.clear()
            await client.get(f"/item/{item_id}")
            assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "HIT"
        published: list[str] = []
        pubsub = kernel_of(a).store.pubsub
        publish = pubsub.publish

        async def counted(channel: str, message: dict[str, object]) -> None:
            published.append(channel)
            await publish(channel, message)

        pubsub.publish = counted  # type: ignore[method-assign]
        headers = await login_as(a, "root")
        edited = await a.patch(f"/api/v1/items/{item_id}", json={"title": "After"},
                               headers=headers)
        assert edited.status_code == 200, edited.text
        assert published == ([] if store_backend == "postgres" else ["page-cache"])
        a.cookies.clear()
        assert "After" in (await a.get(f"/item/{item_id}")).text
        for _ in range(200):
            if len(kernel_of(b).page_cache) == 0:
                break
            await asyncio.sleep(0.01)
        page = await b.get(f"/item/{item_id}")
        assert page.headers["x-trovato-cache"] == "MISS" and "After" in page.text
