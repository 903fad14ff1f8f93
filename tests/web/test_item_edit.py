"""Adding, editing and deleting items through the HTML forms, against the real app: the forms
generated from the type's fields, validation that keeps what was typed, "add another" value,
preview, the edit conflict, CSRF and form-state refusals, access, and the item's tabs."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.api.conftest import login_as
from tests.render.xss_corpus import VECTORS, assert_safe
from tests.web._item_forms import (
    article_values,
    hidden_inputs,
    item_id_of,
    open_form,
    post_form,
    states_expired,
    without_page_scripts,
)
from tests.web.test_item import _item, _site, _writer
from trovato.forms.item_form import stencils
from trovato.web import item_edit

PAGE_TAGS = frozenset({"meta", "link", "form"})


async def _count_items(client: httpx.AsyncClient) -> int:
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    return int(await kernel.db.fetchval("SELECT count(*) FROM item"))


async def test_choosing_a_type_offers_the_types_one_may_create(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    await client.post("/api/v1/item-types", headers=headers, json={
        "type": "page", "label": "Basic page", "description": "A <static> page", "fields": []})
    page = await client.get("/item/add")
    assert page.status_code == 200
    assert '<a href="/item/add/article">Article</a>' in page.text
    assert '<a href="/item/add/page">Basic page</a>' in page.text
    assert "A &lt;static&gt; page" in page.text
    await _writer(client, headers, "writer", ["access content", "create article content"])
    await login_as(client, "writer")
    page = await client.get("/item/add")
    assert "/item/add/article" in page.text and "/item/add/page" not in page.text
    assert (await client.get("/item/add/page")).status_code == 403
    assert (await client.get("/item/add/nosuchtype")).status_code == 404
    client.cookies.clear()
    assert (await client.get("/item/add")).status_code == 403
    assert (await client.get("/item/add/article")).status_code == 403


async def test_an_item_is_added_through_its_form(client: httpx.AsyncClient) -> None:
    await _site(client)
    page = await client.get("/item/add/article")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Create Article</h1>" in text
    assert '<input type="text" id="edit-title" name="title" required maxlength="255"' in text
    assert 'name="fields[field_body][value]" required' in text
    assert 'name="fields[field_count]"' in text and 'step="1"' in text
    assert 'name="fields[field_tags][0]"' in text
    assert 'value="add_more:field_tags">Add another value to Tags</button>' in text
    assert '>Tags, value 1</label>' in text
    assert '<label for="edit-fields-field-body-value">Text <span' in text
    assert '<input type="checkbox" id="edit-status" name="status" value="1" checked>' in text
    assert "Revision log message" in text
    hidden = hidden_inputs(text)
    response = await post_form(client, "/item/add/article", hidden, article_values(
        "My <first> post", "Hello world", **{"fields[field_count]": "7",
                                              "fields[field_tags][0]": "news",
                                              "log": "First draft"}))
    item_id = item_id_of(response)
    shown = await client.get(f"/item/{item_id}")
    assert "Article “My &lt;first&gt; post” has been created." in shown.text
    assert "Hello world" in shown.text and ">7<" in shown.text and ">news<" in shown.text
    again = await client.get(f"/item/{item_id}")
    assert "has been created" not in again.text  # a flashed message shows once
    item = (await client.get(f"/api/v1/items/{item_id}")).json()
    assert item["title"] == "My <first> post" and item["status"] == 1
    assert item["fields"]["field_tags"] == [{"value": "news"}]
    # The build id was used: submitting the same form again is refused, nothing is saved twice.
    before = await _count_items(client)
    replay = await post_form(client, "/item/add/article", hidden, article_values())
    assert replay.status_code == 400
    assert "The form has expired, please submit again." in replay.text
    assert await _count_items(client) == before


async def test_a_double_clicked_save_creates_one_item(client: httpx.AsyncClient) -> None:
    """Two submissions of one add form at once: the build id is used once, by one of them."""
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    replies = await asyncio.gather(*(post_form(client, "/item/add/article", hidden,
                                               article_values("Once")) for _ in range(2)))
    assert sorted(reply.status_code for reply in replies) == [303, 400]
    assert await _count_items(client) == 1


async def test_a_refused_add_leaves_its_build_id_usable(client: httpx.AsyncClient) -> None:
    """A submission refused by validation did nothing: the page the user goes back to (the
    same build id) still saves once corrected, and only then is the build id used."""
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    refused = await post_form(client, "/item/add/article", hidden, article_values(""))
    assert refused.status_code == 400 and "Title is required." in refused.text
    assert "has expired" not in refused.text
    again = await post_form(client, "/item/add/article", hidden, article_values("Corrected"))
    item_id = item_id_of(again)
    assert (await client.get(f"/api/v1/items/{item_id}")).json()["title"] == "Corrected"
    replay = await post_form(client, "/item/add/article", hidden, article_values("Twice"))
    assert replay.status_code == 400 and "The form has expired" in replay.text
    assert await _count_items(client) == 1


async def test_errors_show_inline_and_in_a_summary_and_keep_every_value(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    response = await post_form(client, "/item/add/article", hidden, article_values(
        "", "Keep <this> text", **{"fields[field_count]": "99",
                                   "fields[field_tags][0]": "<b>tag</b>", "promote": "1",
                                   "log": "my log"}))
    assert response.status_code == 400
    text = response.text
    summary = text[text.index('id="form-errors"'):]
    summary = summary[:summary.index("</ul>")]
    assert "2 errors have been found:" in summary
    assert '<a href="#edit-title">Title is required.</a>' in summary
    assert '<a href="#edit-fields-field-count">Count must be at most 10.</a>' in summary
    assert ('id="edit-title" name="title" required maxlength="255" aria-invalid="true"'
            ' aria-describedby="edit-title--error"') in text
    assert 'id="edit-fields-field-count--error">Count must be at most 10.</div>' in text
    assert ">\nKeep &lt;this&gt; text</textarea>" in text
    assert 'value="&lt;b&gt;tag&lt;/b&gt;"' in text and 'value="99"' in text
    assert 'name="promote" value="1" checked' in text
    assert 'name="status" value="1" checked' in text and ">\nmy log</textarea>" in text
    assert await _count_items(client) == 0
    # The same form, corrected, saves.
    fixed = await post_form(client, "/item/add/article", hidden_inputs(text), article_values(
        "Fixed", **{"fields[field_count]": "9"}))
    item_id = item_id_of(fixed)
    assert (await client.get(f"/api/v1/items/{item_id}")).json()["fields"]["field_count"] == {
        "value": 9}


async def test_the_content_services_errors_show_next_to_their_fields(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    response = await post_form(client, "/item/add/article", hidden,
                               article_values(body="", **{"fields[field_count]": "4"}))
    assert response.status_code == 400
    assert '<a href="#edit-fields-field-body-value">Body is required.</a>' in response.text


async def test_add_another_value_rebuilds_the_form_from_its_server_side_state(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    more = await post_form(client, "/item/add/article", hidden, article_values(
        "Tagged", **{"fields[field_tags][0]": "one", "op": "add_more:field_tags"}))
    assert more.status_code == 200
    assert 'name="fields[field_tags][0]" value="one"' in more.text
    assert 'name="fields[field_tags][1]" value=""' in more.text
    assert 'name="title" required maxlength="255" value="Tagged"' in more.text
    assert await _count_items(client) == 0
    # The browser cannot add values on its own: a third value the state does not know is
    # ignored.
    response = await post_form(client, "/item/add/article", hidden_inputs(more.text),
                               article_values("Tagged", **{"fields[field_tags][0]": "one",
                                                           "fields[field_tags][1]": "two",
                                                           "fields[field_tags][2]": "three"}))
    item_id = item_id_of(response)
    tags = (await client.get(f"/api/v1/items/{item_id}")).json()["fields"]["field_tags"]
    assert tags == [{"value": "one"}, {"value": "two"}]


async def test_preview_shows_the_item_without_saving_it(client: httpx.AsyncClient) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    response = await post_form(client, "/item/add/article", hidden, {
        **article_values("Previewed", "**Bold** <script>alert(1)</script>"),
        "fields[field_body][format]": "markdown", "op": "preview"})
    assert response.status_code == 200
    text = response.text
    preview = text[text.index('<section class="preview"'):text.index("</section>")]
    assert "<strong>Bold</strong>" in preview and "<script>alert" not in text
    assert "item--article" in preview
    assert 'name="title" required maxlength="255" value="Previewed"' in text
    assert await _count_items(client) == 0
    saved = await post_form(client, "/item/add/article", hidden_inputs(text), {
        **article_values("Previewed", "**Bold**"), "fields[field_body][format]": "markdown"})
    item_id_of(saved)


async def test_an_item_is_edited_and_a_second_editor_gets_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, title="Original", fields={
        "field_body": {"value": "Body", "format": "plain_text"},
        "field_tags": [{"value": "a"}, {"value": "b"}]})
    form = await client.get(f"/item/{item_id}/edit")
    assert form.status_code == 200
    assert 'value="Original"' in form.text and 'name="fields[field_tags][1]" value="b"' in form.text
    assert "<h1>Edit Article \u201cOriginal\u201d</h1>" in form.text
    first, second = hidden_inputs(form.text), await open_form(client, f"/item/{item_id}/edit")
    # A Preview names the item by the title typed, not the one saved.
    previewed = await post_form(client, f"/item/{item_id}/edit", first, article_values(
        "Hello, <world>", op="preview"))
    assert previewed.status_code == 200, previewed.text
    assert "<h1>Edit Article \u201cHello, &lt;world&gt;\u201d</h1>" in previewed.text
    first = hidden_inputs(previewed.text)
    saved = await post_form(client, f"/item/{item_id}/edit", first, article_values(
        "First editor", **{"fields[field_tags][0]": "a", "log": "mine"}))
    assert item_id_of(saved) == item_id
    shown = await client.get(f"/item/{item_id}")
    assert "Article “First editor” has been updated." in shown.text
    conflict = await post_form(client, f"/item/{item_id}/edit", second, article_values(
        "Second editor", "Their body"))
    assert conflict.status_code == 409
    assert "changed by someone else after you started editing it" in conflict.text
    assert 'value="Second editor"' in conflict.text and ">\nTheir body</textarea>" in conflict.text
    item = (await client.get(f"/api/v1/items/{item_id}")).json()
    assert item["title"] == "First editor" and item["fields"]["field_tags"] == [{"value": "a"}]
    revisions = (await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]
    assert [r["log"] for r in revisions][:1] == ["mine"] and len(revisions) == 2


async def test_missing_or_stale_csrf_tokens_are_refused(client: httpx.AsyncClient) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    for token in (None, "stale-token"):
        data = {**hidden, **article_values()}
        data.pop("csrf_token")
        if token is not None:
            data["csrf_token"] = token
        response = await client.post("/item/add/article", data=data)
        assert response.status_code == 403
        assert "The form has expired" in response.text
    assert await _count_items(client) == 0


async def test_expired_and_tampered_form_state_is_refused(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    hidden = await open_form(client, "/item/add/article")
    with states_expired(client):
        expired = await post_form(client, "/item/add/article", hidden,
                                  article_values("Kept <me>"))
    assert expired.status_code == 400
    assert "The form has expired, please submit again." in expired.text
    assert 'value="Kept &lt;me&gt;"' in expired.text  # nothing typed is lost
    assert hidden_inputs(expired.text)["form_build_id"] != hidden["form_build_id"]
    edited = hidden["form_build_id"][:-1] + ("A" if hidden["form_build_id"][-1] != "A" else "B")
    for build_id in ("form-not-a-build-id", "../../secret", "form-" + "A" * 32, edited):
        bad = await post_form(client, "/item/add/article", {**hidden, "form_build_id": build_id},
                              article_values())
        assert bad.status_code == 400, build_id
    # Another item form's state (another type, another item) is refused here.
    item_id = await _item(client, headers)
    edit_state = (await open_form(client, f"/item/{item_id}/edit"))["form_build_id"]
    crossed = await post_form(client, "/item/add/article", {**hidden, "form_build_id": edit_state},
                              article_values())
    assert crossed.status_code == 400
    # Another session's state is refused too, even with this session's CSRF token.
    await login_as(client, "root")
    mine = await open_form(client, "/item/add/article")
    foreign = await post_form(client, "/item/add/article",
                              {**mine, "form_build_id": hidden["form_build_id"]},
                              article_values())
    assert foreign.status_code == 400
    assert "does not belong to this form or session" in foreign.text
    assert await _count_items(client) == 1


async def test_an_item_is_deleted_after_confirmation(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, title="Doomed <one>")
    page = await client.get(f"/item/{item_id}/delete")
    assert page.status_code == 200
    assert "Are you sure you want to delete Doomed &lt;one&gt;? This cannot be undone." in page.text
    assert f'<a href="/item/{item_id}" class="button">Cancel</a>' in page.text
    assert (await client.get(f"/item/{item_id}")).status_code == 200  # asking deletes nothing
    response = await post_form(client, f"/item/{item_id}/delete", hidden_inputs(page.text),
                               {"op": "confirm"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "“Doomed &lt;one&gt;” has been deleted." in (await client.get("/")).text
    assert (await client.get(f"/item/{item_id}")).status_code == 404


async def test_access_rules_are_the_content_services(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    theirs = await _item(client, headers, title="Root's")
    hidden_draft = await _item(client, headers, title="Draft", status=0)
    await _writer(client, headers, "writer", ["access content", "create article content",
                                              "edit own article content"])
    await login_as(client, "writer")
    assert (await client.get(f"/item/{theirs}/edit")).status_code == 403
    assert (await client.get(f"/item/{theirs}/delete")).status_code == 403
    assert (await client.get(f"/item/{hidden_draft}/edit")).status_code == 404
    hidden = await open_form(client, "/item/add/article")
    own = item_id_of(await post_form(client, "/item/add/article", hidden, article_values("Mine")))
    item_page = await client.get(f"/item/{own}")
    assert f'href="/item/{own}/edit"' in item_page.text
    assert f'href="/item/{own}/delete"' not in item_page.text  # no "delete own" permission
    assert f'href="/item/{own}/revisions"' not in item_page.text
    assert (await client.get(f"/item/{own}/delete")).status_code == 403
    assert f'href="/item/{theirs}/edit"' not in (await client.get(f"/item/{theirs}")).text
    # Posting to an item one may not edit is refused before anything is read.
    edit = await open_form(client, f"/item/{own}/edit")
    refused = await post_form(client, f"/item/{theirs}/edit", edit, article_values("Hijack"))
    assert refused.status_code == 403
    await login_as(client, "root")
    assert (await client.get(f"/api/v1/items/{theirs}")).json()["title"] == "Root's"
    tabs = (await client.get(f"/item/{own}")).text
    for task in ("edit", "delete", "revisions"):
        assert f'href="/item/{own}/{task}"' in tabs
    client.cookies.clear()
    anonymous = await client.get(f"/item/{own}")
    assert 'class="tabs"' not in anonymous.text
    assert (await client.get(f"/item/{own}/edit")).status_code == 403


async def test_restricted_formats_are_offered_only_with_their_permission(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    await _writer(client, headers, "writer", ["access content", "create article content"])
    await login_as(client, "writer")
    page = await client.get("/item/add/article")
    assert '<option value="filtered_html"' in page.text
    assert '<option value="full_html"' not in page.text
    response = await post_form(client, "/item/add/article", hidden_inputs(page.text), {
        **article_values(), "fields[field_body][format]": "full_html"})
    assert response.status_code == 400
    assert "Text format: the chosen value is not one of the options." in response.text
    await login_as(client, "root")
    assert '<option value="full_html"' in (await client.get("/item/add/article")).text


_STORABLE = [v for v in VECTORS if "\x00" not in v and "\r" not in v]
XSS = _STORABLE[::max(1, len(_STORABLE) // 12)]


async def test_hostile_titles_and_values_stay_inert_in_the_forms(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    for vector in XSS:
        item_id = await _item(client, headers, title=vector.replace("\n", " ")[:255], fields={
            "field_body": {"value": vector, "format": "plain_text"},
            "field_tags": [{"value": vector}]})
        for path in (f"/item/{item_id}/edit", f"/item/{item_id}/delete"):
            page = await client.get(path)
            assert page.status_code == 200
            assert_safe(without_page_scripts(page.text), vector, allowed_tags=PAGE_TAGS)
            # Log out, the header's search box and this form.
            assert len(re.findall(r"<form[ >]", page.text)) == 3


async def test_the_editor_script_comes_only_with_a_rich_text_field(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    article = await client.get("/item/add/article")
    assert "/assets/editor/editor.js" in article.text and "data-editor-formats=" in article.text
    await client.post("/api/v1/item-types", headers=headers, json={
        "type": "page", "label": "Basic page", "description": "", "fields": []})
    page = await client.get("/item/add/page")
    assert page.status_code == 200 and "/assets/editor/editor.js" not in page.text
    # Text that looks like the editor's attribute is escaped, so it brings no editor.
    state = hidden_inputs(page.text)
    shown = await client.post("/item/add/page", data={
        **state, "title": 'x data-editor-formats="y', "op": "preview"})
    assert shown.status_code == 200 and "/assets/editor/editor.js" not in shown.text


_BUILD_ID = re.compile(r'name="form_build_id" value="[^"]*"')
_RENDERS = re.compile(r'render;[^,]*desc="(\d+) templates"')


async def test_the_edit_form_drawn_from_its_stencil_is_the_renderers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first edit form of a type is drawn by the renderer and becomes the type's stencil;
    the next items' forms are drawn from it, hostile values and all, exactly as the renderer
    draws them (without stencils, the same pages)."""
    headers = await _site(client)
    titles = ["First", VECTORS[0], "a & b \" ' <c>", VECTORS[5]]
    ids = [await _item(client, headers, title=title, fields={
        "field_body": {"value": title, "format": "plain_text"},
        "field_count": {"value": n}, "field_tags": [{"value": title}]})
        for n, title in enumerate(titles)]
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    kept = stencils(await kernel.content.types.get_cached("article"))
    hits = kept.hits
    drawn = [await client.get(f"/item/{item_id}/edit") for item_id in ids]
    assert kept.hits == hits + len(ids) - 1
    monkeypatch.setattr(item_edit, "stencils", lambda item_type: None)
    for item_id, page in zip(ids, drawn, strict=True):
        again = await client.get(f"/item/{item_id}/edit")
        assert _BUILD_ID.sub("", again.text) == _BUILD_ID.sub("", page.text)
        # The form drawn from its stencil counts as a rendering, as the renderer's does.
        renders = _RENDERS.findall(page.headers["server-timing"])
        assert renders and _RENDERS.findall(again.headers["server-timing"]) == renders
    assert kept.hits == hits + len(ids) - 1
