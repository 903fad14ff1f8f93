"""Preview links in the request pipeline: a GET with ``?preview=<token>`` reads the link's stage
without an account, a cookie keeps the preview across links, unsafe methods are refused, bad
tokens get a clear 403 page, and the anonymous page cache never mixes a stage with live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.api.conftest import ARTICLE, admin_headers
from tests.conftest import api_login, running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.kernel.pipeline import PREVIEW_COOKIE

LABEL = "Spring <script>alert(1)</script>"


@dataclass
class Site:
    client: httpx.AsyncClient  # anonymous: the admin's cookie is dropped after setup
    url: str  # the preview link
    token: str
    link_id: str
    staged_id: str


async def _item(client: httpx.AsyncClient, headers: dict[str, str], title: str) -> str:
    response = await client.post(
        "/api/v1/items",
        headers=headers,
        json={
            "type": "article",
            "title": title,
            "status": 1,
            "promote": True,
            "fields": {"field_body": {"value": "Body", "format": "plain_text"}},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[Site]:
    async with running_app(site_settings(db_url)) as client:
        headers = await admin_headers(client)
        await kernel_of(client).db.execute(
            "INSERT INTO stage (id, label) VALUES ('spring', %s)", (LABEL,)
        )
        assert (
            await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
        ).status_code == 201
        await _item(client, headers, "Live story")
        staged = await _item(client, {**headers, "X-Trovato-Stage": "spring"}, "Staged story")
        created = await client.post("/api/v1/stages/spring/preview-links", headers=headers)
        assert created.status_code == 201, created.text
        url = created.json()["url"]
        client.cookies.clear()
        yield Site(client, url, url.split("=", 1)[1], created.json()["id"], staged)


def _cookie_header(response: httpx.Response) -> str:
    return "; ".join(v for k, v in response.headers.multi_items() if k == "set-cookie")


async def test_a_preview_link_shows_its_stage_without_an_account(site: Site) -> None:
    client = site.client
    assert site.url.startswith("/?preview=")
    page = await client.get(site.url)
    assert page.status_code == 200
    assert "Staged story" in page.text and "Live story" in page.text
    assert "Log in" in page.text  # no account needed, none given
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-robots-tag"] == "noindex"
    assert "x-trovato-cache" not in page.headers
    cookie = _cookie_header(page)
    assert f"{PREVIEW_COOKIE}={site.token}" in cookie and "HttpOnly" in cookie
    # The banner names the stage (escaped) and the way out.
    assert "You are viewing a preview of stage" in page.text
    assert "Spring &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert 'href="/?preview=end"' in page.text

    # Links on the page keep the preview: the cookie carries it.
    item = await client.get(f"/item/{site.staged_id}")
    assert item.status_code == 200 and "Staged story" in item.text
    assert "You are viewing a preview of stage" in item.text
    assert "set-cookie" not in item.headers  # kept, not re-sent

    # Leaving it: live again, and the cookie is gone.
    left = await client.get(f"/item/{site.staged_id}?preview=end")
    assert left.status_code == 404
    assert "Max-Age=0" in _cookie_header(left)
    front = await client.get("/")
    assert "Staged story" not in front.text and "You are viewing" not in front.text


async def test_bad_tokens_get_a_clear_403_page(site: Site) -> None:
    client = site.client
    flipped = site.token[:10] + ("A" if site.token[10] != "A" else "B") + site.token[11:]
    for token, says in (
        (flipped, "not valid"),
        ("garbage", "not valid"),
        (site.token[:-2], "not valid"),
    ):
        page = await client.get(f"/?preview={token}")
        assert page.status_code == 403, token
        assert says in page.text and "Staged story" not in page.text
        assert "Max-Age=0" in _cookie_header(page)  # nothing to remember
    api = await client.get(f"/api/v1/items?preview={flipped}")
    assert api.status_code == 403
    assert api.headers["content-type"] == "application/problem+json"

    # Expired: a genuine link whose time is up.
    kernel = kernel_of(client)
    link, _ = await kernel.previews.create("spring", None, expires_in=60)
    await kernel.db.execute(
        "UPDATE stage_preview_link SET expires = now() - interval '1 hour' WHERE id = %s",
        (link.id,),
    )
    past = int(
        await kernel.db.fetchval(
            "SELECT extract(epoch FROM expires)::bigint FROM stage_preview_link WHERE id = %s",
            (link.id,),
        )
    )
    expired = await client.get(f"/?preview={kernel.previews.sign(link.id, past)}")
    assert expired.status_code == 403 and "expired" in expired.text


async def test_revoking_ends_a_preview_at_once(site: Site) -> None:
    client = site.client
    assert (await client.get(site.url)).status_code == 200  # the cookie now holds the token
    # The admin revokes it from another client.
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as admin:
        csrf = await api_login(admin, "root")
        listed = await admin.get("/api/v1/stages/spring/preview-links")
        assert [link["id"] for link in listed.json()["links"]] == [site.link_id]
        revoked = await admin.delete(
            f"/api/v1/stages/spring/preview-links/{site.link_id}", headers={"X-CSRF-Token": csrf}
        )
        assert revoked.status_code == 204
    page = await client.get("/")  # carried by the cookie
    assert page.status_code == 403 and "revoked" in page.text
    assert "Max-Age=0" in _cookie_header(page)
    again = await client.get("/")  # the browser forgot it: live
    assert again.status_code == 200 and "Staged story" not in again.text
    assert (await client.get(site.url)).status_code == 403


async def test_a_preview_never_writes(site: Site) -> None:
    client = site.client
    kernel = kernel_of(client)
    count = await kernel.db.fetchval("SELECT count(*) FROM item")
    body = {
        "type": "article",
        "title": "Sneaky",
        "status": 1,
        "fields": {"field_body": {"value": "x", "format": "plain_text"}},
    }
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, f"/api/v1/items?preview={site.token}", json=body)
        assert response.status_code == 403, method
        assert "read-only" in response.json()["detail"]
    form = await client.post(
        f"/user/login?preview={site.token}",
        data={"name": "root", "pass": "correct horse battery staple"},
    )
    assert form.status_code == 403 and "read-only" in form.text
    # A forged token is refused the same way: no write ever reaches a route with one.
    assert (await client.post("/api/v1/items?preview=forged", json=body)).status_code == 403
    # Carried by the cookie: still read-only.
    assert (await client.get(site.url)).status_code == 200
    assert (await client.post("/api/v1/items", json=body)).status_code == 403
    assert (await client.post("/user/logout")).status_code == 403
    assert await kernel.db.fetchval("SELECT count(*) FROM item") == count
    assert (await client.head("/")).status_code == 200  # reading is fine


async def test_the_page_cache_never_mixes_a_stage_and_live(site: Site) -> None:
    client = site.client
    kernel = kernel_of(client)
    assert (await client.get("/")).headers["x-trovato-cache"] == "MISS"
    live = await client.get("/")
    assert live.headers["x-trovato-cache"] == "HIT" and "Staged story" not in live.text

    # A cached live page is never the answer to a preview, by query …
    preview = await client.get(site.url)
    assert "x-trovato-cache" not in preview.headers and "Staged story" in preview.text
    # … or by cookie.
    kept = await client.get("/")
    assert "x-trovato-cache" not in kept.headers and "Staged story" in kept.text
    # Nor to a bad token (a cache key ignores parameters the route does not read).
    client.cookies.clear()
    assert (await client.get("/?preview=forged")).status_code == 403

    # A previewed page is never stored for live visitors.
    kernel.page_cache.clear()
    assert "Staged story" in (await client.get(site.url)).text
    assert "Staged story" in (await client.get("/?page=0")).text
    assert len(kernel.page_cache) == 0
    client.cookies.clear()
    first = await client.get("/")
    assert first.headers["x-trovato-cache"] == "MISS" and "Staged story" not in first.text
    staged = await client.get(f"/item/{site.staged_id}")
    assert staged.status_code == 404


async def test_the_stage_header_and_session_give_way_to_a_preview(site: Site) -> None:
    client = site.client
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('autumn', 'A')")
    # An anonymous visitor may not ask for a stage, but a preview link grants one.
    assert (await client.get("/", headers={"X-Trovato-Stage": "autumn"})).status_code == 403
    page = await client.get(site.url, headers={"X-Trovato-Stage": "autumn"})
    assert page.status_code == 200 and "Staged story" in page.text


async def test_a_preview_grants_its_stage_and_nothing_else(site: Site) -> None:
    client = site.client
    # The stage is private, and the visitor has no account: the link alone lets them read it …
    assert (await client.get(f"/api/v1/items/{site.staged_id}?preview={site.token}")).json()[
        "title"
    ] == "Staged story"
    # … but lists no stages and names none to them.
    stages = await client.get(f"/api/v1/stages?preview={site.token}")
    assert stages.status_code in (200, 401) and "spring" not in stages.text
    kernel = kernel_of(client)
    assert await kernel.db.fetchval("SELECT visibility FROM stage WHERE id = 'spring'") == "private"
