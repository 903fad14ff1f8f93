"""Item pages (/item/{id}, /item/{id}/revisions) and the front page listing, without plugins."""

from __future__ import annotations

import re
from typing import Any

import httpx
import psycopg

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account, running_app, site_settings


async def _item(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    payload: dict[str, Any] = {"type": "article", "title": "An article", "status": 1,
                               "fields": {"field_body": {"value": "Body text",
                                                         "format": "plain_text"}}}
    payload.update(body)
    response = await client.post("/api/v1/items", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await admin_headers(client)
    created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert created.status_code == 201, created.text
    return headers


async def _writer(client: httpx.AsyncClient, headers: dict[str, str], name: str,
                  permissions: list[str]) -> None:
    """An account with a role of its own holding ``permissions``."""
    await create_account(client, name)
    headers.update(await login_as(client, "root"))
    role = (await client.post("/api/v1/roles", json={"name": f"role_{name}"},
                              headers=headers)).json()
    await client.put(f"/api/v1/roles/{role['id']}/permissions",
                     json={"permissions": permissions}, headers=headers)
    await login_as(client, name)
    user_id = (await client.get("/api/v1/users/me")).json()["id"]
    headers.update(await login_as(client, "root"))
    response = await client.put(f"/api/v1/users/{user_id}/roles", json={"roles": [role["id"]]},
                                headers=headers)
    assert response.status_code in (200, 204), response.text


async def test_full_view_formats_fields_and_escapes(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, title="<script>alert('t')</script>", fields={
        "field_body": {"value": "<p>Hi <b>there</b></p><script>alert('b')</script>"
                                "<img src=x onerror=alert(1)>",
                       "format": "filtered_html"},
        "field_count": {"value": 7},
        "field_tags": [{"value": "<i>one</i>"}, {"value": "two"}],
    })
    client.cookies.clear()
    page = await client.get(f"/item/{item_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<script>alert" not in text and "onerror" not in text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; | " in text  # <title>, escaped
    assert "<b>there</b>" in text  # filtered_html keeps safe tags
    assert "&lt;i&gt;one&lt;/i&gt;" in text and ">two<" in text  # text fields are escaped
    assert 'class="field__label">Count</div>' in text and ">7<" in text
    assert "item--article" in text and "item--full" in text
    assert "By root" in text
    assert "Powered by Trovato" in text
    # Published items are cached for anonymous visitors under their item:<id> tag.
    assert (await client.get(f"/item/{item_id}")).headers["x-trovato-cache"] == "HIT"
    headers = await login_as(client, "root")
    await client.patch(f"/api/v1/items/{item_id}", json={"title": "Renamed"}, headers=headers)
    client.cookies.clear()
    again = await client.get(f"/item/{item_id}")
    assert again.headers["x-trovato-cache"] == "MISS" and "Renamed" in again.text


async def test_fields_show_through_their_field_types_formatters(
    client: httpx.AsyncClient,
) -> None:
    """List labels, date-times in the reader's zone, email as mailto: the registry's formatter
    for each field type, on the page as on any other view."""
    headers = await admin_headers(client)
    event = {"type": "event", "label": "Event", "fields": [
        {"name": "field_colour", "type": "list", "label": "Colour",
         "settings": {"allowed_values": {"red": "Warm <red>"}}},
        {"name": "field_when", "type": "datetime", "label": "When"},
        {"name": "field_contact", "type": "email", "label": "Contact"},
    ]}
    created = await client.post("/api/v1/item-types", json=event, headers=headers)
    assert created.status_code == 201, created.text
    item_id = await _item(client, headers, type="event", fields={
        "field_colour": {"value": "red"},
        "field_when": {"value": "2024-05-01T10:00:00+02:00"},
        "field_contact": {"value": "ada@example.com"},
    })
    client.cookies.clear()
    text = (await client.get(f"/item/{item_id}")).text
    assert "Warm &lt;red&gt;" in text and ">red<" not in text
    assert ">2024-05-01 08:00<" in text and "2024-05-01T08:00:00Z" not in text  # anonymous: UTC
    assert '<a href="mailto:ada@example.com">ada@example.com</a>' in text


async def test_full_html_renders_as_stored_for_the_kernel(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, fields={
        "field_body": {"value": '<p style="color: red">Styled</p>', "format": "full_html"}})
    page = await client.get(f"/item/{item_id}")
    assert '<p style="color: red">Styled</p>' in page.text


async def test_unknown_and_malformed_items_are_404(client: httpx.AsyncClient) -> None:
    await _site(client)
    assert (await client.get("/item/not-a-uuid")).status_code == 404
    missing = await client.get("/item/01890000-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


async def test_unpublished_items_are_hidden(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _writer(client, headers, "writer", ["access content", "create article content"])
    await create_account(client, "reader")
    mine = await login_as(client, "writer")
    item_id = await _item(client, mine, title="Draft", status=0)
    own = await client.get(f"/item/{item_id}")
    assert own.status_code == 200 and "Unpublished" in own.text
    assert "x-trovato-cache" not in own.headers or own.headers["x-trovato-cache"] != "HIT"
    await login_as(client, "reader")
    assert (await client.get(f"/item/{item_id}")).status_code == 404
    client.cookies.clear()
    hidden = await client.get(f"/item/{item_id}")
    assert hidden.status_code == 404 and "Draft" not in hidden.text
    assert (await client.get(f"/item/{item_id}/revisions")).status_code == 404
    await login_as(client, "root")
    assert (await client.get(f"/item/{item_id}")).status_code == 200


async def test_revisions_page_needs_the_permission(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, title="Versioned", log="first <draft>")
    await client.patch(f"/api/v1/items/{item_id}", json={"title": "Versioned 2",
                                                         "log": "second"}, headers=headers)
    page = await client.get(f"/item/{item_id}/revisions")
    assert page.status_code == 200, page.text
    assert "<table" in page.text and "first &lt;draft&gt;" in page.text
    assert page.text.count('<td data-label="Author">root</td>') == 2
    assert f'href="/item/{item_id}/revisions"' in (await client.get(f"/item/{item_id}")).text
    client.cookies.clear()
    assert (await client.get(f"/item/{item_id}/revisions")).status_code == 403
    assert f"/item/{item_id}/revisions" not in (await client.get(f"/item/{item_id}")).text
    await _writer(client, headers, "auditor", ["access content", "view revisions"])
    await login_as(client, "auditor")
    assert (await client.get(f"/item/{item_id}/revisions")).status_code == 200
    missing = await client.get("/item/01890000-0000-7000-8000-000000000000/revisions")
    assert missing.status_code == 404


def _teaser_titles(text: str) -> list[str]:
    return re.findall(r'<h2 class="item__title"><a href="/item/[^"]+">([^<]*)</a></h2>', text)


async def test_front_page_lists_promoted_teasers_with_a_pager(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    long_body = "word " * 200
    for n in range(12):
        await _item(client, headers, title=f"News {n}", promote=True,
                    fields={"field_body": {"value": f"<p>Summary {n} {long_body}</p>",
                                           "format": "filtered_html"}})
    await _item(client, headers, title="Pinned", promote=True, sticky=True)
    await _item(client, headers, title="Not promoted")
    await _item(client, headers, title="Promoted draft", promote=True, status=0)
    await _item(client, headers, title="Later news", promote=True)
    client.cookies.clear()
    first = await client.get("/")
    assert first.status_code == 200
    titles = _teaser_titles(first.text)
    assert titles == ["Pinned", "Later news", *[f"News {n}" for n in range(11, 3, -1)]]
    assert "item--teaser" in first.text and "Summary 11 word" in first.text
    assert "<p>Summary" not in first.text  # teaser text is plain, trimmed
    assert "…" in first.text and "Read more" in first.text
    assert 'href="/?page=1"' in first.text and "Powered by Trovato" in first.text
    second = await client.get("/?page=1")
    assert _teaser_titles(second.text) == [f"News {n}" for n in range(3, -1, -1)]
    assert 'aria-current="page">2<' in second.text
    for bad in ("2", "-1", "x", "1.5"):
        assert (await client.get(f"/?page={bad}")).status_code == 404
    # The anonymous page cache drops the front page when an item is written.
    assert (await client.get("/")).headers["x-trovato-cache"] == "HIT"
    headers = await login_as(client, "root")
    await _item(client, headers, title="Breaking", promote=True)
    client.cookies.clear()
    fresh = await client.get("/")
    assert fresh.headers["x-trovato-cache"] == "MISS"
    assert _teaser_titles(fresh.text)[:2] == ["Pinned", "Breaking"]


async def test_teasers_read_stored_summaries_and_compute_unknown_ones(db_url: str) -> None:
    """A teaser shows the same text whether the summary was stored with the item or is
    unknown (NULL: written before summaries were stored) and computed from its fields."""
    settings = site_settings(db_url, page_cache_seconds=0)
    async with running_app(settings) as client:
        headers = await _site(client)
        await _item(client, headers, title="Told", promote=True, fields={"field_body": {
            "value": "<p>Once &amp; <b>again</b></p><script>alert(1)</script>",
            "format": "filtered_html"}})
        client.cookies.clear()
        stored = await client.get("/")
        assert '<p class="item__summary">Once &amp; again</p>' in stored.text
        with psycopg.connect(db_url, autocommit=True) as conn:
            assert conn.execute("UPDATE item SET summary = NULL").rowcount == 1
        computed = await client.get("/")
        assert computed.text == stored.text
        # The cron run stores it again.
        report = await client._transport.app.state.kernel.cron.run()  # type: ignore[attr-defined]
        assert report.ran and report.summaries == 1
        with psycopg.connect(db_url, autocommit=True) as conn:
            assert conn.execute("SELECT summary FROM item").fetchall() == [("Once & again",)]
        assert (await client.get("/")).text == stored.text


async def test_front_page_without_content(client: httpx.AsyncClient) -> None:
    await _site(client)
    client.cookies.clear()
    page = await client.get("/")
    assert page.status_code == 200 and "No content has been published yet." in page.text
    assert "Not promoted" not in page.text


def _queries(response: httpx.Response) -> int:
    match = re.search(r'db;[^,]*desc="(\d+) queries"', response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return int(match.group(1))


async def test_item_page_and_front_page_read_items_in_one_query(db_url: str) -> None:
    """An item page is ONE query (item + byline); the front page's listing is the same few
    statements whatever the number of teasers (its rows, and the total and page anchors,
    which are then cached until an item is written: a repeated page reads nothing); item
    types come from the process cache."""
    settings = site_settings(db_url, page_cache_seconds=0, front_page_items=25)
    async with running_app(settings) as client:
        headers = await _site(client)
        first = await _item(client, headers, title="First", promote=True)
        client.cookies.clear()
        await client.get("/")  # warm: the admin-exists flag, the type cache, the definition
        page = await client.get(f"/item/{first}")
        assert page.status_code == 200 and "By root" in page.text
        assert _queries(page) == 1
        assert _queries(await client.get("/")) == 0  # the listing's cached result
        headers = await login_as(client, "root")
        await _item(client, headers, title="Second", promote=True)
        client.cookies.clear()
        one = _queries(await client.get("/"))
        headers = await login_as(client, "root")
        for n in range(23):
            await _item(client, headers, title=f"More {n}", promote=True)
        client.cookies.clear()
        full = await client.get("/")
        assert len(_teaser_titles(full.text)) == 25 and "?page=1" not in full.text
        assert _queries(full) == one <= 3


async def test_a_type_change_reaches_the_item_page_at_once(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers)
    assert "Summary line" not in (await client.get(f"/item/{item_id}")).text
    fields = [*ARTICLE["fields"], {"name": "field_summary", "type": "text",  # type: ignore[misc]
                                   "label": "Summary line"}]
    changed = await client.patch("/api/v1/item-types/article", json={"fields": fields},
                                 headers=headers)
    assert changed.status_code == 200, changed.text
    await client.patch(f"/api/v1/items/{item_id}", headers=headers,
                       json={"fields": {"field_summary": {"value": "Short"}}})
    page = await client.get(f"/item/{item_id}")
    assert "Summary line" in page.text and "Short" in page.text


def test_dates_are_shown_in_each_users_zone() -> None:
    """Dates are remembered per (instant, zone): one user's zone never leaks to another."""
    import uuid
    from datetime import UTC, datetime

    from trovato.content.view import Viewer, format_date
    from trovato.users.accounts import CurrentUser

    noon = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def user(zone: str) -> Viewer:
        return Viewer(CurrentUser(id=uuid.uuid4(), name="u", timezone=zone), "live")

    assert format_date(noon, user("UTC")) == "2026-01-01 12:00"
    assert format_date(noon, user("Europe/Berlin")) == "2026-01-01 13:00"
    assert format_date(noon, user("America/New_York")) == "2026-01-01 07:00"
    assert format_date(noon, user("UTC")) == "2026-01-01 12:00"
    assert format_date(noon, user("Not/AZone")) == "2026-01-01 12:00"  # unknown: as stored
    assert format_date(None, user("UTC")) == ""


class _TabVoter:
    """Item hooks for the tabs: whether a plugin votes, its vote, and what it was asked."""

    def __init__(self, votes: bool, vote: str = "neutral") -> None:
        self.votes, self.vote, self.asked = votes, vote, []

    def reads_items(self) -> bool:
        return self.votes

    async def access(self, item: Any, op: str, user: Any) -> Any:
        from trovato.content.access import Vote

        self.asked.append(op)
        return Vote(self.vote)


async def _tabs(user: Any, voter: _TabVoter) -> list[str]:
    from types import SimpleNamespace

    from trovato.content.items import Item
    from trovato.ids import uuid7
    from trovato.web.item import local_tasks

    kernel = SimpleNamespace(content=SimpleNamespace(items=SimpleNamespace(hooks=voter)))
    ctx = SimpleNamespace(current_user=user, kernel=kernel)
    item = Item(id=uuid7(), type="article", title="x", author_id=uuid7(), status=1)
    return [tab["title"] for tab in await local_tasks(ctx, item, "view")]  # type: ignore[arg-type]


async def test_tabs_ask_no_vote_while_no_plugin_votes() -> None:
    from tests.content.conftest import ANONYMOUS
    from trovato.ids import uuid7
    from trovato.users.accounts import CurrentUser

    quiet = _TabVoter(votes=False, vote="grant")
    assert await _tabs(ANONYMOUS, quiet) == []
    editor = CurrentUser(id=uuid7(), name="e", permissions=frozenset({"edit any article content"}))
    assert await _tabs(editor, quiet) == ["View", "Edit"]  # the role permission decides
    assert quiet.asked == []
    # A plugin that votes is asked for both tabs, and its grant shows them to a visitor.
    voting = _TabVoter(votes=True, vote="grant")
    assert await _tabs(ANONYMOUS, voting) == ["View", "Edit", "Delete"]
    assert voting.asked == ["update", "delete"]


_SEARCH_BOX = re.compile(r'<header class="site".*?<form class="site-search" method="get"'
                         r' action="/search" role="search" aria-label="Site">\s*'
                         r'<label class="visually-hidden" for="site-search-q">Search the site'
                         r'</label>\s*<input type="search" id="site-search-q" name="q">\s*'
                         r'<button type="submit">Search</button>\s*</form>.*?</header>', re.S)


async def test_the_header_search_box_leads_to_search(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item = await _item(client, headers, title="Plugins", promote=True)
    client.cookies.clear()
    for path in ("/", f"/item/{item}"):
        page = await client.get(path)
        assert _SEARCH_BOX.search(page.text), path
        # Cached as drawn: the box holds nothing of the visitor's.
        cached = await client.get(path)
        assert cached.headers["x-trovato-cache"] == "HIT" and _SEARCH_BOX.search(cached.text)
    # What the form sends: its action with its one input.
    found = await client.get("/search", params={"q": "plugin"})
    assert found.status_code == 200 and f'href="/item/{item}">Plugins</a>' in found.text
