"""Tag pages (/tags/{vocabulary}/{slug}) and free tagging through the item API: the tag's name,
description, breadcrumbs and narrower tags, the items tagged with it (published and visible
only), the pager, 404s, escaping; tags typed by name created or refused."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.web.test_item import _writer

VOCABULARIES = "/api/v1/categories/vocabularies"
TAGS = "/api/v1/categories/tags"
POST: dict[str, Any] = {
    "type": "post",
    "label": "Post",
    "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body"},
        {"name": "field_topics", "type": "reference", "label": "Topics", "cardinality": -1,
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}},
    ],
}


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=POST, headers=headers)
            ).status_code == 201
    assert (await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"},
                              headers=headers)).status_code == 201
    return headers


async def _tag(client: httpx.AsyncClient, headers: dict[str, str], name: str,
               *parents: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(TAGS, json={"vocabulary": "topics", "name": name,
                                             "parents": list(parents), **extra},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _post(client: httpx.AsyncClient, headers: dict[str, str], title: str,
                topics: list[dict[str, str]], status: int = 1) -> httpx.Response:
    return await client.post("/api/v1/items", headers=headers, json={
        "type": "post", "title": title, "status": status,
        "fields": {"field_body": {"value": f"About {title}", "format": "plain_text"},
                   "field_topics": topics}})


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2[^>]*><a href="/item/[^"]+">([^<]+)</a>', html)


async def test_a_tag_page(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    music = await _tag(client, headers, "Music")
    jazz = await _tag(client, headers, "Jazz", music["id"],
                      description="Swing & <b>bop</b>")
    await _tag(client, headers, "Bebop", jazz["id"])
    await _tag(client, headers, "Cool jazz", jazz["id"], weight=-1)
    ref = [{"target_id": jazz["id"], "target_type": "category_tag"}]
    assert (await _post(client, headers, "Kind of Blue", ref)).status_code == 201
    assert (await _post(client, headers, "Hidden draft", ref, status=0)).status_code == 201
    assert (await _post(client, headers, "Untagged", [])).status_code == 201
    client.cookies.clear()
    page = await client.get("/tags/topics/jazz")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>Jazz</h1>" in html
    assert "Swing &amp; &lt;b&gt;bop&lt;/b&gt;" in html
    start = html.index('class="breadcrumb"')
    crumbs = html[start:html.index("</nav>", start)]
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumbs) == [
        ("/", "Home"), ("/tags/topics/music", "Music")]
    narrower = html[html.index('class="tag-children"'):]
    assert narrower.index("Cool jazz") < narrower.index("Bebop")  # by weight
    assert _titles(html) == ["Kind of Blue"]
    # The admin may see unpublished items, but a tag page lists published ones only.
    await login_as(client, "root")
    assert _titles((await client.get("/tags/topics/jazz")).text) == ["Kind of Blue"]
    client.cookies.clear()
    assert _titles((await client.get("/tags/topics/music")).text) == []
    assert "Nothing has been tagged Music yet." in (await client.get("/tags/topics/music")).text


async def test_unknown_tags_and_pages_are_404(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _tag(client, headers, "Jazz")
    client.cookies.clear()
    for path in ("/tags/topics/nope", "/tags/nope/jazz", "/tags/topics/jazz?page=1",
                 "/tags/topics/jazz?page=x"):
        assert (await client.get(path)).status_code == 404, path


async def test_the_pager(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    jazz = await _tag(client, headers, "Jazz")
    ref = [{"target_id": jazz["id"], "target_type": "category_tag"}]
    for n in range(12):
        assert (await _post(client, headers, f"Record {n:02}", ref)).status_code == 201
    client.cookies.clear()
    first = await client.get("/tags/topics/jazz")
    second = await client.get("/tags/topics/jazz?page=1")
    assert len(_titles(first.text)) == 10 and len(_titles(second.text)) == 2
    assert set(_titles(first.text)).isdisjoint(_titles(second.text))
    assert 'href="/tags/topics/jazz?page=1"' in first.text
    assert (await client.get("/tags/topics/jazz?page=2")).status_code == 404


async def test_tag_names_are_escaped(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    parent = await _tag(client, headers, "<script>alert(1)</script>")
    child = await _tag(client, headers, '"><img src=x onerror=alert(2)>', parent["id"])
    client.cookies.clear()
    for tag in (parent, child):
        html = (await client.get(tag["path"])).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (await client.get(child["path"])).text


async def test_free_tagging(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    jazz = await _tag(client, headers, "Jazz")
    made = await _post(client, headers, "Mixed", [{"name": "jazz"}, {"name": "New wave"}])
    assert made.status_code == 201, made.text
    topics = made.json()["fields"]["field_topics"]
    assert topics[0] == {"target_id": jazz["id"], "target_type": "category_tag"}
    new = (await client.get(f"{TAGS}/{topics[1]['target_id']}")).json()
    assert (new["name"], new["slug"], new["vocabulary"]) == ("New wave", "new-wave", "topics")

    # A writer without "create tags" may use existing tags by name, not make new ones.
    await _writer(client, headers, "writer", ["access content", "create post content"])
    writer = await login_as(client, "writer")
    used = await _post(client, writer, "By name", [{"name": "JAZZ"}])
    assert used.status_code == 201, used.text
    refused = await _post(client, writer, "New name", [{"name": "Jazz"}, {"name": "Polka"}])
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "fields.field_topics.1": "there is no tag 'Polka' in 'topics', and you may not create"
                                 " tags"}
    listed = (await client.get(f"{VOCABULARIES}/topics/tags")).json()["tags"]
    assert [t["name"] for t in listed] == ["Jazz", "New wave"]  # nothing half-written
    # A tag of another vocabulary is refused by id, as before.
    headers = await login_as(client, "root")
    await client.post(VOCABULARIES, json={"id": "places", "label": "Places"}, headers=headers)
    rome = (await client.post(TAGS, json={"vocabulary": "places", "name": "Rome"},
                              headers=headers)).json()
    foreign = await _post(client, headers, "Elsewhere",
                          [{"target_id": rome["id"], "target_type": "category_tag"}])
    assert foreign.status_code == 422
    assert "allowed vocabularies: topics" in foreign.json()["errors"]["fields.field_topics.0"]


async def test_a_change_to_the_vocabulary_drops_the_cached_page(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    music = await _tag(client, headers, "Music")
    jazz = await _tag(client, headers, "Jazz", music["id"])
    client.cookies.clear()
    assert "Music" in (await client.get("/tags/topics/jazz")).text  # cached for anonymous
    headers = await login_as(client, "root")
    await client.patch(f"{TAGS}/{music['id']}", json={"name": "Sound"}, headers=headers)
    client.cookies.clear()
    crumbs = (await client.get(jazz["path"])).text
    assert "Sound" in crumbs and ">Music<" not in crumbs


async def test_a_slug_in_another_script_is_an_address(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    tokyo = await _tag(client, headers, "東京")
    assert tokyo["slug"] == "東京" and tokyo["path"] == "/tags/topics/%E6%9D%B1%E4%BA%AC"
    client.cookies.clear()
    page = await client.get(tokyo["path"])
    assert page.status_code == 200 and "<h1>東京</h1>" in page.text


def _queries(response: httpx.Response) -> int:
    match = re.search(r'db;[^,]*desc="(\d+) queries"', response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return int(match.group(1))


async def test_item_pages_show_tags_by_name_linked_to_their_pages(
        client: httpx.AsyncClient) -> None:
    """A tag reference shows the tag's name (escaped) linked to its tag page, never its id;
    the names of all of a page's tags come in one statement, however many there are."""
    headers = await _site(client)
    tags = [await _tag(client, headers, name) for name in ("Jazz & <Blues>", "Bebop", "Swing")]
    one = (await _post(client, headers, "One", [{"target_id": tags[0]["id"]}])).json()["id"]
    three = (await _post(client, headers, "Three", [{"target_id": t["id"]} for t in tags])
             ).json()["id"]
    await client.get(f"/item/{one}", headers=headers)  # warm the type and definition caches
    page = await client.get(f"/item/{one}", headers=headers)
    assert page.status_code == 200
    assert '<a href="/tags/topics/jazz-blues">Jazz &amp; &lt;Blues&gt;</a>' in page.text
    assert tags[0]["id"] not in page.text
    many = await client.get(f"/item/{three}", headers=headers)
    links = re.findall(r'<a href="(/tags/topics/[^"]+)">([^<]+)</a>', many.text)
    assert links == [("/tags/topics/jazz-blues", "Jazz &amp; &lt;Blues&gt;"),
                     ("/tags/topics/bebop", "Bebop"), ("/tags/topics/swing", "Swing")]
    assert _queries(many) == _queries(page)


async def test_deleting_a_tag_takes_it_off_cached_item_pages(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    jazz = await _tag(client, headers, "Jazz")
    bebop = await _tag(client, headers, "Bebop")
    item = (await _post(client, headers, "Tagged", [{"target_id": jazz["id"]},
                                                      {"target_id": bebop["id"]}])).json()["id"]
    client.cookies.clear()
    assert ">Bebop</a>" in (await client.get(f"/item/{item}")).text  # now cached
    headers = await login_as(client, "root")
    assert (await client.delete(f"{TAGS}/{bebop['id']}", headers=headers)).status_code == 204
    client.cookies.clear()
    page = (await client.get(f"/item/{item}")).text
    assert ">Jazz</a>" in page and "Bebop" not in page and bebop["id"] not in page
