"""The categories admin (/admin/structure/categories): vocabularies, the tag tree, adding,
editing (a loop refused on the form) and deleting tags, for ``administer categories`` only."""

from __future__ import annotations

import html
import re

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.conftest import create_account

BASE = "/admin/structure/categories"


def _tag_links(html: str) -> dict[str, str]:
    return {name: path for path, name in re.findall(
        rf'<a href="({BASE}/topics/tags/[0-9a-f-]+)">([^<]+)</a>', html)}


async def test_managing_a_vocabulary(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    token = headers["X-CSRF-Token"]
    listing = await client.get(BASE)
    assert listing.status_code == 200 and "There are no vocabularies yet." in listing.text
    made = await client.post(BASE, data={"csrf_token": token, "label": "Topics",
                                         "id": "topics", "hierarchy": "multiple",
                                         "description": ""})
    assert made.status_code == 303 and made.headers["location"] == f"{BASE}/topics"
    created = (await client.get(made.headers["location"])).text
    assert "Created the vocabulary “Topics”." in created  # the name quoted
    taken = await client.post(BASE, data={"csrf_token": token, "label": "Again", "id": "topics",
                                          "hierarchy": "multiple", "description": ""})
    assert taken.status_code == 400 and "exists already" in taken.text
    for name, parents in (("Jazz", []), ("<b>Bebop</b>", ["Jazz"])):
        ids = {}
        if parents:
            page = (await client.get(f"{BASE}/topics")).text
            ids = {n: p.rsplit("/", 1)[1] for n, p in _tag_links(page).items()}
        added = await client.post(f"{BASE}/topics", data={
            "csrf_token": token, "name": name, "description": "", "weight": "0",
            "parents": [ids[p] for p in parents]})
        assert added.status_code == 303, added.text
        shown = (await client.get(added.headers["location"])).text
        assert f"Added the tag “{html.escape(name, quote=False)}”." in shown
    page = (await client.get(f"{BASE}/topics")).text
    assert "&lt;b&gt;Bebop&lt;/b&gt;" in page and "<b>Bebop" not in page
    links = _tag_links(page)
    jazz, bebop = links["Jazz"], links["&lt;b&gt;Bebop&lt;/b&gt;"]
    # Jazz under Bebop would close a loop: refused on the form, naming it.
    loop = await client.post(jazz, data={
        "csrf_token": token, "name": "Jazz", "slug": "jazz", "description": "", "weight": "0",
        "parents": [bebop.rsplit("/", 1)[1]]})
    assert loop.status_code == 400
    shown = loop.text.replace("&#39;", "'")
    assert "would create a loop: Jazz → &lt;b&gt;Bebop&lt;/b&gt; → Jazz" in shown
    renamed = await client.post(jazz, data={
        "csrf_token": token, "name": "Jazz music", "slug": "jazz-music", "description": "x",
        "weight": "2"})
    assert renamed.status_code == 303
    assert "Saved the tag “Jazz music”." in (await client.get(renamed.headers["location"])).text
    assert (await client.get("/tags/topics/jazz-music")).status_code == 200
    # Deleting asks first, saying what stays.
    confirm = await client.get(f"{jazz}/delete")
    assert confirm.status_code == 200
    assert "Are you sure you want to delete the tag “Jazz music”?" in confirm.text
    assert "Its children stay" in confirm.text
    assert f'href="{jazz}/delete"' in (await client.get(jazz)).text
    deleted = await client.post(f"{jazz}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    after = await client.get(f"{BASE}/topics")
    assert "Deleted the tag “Jazz music”." in after.text
    assert "Jazz music" not in _tag_links(after.text)
    assert (await client.get(jazz)).status_code == 404


async def test_only_category_administrators_get_in(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    await create_account(client, "editor")
    await login_as(client, "editor")
    assert (await client.get(BASE)).status_code == 403
    client.cookies.clear()
    assert (await client.get(BASE)).status_code in (403, 303, 401)
