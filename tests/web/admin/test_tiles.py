"""The tiles admin (/admin/structure/tiles): placing a listing's tile with its visibility,
refusals shown on the form with what was typed, editing, removing after a confirmation; for
``administer tiles`` only."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.conftest import create_account

BASE = "/admin/structure/tiles"


async def _listing(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await client.post("/api/v1/item-types", headers=headers,
                                json={"type": "article", "label": "Article"})
    assert created.status_code == 201, created.text
    made = await client.post("/api/v1/items", headers=headers,
                             json={"type": "article", "title": "Tiled news", "status": 1})
    assert made.status_code == 201, made.text
    response = await client.put("/api/v1/gather-definitions/latest", headers=headers, json={
        "name": "latest", "label": "Latest", "displays": {"tile": {"per_page": 3}},
        "filters": [{"field": "type", "op": "equals", "value": "article"}]})
    assert response.status_code == 200, response.text


def _form(**changes: object) -> dict[str, object]:
    return {"source": "gather:latest", "slot": "sidebar", "weight": "0", "title": "",
            "enabled": "1", "paths": "", "hidden_paths": "", "stages": "", **changes}


async def test_placing_editing_and_removing_a_tile(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    token = headers["X-CSRF-Token"]
    await _listing(client, headers)
    empty = await client.get(BASE)
    assert empty.status_code == 200 and "No tiles are placed yet." in empty.text
    assert '<option value="gather:latest"' in empty.text and "Listing: Latest" in empty.text
    assert '<option value="content"' not in empty.text  # the page's own content fills it
    # A bad path pattern is refused next to its input, what was typed kept.
    bad = await client.post(BASE, data={"csrf_token": token,
                                        **_form(paths="/ok\nno slash", title="Kept <b>")})
    assert bad.status_code == 400 and "Must start with /" in bad.text
    assert "Kept &lt;b&gt;" in bad.text
    placed = await client.post(BASE, data={"csrf_token": token, **_form(
        title="News <i>now</i>", paths="/\n/item/*", stages="live")})
    assert placed.status_code == 303 and placed.headers["location"] == BASE
    listing = await client.get(BASE)
    assert "News &lt;i&gt;now&lt;/i&gt;" in listing.text and "/, /item/*" in listing.text
    edit = re.search(rf'<a href="({BASE}/[0-9a-f-]+)">Listing: Latest</a>', listing.text)
    assert edit
    # The front page shows it to an anonymous visitor.
    client.cookies.clear()
    front = await client.get("/")
    assert "News &lt;i&gt;now&lt;/i&gt;" in front.text and ">Tiled news</a>" in front.text
    headers = await login_as(client, "root")
    token = headers["X-CSRF-Token"]
    form = await client.get(edit[1])
    assert form.status_code == 200 and "/item/*" in form.text
    saved = await client.post(edit[1], data={"csrf_token": token, **_form(
        slot="footer", title="Moved", hidden_paths="/")})
    assert saved.status_code == 303
    client.cookies.clear()
    assert "Moved" not in (await client.get("/")).text  # hidden on the front page now
    headers = await login_as(client, "root")
    token = headers["X-CSRF-Token"]
    confirm = await client.get(f"{edit[1]}/delete")
    assert confirm.status_code == 200 and "Remove the tile Moved from the footer slot?" in \
        confirm.text
    removed = await client.post(f"{edit[1]}/delete", data={"csrf_token": token,
                                                           "confirm": "confirm"})
    assert removed.status_code == 303
    assert "No tiles are placed yet." in (await client.get(BASE)).text
    assert (await client.get(edit[1])).status_code == 404


async def test_the_tiles_admin_needs_its_permission(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    await create_account(client, "editor")
    await login_as(client, "editor")
    assert (await client.get(BASE)).status_code == 403
    client.cookies.clear()
    assert (await client.get(BASE)).status_code in (401, 403)


async def test_the_main_menu_links(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    token = headers["X-CSRF-Token"]
    response = await client.put("/api/v1/gather-definitions/news", headers=headers, json={
        "name": "news", "label": "News",
        "displays": {"page": {"path": "/news", "menu": {"title": "News", "weight": 5}}}})
    assert response.status_code == 200, response.text
    menu = await client.get("/admin/structure/menu")
    assert menu.status_code == 200 and "listing news" in menu.text
    bad = await client.post("/admin/structure/menu", data={
        "csrf_token": token, "title": "Evil", "path": "//evil.example", "weight": "0",
        "permission": "access content"})
    assert bad.status_code == 400 and "String should match pattern" in bad.text
    for title, path, permission in (("<b>About</b>", "/about", "access content"),
                                    ("Tiles", "/admin/structure/tiles", "administer tiles")):
        added = await client.post("/admin/structure/menu", data={
            "csrf_token": token, "title": title, "path": path, "weight": "1",
            "permission": permission})
        assert added.status_code == 303, added.text
    client.cookies.clear()
    nav = re.search(r'<div class="menu menu--main item-list">\s*<ul>(.*?)</ul>',
                    (await client.get("/")).text, re.S)
    assert nav
    # Lightest first; escaped; the administrators' link only to who holds its permission.
    assert re.findall(r'<a href="([^"]+)">([^<]*)</a>', nav[1]) == [
        ("/about", "&lt;b&gt;About&lt;/b&gt;"), ("/news", "News")]
    await login_as(client, "root")
    assert 'href="/admin/structure/tiles">Tiles</a></li>' in (await client.get("/")).text
    listing = (await client.get("/admin/structure/menu")).text
    remove = re.search(r'<a href="(/admin/structure/menu/[0-9a-f-]+/delete)">Remove</a>',
                       listing)
    assert remove
    confirm = await client.get(remove[1])
    assert confirm.status_code == 200 and "from the main menu?" in confirm.text
    headers = await login_as(client, "root")
    removed = await client.post(remove[1], data={"csrf_token": headers["X-CSRF-Token"],
                                                 "confirm": "confirm"})
    assert removed.status_code == 303
    assert len(re.findall(r"/delete\">Remove</a>",
                          (await client.get("/admin/structure/menu")).text)) == 1
