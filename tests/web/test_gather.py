"""Gather's page and feed displays at their own paths: styles, the exposed-filter GET form
round trip, pagers, escaping, feeds that are well-formed RSS 2.0 and Atom, cache headers; and
paths no listing claims still reach the plugins' pages (404 here)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import httpx

from tests.api.conftest import login_as
from tests.web.test_item import _item, _site

ATOM = "{http://www.w3.org/2005/Atom}"


async def _listing(client: httpx.AsyncClient, headers: dict[str, str], **changes: Any) -> None:
    definition = {
        "name": "news", "label": "News <b>desk</b>",
        "filters": [{"field": "type", "op": "equals", "value": "article"},
                    {"field": "title", "op": "contains", "exposed": "q", "label": "Title"},
                    {"field": "field_tags", "op": "equals", "exposed": "tag",
                     "options": ["x", "y"]}],
        "sorts": [{"field": "title"}],
        "pager": {"type": "full", "per_page": 2},
        "fields": ["field_count", "author"],
        "empty_text": "Nothing <i>here</i>.",
        "displays": {"page": {"path": "/news", "style": "teasers"},
                     "feed": {"path": "/news.xml", "format": "rss"}},
        **changes,
    }
    response = await client.put("/api/v1/gather-definitions/news", json=definition,
                                headers=headers)
    assert response.status_code == 200, response.text


def _titles(text: str) -> list[str]:
    return re.findall(r'<a href="/item/[^"]+">([^<]*)</a>', text)


async def test_page_display_styles_form_and_pager(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    for n, title in enumerate(["<script>x</script>", "apple", "banana", "cherry"]):
        await _item(client, headers, title=title, fields={
            "field_count": {"value": n % 3},
            "field_body": {"value": "Body text", "format": "plain_text"}})
    await _listing(client, headers)
    client.cookies.clear()
    page = await client.get("/news")
    assert page.status_code == 200
    assert "News &lt;b&gt;desk&lt;/b&gt;" in page.text and "<script>x" not in page.text
    assert "item--teaser" in page.text and 'href="/news?page=1"' in page.text
    # The exposed filters as a GET form to the listing's own path, without a CSRF token.
    form = re.search(r'<form[^>]*method="get"[^>]*action="/news"[^>]*>.*?</form>', page.text,
                     re.S)
    assert form and 'name="q"' in form[0] and 'name="tag"' in form[0]
    assert "csrf_token" not in form[0] and '<option value="y"' in form[0]
    assert '<option value="" selected>- Any -</option>' in form[0]  # a filter, not a choice
    assert page.headers["x-trovato-cache"] == "MISS"
    # The form's submission is the page with the filter applied and the value shown again.
    filtered = await client.get("/news", params={"q": "an", "tag": ""})
    assert filtered.status_code == 200 and 'value="an"' in filtered.text
    assert [t for t in _titles(filtered.text) if t] == ["banana"]
    bad = await client.get("/news", params={"tag": "z"})
    assert bad.status_code == 400 and "tag" in bad.text
    assert (await client.get("/news?page=2")).status_code == 404
    empty = await client.get("/news", params={"q": "zzz"})
    assert "Nothing &lt;i&gt;here&lt;/i&gt;." in empty.text
    # The table style shows the definition's fields as columns; list style links titles.
    headers = await login_as(client, "root")
    await _listing(client, headers, displays={"page": {"path": "/news", "style": "table"}})
    client.cookies.clear()
    table = await client.get("/news")
    assert "<table" in table.text and "field_count" in table.text and "root" in table.text
    assert "&lt;script&gt;x&lt;/script&gt;" in table.text
    headers = await login_as(client, "root")
    await _listing(client, headers, pager={"type": "mini", "per_page": 3},
                   displays={"page": {"path": "/news", "style": "list"}})
    client.cookies.clear()
    listed = await client.get("/news")
    assert "gather--list" in listed.text and 'href="/news?page=1">Next' in listed.text
    second = await client.get("/news?page=1")
    assert _titles(second.text)[-1:] == ["cherry"] and ">Previous<" in second.text
    # A path no listing claims is the plugins' (none here: 404); a removed listing's too.
    assert (await client.get("/nothing-here")).status_code == 404
    headers = await login_as(client, "root")
    await client.delete("/api/v1/gather-definitions/news", headers=headers)
    client.cookies.clear()
    assert (await client.get("/news")).status_code == 404


async def test_feeds_are_well_formed_rss_and_atom(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _item(client, headers, title="Fish & <chips>", promote=True, fields={
        "field_body": {"value": "<p>Crisp & hot</p>", "format": "filtered_html"}})
    await _item(client, headers, title="Draft", promote=True, status=0)
    client.cookies.clear()
    rss = await client.get("/rss.xml")  # the front page listing's feed
    assert rss.status_code == 200 and rss.headers["content-type"].startswith(
        "application/rss+xml")
    root = ElementTree.fromstring(rss.content)  # noqa: S314 - our own response
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert channel.findtext(required)
    # RSS 2.0: the channel's link is the HTML page the feed stands for, here the front page.
    assert channel.findtext("link") == "http://testserver/"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Fish & <chips>"]
    assert items[0].findtext("description") == "Crisp & hot"
    assert re.match(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$",
                    items[0].findtext("pubDate") or "")
    headers = await login_as(client, "root")
    await _listing(client, headers, displays={"feed": {"path": "/news.xml",
                                                       "format": "atom"}})
    client.cookies.clear()
    atom = await client.get("/news.xml")
    feed = ElementTree.fromstring(atom.content)  # noqa: S314 - our own response
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{required}")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1  # the draft is not in anybody's feed
    for required in ("id", "title", "updated"):
        assert entries[0].findtext(f"{ATOM}{required}")
    assert entries[0].find(f"{ATOM}author/{ATOM}name") is not None


async def test_a_path_placeholder_is_the_listing_argument(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    for title, count in (("one", 1), ("two", 2), ("another one", 1)):
        await _item(client, headers, title=title, fields={
            "field_count": {"value": count},
            "field_body": {"value": "Body text", "format": "plain_text"}})
    response = await client.put("/api/v1/gather-definitions/counted", headers=headers, json={
        "name": "counted", "label": "Counted",
        "filters": [{"field": "field_count", "op": "equals", "argument": "n",
                     "default": "not_found"}],
        "sorts": [{"field": "title"}],
        "displays": {"page": {"path": "/counted/{n}", "style": "list"}, "json": {}}})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    page = await client.get("/counted/1")
    assert page.status_code == 200 and _titles(page.text) == ["another one", "one"]
    assert _titles((await client.get("/counted/2/")).text) == ["two"]
    for missing in ("/counted/x", "/counted", "/counted/1/more"):
        assert (await client.get(missing)).status_code == 404, missing
    # The JSON display takes it as a query parameter.
    listed = await client.get("/api/v1/gather/counted", params={"n": "2"})
    assert [i["title"] for i in listed.json()["items"]] == ["two"]
    assert (await client.get("/api/v1/gather/counted")).status_code == 404


async def test_relationship_columns_and_user_and_tag_pages(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _item(client, headers, title="apple", fields={
        "field_body": {"value": "Body", "format": "plain_text"}})
    await _listing(client, headers, relationships=[{"name": "writer", "field": "author"}],
                   fields=["writer.name"],
                   displays={"page": {"path": "/news", "style": "table"}})
    client.cookies.clear()
    table = await client.get("/news")
    assert table.status_code == 200
    assert "writer.name" in table.text and '<td data-label="writer.name">root</td>' in table.text
    # Users: names linking to profiles, for readers who may see profiles.
    headers = await login_as(client, "root")
    people = await client.put("/api/v1/gather-definitions/people", headers=headers, json={
        "name": "people", "label": "People", "base": "user", "fields": ["name", "created"],
        "displays": {"page": {"path": "/people", "style": "table"}}})
    assert people.status_code == 200, people.text
    page = await client.get("/people")
    assert page.status_code == 200
    assert re.search(r'<a href="/user/[0-9a-f-]+">root</a>', page.text)
    client.cookies.clear()
    assert (await client.get("/people")).status_code in (401, 403)
    # Tags: names (escaped) linking to their pages; teasers fall back to a list.
    headers = await login_as(client, "root")
    await client.post("/api/v1/categories/vocabularies", json={"id": "topics", "label": "T"},
                      headers=headers)
    tag = await client.post("/api/v1/categories/tags", headers=headers,
                            json={"vocabulary": "topics", "name": "<b>bold</b>"})
    assert tag.status_code == 201, tag.text
    topics = await client.put("/api/v1/gather-definitions/topics", headers=headers, json={
        "name": "topics", "label": "Topics", "base": "tag",
        "displays": {"page": {"path": "/topics"}}})
    assert topics.status_code == 200, topics.text
    client.cookies.clear()
    listed = await client.get("/topics")
    assert listed.status_code == 200 and "gather--list" in listed.text
    assert f'href="/tags/topics/{tag.json()["slug"]}">&lt;b&gt;bold&lt;/b&gt;</a>' in listed.text
    assert "<b>bold" not in listed.text
    # No tag drops a tag listing on every write of a tag: it is never cached, so a renamed
    # tag shows at once.
    headers = await login_as(client, "root")
    renamed = await client.patch(f"/api/v1/categories/tags/{tag.json()['id']}",
                                 json={"name": "plain"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    client.cookies.clear()
    again = await client.get("/topics")
    assert ">plain</a>" in again.text and again.headers.get("x-trovato-cache") != "HIT"
