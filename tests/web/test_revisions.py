"""An item's revisions in HTML: the list with its compare form, the diff between any two
revisions, and revert with confirmation — with the content service's access rules."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import login_as
from tests.render.xss_corpus import assert_safe
from tests.web._item_forms import hidden_inputs, post_form
from tests.web.test_item import _item, _site, _writer
from tests.web.test_item_edit import XSS

HOSTILE = "<img src=x onerror=alert(1)>"


async def _versions(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    """An item with three revisions; their ids, oldest first."""
    item_id = await _item(client, headers, title="First title", log="one", fields={
        "field_body": {"value": "line a\nline b\nline c", "format": "plain_text"}})
    await client.patch(f"/api/v1/items/{item_id}", headers=headers, json={
        "title": f"Second {HOSTILE}", "log": "two",
        "fields": {"field_body": {"value": f"line a\n{HOSTILE}\nline c", "format": "plain_text"},
                   "field_count": {"value": 3}}})
    await client.patch(f"/api/v1/items/{item_id}", headers=headers,
                       json={"title": "Third title", "log": "three"})
    revisions = (await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]
    return item_id, [r["id"] for r in reversed(revisions)]


async def test_the_list_offers_compare_and_revert(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id, (first, second, third) = await _versions(client, headers)
    page = await client.get(f"/item/{item_id}/revisions")
    assert page.status_code == 200
    text = page.text
    assert f'<form id="edit-revision-compare" class="form" method="get"' \
           f' action="/item/{item_id}/revisions/diff">' in text
    assert f'<option value="{second}" selected>' in text  # old: the one before the current
    # The compare form is a fieldset of its own, and the table's caption does not repeat the
    # page's heading.
    assert "<legend>Compare two revisions</legend>" in text
    assert "<caption>Newest first</caption>" in text
    assert text.count("Revisions of ") == 2  # the <title> and the <h1>
    assert f'href="/item/{item_id}/revisions/{first}/revert">Revert</a>' in text
    assert f"/revisions/{third}/revert" not in text  # the current revision
    assert 'aria-current="page">Revisions</a>' in text


async def test_any_two_revisions_are_compared_escaped(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id, (first, second, third) = await _versions(client, headers)
    diff = await client.get(f"/item/{item_id}/revisions/diff",
                            params={"old": first, "new": second})
    assert diff.status_code == 200, diff.text
    text = diff.text
    assert_safe(text, HOSTILE, allowed_tags=frozenset({"meta", "link", "form"}))
    table = text[text.index('<table class="diff">'):text.index("</table>")]
    assert all(f'<td data-label="Property">{name}</td>' in table
               for name in ("Title", "Body", "Count"))
    assert '<div class="diff__line diff__line--deleted">First title</div>' in table
    assert ('<div class="diff__line diff__line--added">Second &lt;img src=x onerror=alert(1)&gt;'
            '</div>') in table
    assert '<div class="diff__line diff__line--context">line a</div>' in table
    assert '<div class="diff__line diff__line--deleted">line b</div>' in table
    assert ">Status</td>" not in table  # unchanged properties are left out
    # Either order, any pair; the older one is always on the left.
    swapped = await client.get(f"/item/{item_id}/revisions/diff",
                               params={"old": third, "new": first})
    assert '<div class="diff__line diff__line--deleted">First title</div>' in swapped.text
    same = await client.get(f"/item/{item_id}/revisions/diff",
                            params={"old": third, "new": third})
    assert "The two revisions do not differ." in same.text
    for bad in ({"old": first}, {"old": first, "new": "nope"},
                {"old": first, "new": "01890000-0000-7000-8000-000000000000"}):
        assert (await client.get(f"/item/{item_id}/revisions/diff", params=bad)
                ).status_code == 404


async def test_revert_asks_first_then_saves_a_new_revision(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id, (first, _second, _third) = await _versions(client, headers)
    page = await client.get(f"/item/{item_id}/revisions/{first}/revert")
    assert page.status_code == 200
    assert "Are you sure you want to revert Third title to the revision of" in page.text
    assert (await client.get(f"/api/v1/items/{item_id}")).json()["title"] == "Third title"
    response = await post_form(client, f"/item/{item_id}/revisions/{first}/revert",
                               hidden_inputs(page.text), {"op": "confirm"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/item/{item_id}/revisions"
    listing = await client.get(f"/item/{item_id}/revisions")
    assert "“First title” has been reverted to the revision of" in listing.text
    item = (await client.get(f"/api/v1/items/{item_id}")).json()
    assert item["title"] == "First title" and "field_count" not in item["fields"]
    assert len((await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]) == 4
    # The confirmation's state is used up: the same post again is refused.
    again = await post_form(client, f"/item/{item_id}/revisions/{first}/revert",
                            hidden_inputs(page.text), {"op": "confirm"})
    assert again.status_code == 400


async def test_revisions_access(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id, (first, second, _third) = await _versions(client, headers)
    await _writer(client, headers, "auditor", ["access content", "view revisions"])
    await login_as(client, "auditor")
    page = await client.get(f"/item/{item_id}/revisions")
    assert page.status_code == 200 and "/revert" not in page.text
    assert (await client.get(f"/item/{item_id}/revisions/diff",
                             params={"old": first, "new": second})).status_code == 200
    assert (await client.get(f"/item/{item_id}/revisions/{first}/revert")).status_code == 403
    await _writer(client, headers, "reader", ["access content"])
    await login_as(client, "reader")
    assert (await client.get(f"/item/{item_id}/revisions/diff",
                             params={"old": first, "new": second})).status_code == 403
    assert (await client.get(f"/item/{item_id}/revisions/{first}/revert")).status_code == 403
    await _writer(client, headers, "reverter", ["access content", "view revisions",
                                                "revert revisions", "edit any article content"])
    await login_as(client, "reverter")
    page = await client.get(f"/item/{item_id}/revisions/{first}/revert")
    assert page.status_code == 200
    assert re.search(r'name="form_build_id" value="fs1\.[^"]+"', page.text)


async def test_hostile_titles_and_values_stay_inert_in_the_diff(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    for vector in XSS:
        single_line = vector.replace("\n", " ")[:255]
        item_id = await _item(client, headers, title="Before", fields={
            "field_body": {"value": "plain", "format": "plain_text"}})
        changed = await client.patch(f"/api/v1/items/{item_id}", headers=headers, json={
            "title": single_line, "fields": {
                "field_body": {"value": vector, "format": "filtered_html"},
                "field_tags": [{"value": vector}]}})
        assert changed.status_code == 200, changed.text
        revisions = (await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]
        for path, params in ((f"/item/{item_id}/revisions", None),
                             (f"/item/{item_id}/revisions/diff",
                              {"old": revisions[1]["id"], "new": revisions[0]["id"]})):
            page = await client.get(path, params=params)
            assert page.status_code == 200
            assert_safe(page.text, vector, allowed_tags=frozenset({"meta", "link", "form"}))
