"""``/search`` and ``/api/v1/search`` over HTTP: the form, results, empty state, pager, errors,
access, escaping and the reader's stage."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import admin_headers
from tests.render.xss_corpus import assert_safe

ARTICLE = {"type": "article", "label": "Article", "fields": [
    {"name": "field_body", "type": "text_long", "label": "Body"}]}


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await admin_headers(client)
    response = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert response.status_code == 201, response.text
    return headers


async def _item(client: httpx.AsyncClient, headers: dict[str, str], title: str, text: str,
                status: int = 1) -> str:
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "status": status,
        "fields": {"field_body": {"value": text, "format": "plain_text"}}})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/item/[^"]+">([^<]+)</a>', html)


async def test_the_search_page(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    for n in range(12):
        await _item(client, headers, f"Fern {n:02}", "ferns grow in shade")
    await _item(client, headers, "Hidden fern", "ferns", status=0)
    await _item(client, headers, "<b>Cactus</b>", "dry <script>alert(1)</script> sand")
    client.cookies.clear()  # anonymous from here

    empty = await client.get("/search")
    assert empty.status_code == 200
    assert '<label for="search-q">Search for</label>' in empty.text
    assert 'name="q"' in empty.text and "search-results" not in empty.text

    first = await client.get("/search", params={"q": "ferns"})
    assert first.status_code == 200
    assert "12 results" in first.text
    assert len(_titles(first.text)) == 10 and "Hidden fern" not in first.text
    assert "<mark>ferns</mark>" in first.text
    assert "Article ·" in first.text
    assert 'href="/search?q=ferns&amp;page=1"' in first.text or "page=1" in first.text
    second = await client.get("/search", params={"q": "ferns", "page": "1"})
    assert len(_titles(second.text)) == 2
    assert (await client.get("/search", params={"q": "ferns", "page": "2"})).status_code == 404

    cactus = await client.get("/search", params={"q": "sand"})
    assert "&lt;b&gt;Cactus&lt;/b&gt;" in cactus.text
    assert "<script>alert" not in cactus.text
    assert_safe(cactus.text.split('<ol class="search-results"')[1], "search",
                allowed_tags=frozenset({"li", "h2", "a", "p", "time", "mark", "ol", "nav",
                                        "ul", "span", "div", "main", "footer", "section"}))

    none = await client.get("/search", params={"q": "orchid"})
    assert none.status_code == 200 and "Nothing matches" in none.text

    long = await client.get("/search", params={"q": "x" * 201})
    assert long.status_code == 422
    assert "must be at most 200 characters" in long.text
    assert 'aria-invalid="true"' in long.text


async def test_the_search_api(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item = await _item(client, headers, "Apple pie", "apples & <em>cinnamon</em>")
    await _item(client, headers, "Apple draft", "apples", status=0)
    found = await client.get("/api/v1/search", params={"q": "apple pie"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 1 and body["q"] == "apple pie"
    assert body["results"][0]["id"] == item and body["results"][0]["url"] == f"/item/{item}"
    admin_sees = await client.get("/api/v1/search", params={"q": "apples"})
    assert admin_sees.json()["total"] == 2
    snippet = (await client.get("/api/v1/search", params={"q": "cinnamon"})).json()[
        "results"][0]["snippet"]
    assert snippet == "apples &amp; <mark>cinnamon</mark>"
    client.cookies.clear()
    anonymous = await client.get("/api/v1/search", params={"q": "apples"})
    assert anonymous.json()["total"] == 1
    for params in ({"q": "x" * 201}, {"q": "a", "page": "-1"}, {"q": "a", "limit": "0"},
                   {"q": "a", "limit": "51"}):
        refused = await client.get("/api/v1/search", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/search")).json()["results"] == []


async def test_search_follows_the_stage(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item = await _item(client, headers, "Notice", "old words")
    assert (await client.post("/api/v1/stages", headers=headers,
                              json={"id": "next", "label": "Next"})).status_code == 201
    staged = {**headers, "X-Trovato-Stage": "next"}
    changed = await client.patch(f"/api/v1/items/{item}", headers=staged, json={
        "fields": {"field_body": {"value": "new words", "format": "plain_text"}}})
    assert changed.status_code == 200, changed.text
    live = await client.get("/api/v1/search", params={"q": "new"}, headers=headers)
    assert live.json()["total"] == 0
    there = await client.get("/api/v1/search", params={"q": "new"}, headers=staged)
    assert there.json()["total"] == 1
    assert (await client.get("/api/v1/search", params={"q": "old"}, headers=staged)
            ).json()["total"] == 0


async def test_search_weights_through_the_api(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    path = "/api/v1/item-types/article/search-weights"
    tagged = await _item(client, headers, "Plain title", "kiwi, kiwi and kiwi")
    other = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "kiwi"})
    assert other.status_code == 201
    assert (await client.get(path)).json() == {"weights": {}}
    ranked = (await client.get("/api/v1/search", params={"q": "kiwi"})).json()["results"]
    assert ranked[0]["title"] == "kiwi"  # the title (A) beats the body (D)
    put = await client.put(path, headers=headers, json={"weights": {"field_body": "A"}})
    assert put.status_code == 200, put.text
    assert put.json() == {"weights": {"field_body": "A"}}
    assert (await client.get(path)).json() == {"weights": {"field_body": "A"}}
    # Reindexed at once: three body words at A now outweigh one title word.
    ranked = (await client.get("/api/v1/search", params={"q": "kiwi"})).json()["results"]
    assert [r["id"] for r in ranked] == [tagged, other.json()["id"]]
    bad = await client.put(path, headers=headers, json={"weights": {"field_nope": "A"}})
    assert bad.status_code == 422 and "weights.field_nope" in bad.json()["errors"]
    assert (await client.get(path)).json() == {"weights": {"field_body": "A"}}
    wrong = await client.put(path, headers=headers, json={"weights": {"field_body": "E"}})
    assert wrong.status_code == 422
    missing = await client.get("/api/v1/item-types/nothing/search-weights")
    assert missing.status_code == 404
    client.cookies.clear()
    assert (await client.get(path)).status_code == 401
    assert (await client.put(path, json={"weights": {}})).status_code in (401, 403)


async def test_the_page_and_the_api_stem_words(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _item(client, headers, "Plugins", "running them")
    client.cookies.clear()
    page = await client.get("/search", params={"q": "plugin"})
    assert _titles(page.text) == ["Plugins"]
    api = (await client.get("/api/v1/search", params={"q": "run"})).json()
    assert [r["title"] for r in api["results"]] == ["Plugins"]
    assert api["results"][0]["snippet"] == "<mark>running</mark> them"
