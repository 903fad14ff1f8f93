"""Tiles on the site's pages: a Gather listing's tile in the sidebar and its page's menu link in
the navigation, shown by path, role, stage and the listing's access; escaped titles; the
anonymous page cache dropped when a tile's items or the placements change."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import login_as
from tests.conftest import create_account, running_app, site_settings
from tests.web.test_item import _item, _site
from trovato.kernel.services import Kernel
from trovato.tiles import TileError
from trovato.users.accounts import CurrentUser
from trovato.users.roles import AUTHENTICATED_ROLE


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(site_settings(db_url)) as c:
        yield c


def _kernel(client: httpx.AsyncClient) -> Kernel:
    return client._transport.app.state.kernel  # type: ignore[attr-defined,no-any-return]


async def _root(client: httpx.AsyncClient) -> CurrentUser:
    kernel = _kernel(client)
    row = await kernel.db.fetchrow("SELECT id FROM users WHERE name = 'root'")
    assert row is not None
    user = await kernel.accounts.load(row["id"])
    assert user is not None
    return user


async def _recent(client: httpx.AsyncClient, headers: dict[str, str], **changes: Any) -> None:
    definition = {
        "name": "recent", "label": "Recent <b>articles</b>",
        "filters": [{"field": "type", "op": "equals", "value": "article"},
                    {"field": "status", "op": "equals", "value": 1}],
        "sorts": [{"field": "created", "direction": "desc"}],
        "displays": {"page": {"path": "/recent", "menu": {"title": "Recent <i>news</i>",
                                                          "weight": 1}},
                     "tile": {"per_page": 2}},
        **changes,
    }
    response = await client.put("/api/v1/gather-definitions/recent", json=definition,
                                headers=headers)
    assert response.status_code == 200, response.text


def _sidebar(text: str) -> str:
    found = re.search(r'<aside class="slot slot--sidebar"[^>]*>(.*?)</aside>', text, re.S)
    return found[1] if found else ""


def _navigation(text: str) -> str:
    found = re.search(r'<nav class="site" aria-label="Main">(.*?)</nav>', text, re.S)
    assert found
    return found[1]


async def test_a_gather_tile_and_its_menu_link(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    first = await _item(client, headers, title="First")
    await _item(client, headers, title="<script>alert(1)</script>")
    await _item(client, headers, title="Third")
    await _recent(client, headers)
    root = await _root(client)
    tiles = _kernel(client).tiles
    placed = await tiles.create(root, {
        "source": "gather:recent", "slot": "sidebar", "title": "<img src=x onerror=alert(1)>",
        "visibility": {"paths": ["/item/*"]}})
    client.cookies.clear()
    page = await client.get(f"/item/{first}")
    assert page.status_code == 200
    sidebar = _sidebar(page.text)
    assert '<section class="tile tile--recent">' in sidebar
    # The newest two, titles escaped, with the override title escaped and a link to the page.
    assert "&lt;img src=x onerror=alert(1)&gt;" in sidebar and "<img" not in sidebar
    assert re.findall(r'<a href="/item/[^"]+">([^<]*)</a>', sidebar) == [
        "Third", "&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert 'href="/recent"' in sidebar
    assert 'aria-label="More: &lt;img src=x onerror=alert(1)&gt;"' in sidebar  # names its list
    # The listing's menu link is in the main navigation, its title escaped.
    assert '<a href="/recent">Recent &lt;i&gt;news&lt;/i&gt;</a>' in _navigation(page.text)
    # Not on a path outside the tile's patterns; the menu is on every site page.
    listing = await client.get("/recent")
    assert _sidebar(listing.text) == "" and "/recent" in _navigation(listing.text)
    # The anonymous page cache keeps the page, and drops it when an item of the tile changes.
    assert (await client.get(f"/item/{first}")).headers["x-trovato-cache"] == "HIT"
    headers = await login_as(client, "root")
    await _item(client, headers, title="Fourth")
    client.cookies.clear()
    again = await client.get(f"/item/{first}")
    assert again.headers["x-trovato-cache"] == "MISS"
    assert ">Fourth</a>" in _sidebar(again.text)
    assert (await client.get(f"/item/{first}")).headers["x-trovato-cache"] == "HIT"
    # Changing the placement drops cached pages too: the tile is gone at once.
    await tiles.update(root, placed.id, {"source": "gather:recent", "slot": "sidebar",
                                         "enabled": False})
    gone = await client.get(f"/item/{first}")
    assert gone.headers["x-trovato-cache"] == "MISS" and _sidebar(gone.text) == ""
    await tiles.delete(root, placed.id)
    assert await tiles.all(root) == []


async def test_tiles_show_by_role_stage_and_the_listings_access(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    await _item(client, headers, title="Only item")
    await _recent(client, headers)
    await create_account(client, "reader")
    root = await _root(client)
    tiles = _kernel(client).tiles
    await tiles.create(root, {"source": "gather:recent", "slot": "footer", "title": "Members",
                              "visibility": {"roles": [str(AUTHENTICATED_ROLE)]}})
    await tiles.create(root, {"source": "gather:recent", "slot": "sidebar", "title": "Drafts",
                              "visibility": {"stages": ["draft"]}})
    client.cookies.clear()
    anonymous = await client.get("/")
    assert "Members" not in anonymous.text and "Drafts" not in anonymous.text
    await login_as(client, "reader")
    member = await client.get("/")
    assert ">Members</h2>" in member.text and ">Only item</a>" in member.text
    # A stage is a visibility rule: the tile shows to readers of that stage only.
    kernel = _kernel(client)
    await kernel.stages.create(root, "draft", "Draft")
    in_draft = await kernel.tiles.page(root, "/", "draft")
    assert [t.slot for t in in_draft.tiles] == ["navigation", "footer", "sidebar"]
    in_live = await kernel.tiles.page(root, "/", "live")
    assert [t.slot for t in in_live.tiles] == ["navigation", "footer"]
    # A listing the reader may not see leaves neither its tile nor its menu link.
    headers = await login_as(client, "root")
    await _recent(client, headers, access="administer gather")
    await login_as(client, "reader")
    refused = await client.get("/")
    assert "Members" not in refused.text and 'href="/recent"' not in refused.text
    assert 'href="/recent"' in _navigation((await client.get(
        "/", headers=await login_as(client, "root"))).text)


async def test_placements_are_checked_and_need_the_permission(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    await _recent(client, headers, displays={"page": {"path": "/recent"}})
    await create_account(client, "reader")
    root = await _root(client)
    tiles = _kernel(client).tiles
    for document, part in [
        ({"source": "gather:recent", "slot": "sidebar"}, "source"),  # no tile display
        ({"source": "gather:missing", "slot": "sidebar"}, "source"),
        ({"source": "plugin:nope:x", "slot": "sidebar"}, "source"),
        ({"source": "gather:recent", "slot": "content"}, "slot"),
        ({"source": "gather:recent", "slot": "basement"}, "slot"),
    ]:
        with pytest.raises(TileError) as refused:
            await tiles.create(root, document)
        assert refused.value.status == 422 and part in refused.value.errors
    row = await _kernel(client).db.fetchrow("SELECT id FROM users WHERE name = 'reader'")
    assert row is not None
    reader = await _kernel(client).accounts.load(row["id"])
    assert reader is not None
    with pytest.raises(TileError) as refused:
        await tiles.all(reader)
    assert refused.value.status == 403
    with pytest.raises(TileError) as refused:
        await tiles.get(root, uuid.uuid4())
    assert refused.value.status == 404
    assert await _kernel(client).db.fetchval("SELECT count(*) FROM tile") == 0


async def test_error_pages_show_the_menu_and_tiles(client: httpx.AsyncClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    headers = await _site(client)
    await _item(client, headers, title="First")
    await _recent(client, headers)
    root = await _root(client)
    kernel = _kernel(client)
    await kernel.tiles.create(root, {"source": "gather:recent", "slot": "sidebar"})
    client.cookies.clear()
    # A 404 and a 403 look like the site's other pages: the main menu, the sidebar's tiles.
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert '<a href="/recent">' in _navigation(missing.text)
    assert ">First</a>" in _sidebar(missing.text)
    refused = await client.get("/admin")
    assert refused.status_code == 403
    assert '<a href="/recent">' in _navigation(refused.text) and ">First</a>" in _sidebar(
        refused.text)
    # A failing tiles read leaves the error page without them, never a crash.

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tiles down")

    monkeypatch.setattr(kernel.tiles, "page", broken)
    plain = await client.get("/no/such/other/page")
    assert plain.status_code == 404 and "<h1>" in plain.text
    assert _sidebar(plain.text) == "" and "/recent" not in _navigation(plain.text)
