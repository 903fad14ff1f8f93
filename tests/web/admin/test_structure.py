"""The item type and field screens (``/admin/structure/types...``) against the real app: what
they list, that each change goes through the item type service (seen in the JSON API and in the
item form), inline errors that keep what was typed, the stated impact of deletions, CSRF, form
state and access refusals, and hostile input shown escaped or refused."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.render.xss_corpus import VECTORS, assert_safe
from tests.web._item_forms import hidden_inputs, open_form, post_form, states_expired
from tests.web.test_item import _site, _writer

TYPES = "/admin/structure/types"


async def _type(client: httpx.AsyncClient, name: str) -> dict[str, object]:
    response = await client.get(f"/api/v1/item-types/{name}")
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def _field_names(item_type: dict[str, object]) -> list[str]:
    return [f["name"] for f in item_type["fields"]]  # type: ignore[attr-defined,index]


async def test_the_type_list_shows_types_with_counts_and_links(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    for n in range(2):
        await client.post("/api/v1/items", headers=headers, json={
            "type": "article", "title": f"A{n}",
            "fields": {"field_body": {"value": "x", "format": "plain_text"}}})
    page = await client.get(TYPES)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Item types</h1>" in text
    assert f'<a href="{TYPES}/add" class="button">Add item type</a>' in text
    row = text[text.index(f'<a href="{TYPES}/article/fields">Article</a>'):]
    row = row[:row.index("</tr>")]
    assert '<td data-label="Machine name">article</td>' in row
    assert '<td data-label="Description">News articles</td>' in row
    # three fields, two items
    assert '<td data-label="Fields">3</td>' in row and '<td data-label="Items">2</td>' in row
    assert f'href="{TYPES}/article/delete"' in row
    # The toolbar marks the Structure group and, in its second row, the section.
    assert f'<a href="{TYPES}" aria-current="page">Structure</a>' in text
    assert f'<a href="{TYPES}" aria-current="page">Item types</a>' in text


async def test_adding_a_type_derives_its_name_and_leads_to_its_fields(
    client: httpx.AsyncClient,
) -> None:
    await admin_headers(client)
    hidden = await open_form(client, f"{TYPES}/add")
    response = await post_form(client, f"{TYPES}/add", hidden, {
        "label": "Blog post", "type": "", "description": "Posts <b>now</b>",
        "has_title": "1", "title_label": "Headline", "defaults[promote]": "1",
        "op": "save"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{TYPES}/blog_post/fields"
    fields_page = await client.get(response.headers["location"])
    assert "The item type “Blog post” has been created" in fields_page.text
    assert "This type has no fields yet." in fields_page.text
    created = await _type(client, "blog_post")
    assert created["label"] == "Blog post" and created["description"] == "Posts <b>now</b>"
    assert created["defaults"] == {"status": False, "promote": True, "sticky": False}
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    stored = await kernel.content.types.get("blog_post")
    assert stored.title_label == "Headline" and stored.has_title
    # It is offered to editors, with its own title label and publishing defaults.
    add_page = await client.get("/item/add/blog_post")
    assert add_page.status_code == 200 and "Headline" in add_page.text
    assert '<input type="checkbox" id="edit-status" name="status" value="1">' in add_page.text
    assert 'name="promote" value="1" checked>' in add_page.text
    # The same name again: refused next to the input, nothing typed lost.
    hidden = await open_form(client, f"{TYPES}/add")
    again = await post_form(client, f"{TYPES}/add", hidden, {
        "label": "Another", "type": "blog_post", "description": "kept text", "op": "save"})
    assert again.status_code == 409
    assert 'aria-invalid="true"' in again.text and "already exists" in again.text
    assert 'value="Another"' in again.text and "kept text</textarea>" in again.text


async def test_invalid_type_input_is_shown_inline_and_kept(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    for machine in ("bad name", "x'; DROP TABLE item;--", "../../etc", "Upper", "1abc"):
        hidden = await open_form(client, f"{TYPES}/add")
        response = await post_form(client, f"{TYPES}/add", hidden, {
            "label": "<script>alert(1)</script>", "type": machine,
            "description": "<img src=x onerror=alert(2)>", "op": "save"})
        assert response.status_code == 400, (machine, response.text)
        text = response.text
        assert "1 error has been found:" in text
        assert 'id="edit-type" name="type"' in text and "Machine name must be" in text
        assert "<script>alert(1)</script>" not in text and "<img src=x" not in text
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in text
        assert "&lt;img src=x onerror=alert(2)&gt;</textarea>" in text
    hidden = await open_form(client, f"{TYPES}/add")
    response = await post_form(client, f"{TYPES}/add", hidden, {"label": " ", "type": "",
                                                                 "op": "save"})
    # Only spaces pass the browser's "required"; the service refuses it, shown the same way.
    assert response.status_code == 422 and "Label is required." in response.text
    assert (await client.get("/api/v1/item-types")).json()["item_types"] == []


async def test_editing_a_type_keeps_its_name_and_escapes_it(client: httpx.AsyncClient) -> None:
    await _site(client)
    page = await client.get(f"{TYPES}/article")
    assert page.status_code == 200
    assert "Machine name: article (cannot be changed)" in page.text
    assert 'name="type"' not in page.text.split("<main")[1]
    hidden = hidden_inputs(page.text)
    response = await post_form(client, f"{TYPES}/article", hidden, {
        "label": "<b>News</b>", "description": "<script>x()</script>", "has_title": "1",
        "title_label": "Title", "type": "hacked", "op": "save"})
    assert response.status_code == 303 and response.headers["location"] == TYPES
    listing = await client.get(TYPES)
    assert "The item type “&lt;b&gt;News&lt;/b&gt;” has been updated." in listing.text
    assert "<b>News</b>" not in listing.text and "<script>x()" not in listing.text
    updated = await _type(client, "article")
    assert updated["label"] == "<b>News</b>" and updated["type"] == "article"
    assert _field_names(updated) == ["field_body", "field_count", "field_tags"]
    assert (await client.get(f"{TYPES}/nosuch")).status_code == 404


async def test_deleting_a_type_states_the_items_it_deletes(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    for n in range(3):
        await client.post("/api/v1/items", headers=headers, json={
            "type": "article", "title": f"A{n}",
            "fields": {"field_body": {"value": "x", "format": "plain_text"}}})
    page = await client.get(f"{TYPES}/article/delete")
    assert page.status_code == 200
    assert "Delete the item type Article (article)?" in page.text
    assert "3 items of this type will be deleted with it" in page.text
    hidden = hidden_inputs(page.text)
    # One more item meanwhile: the stated impact is stale, so it asks again.
    await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "late",
        "fields": {"field_body": {"value": "x", "format": "plain_text"}}})
    stale = await post_form(client, f"{TYPES}/article/delete", hidden, {"op": "confirm"})
    assert stale.status_code == 409 and "4 items of this type" in stale.text
    assert (await client.get("/api/v1/item-types/article")).status_code == 200
    response = await post_form(client, f"{TYPES}/article/delete", hidden_inputs(stale.text),
                               {"op": "confirm"})
    assert response.status_code == 303 and response.headers["location"] == TYPES
    listing = await client.get(TYPES)
    assert "Deleted item type &#39;article&#39; and its 4 items." in listing.text
    assert (await client.get("/api/v1/item-types/article")).status_code == 404
    assert (await client.get("/api/v1/items")).json()["total"] == 0


async def test_fields_are_added_with_their_settings_edited_and_removed(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    base = f"{TYPES}/article/fields"
    # Step one: label, name, field type.
    hidden = await open_form(client, f"{base}/add")
    step = await post_form(client, f"{base}/add", hidden, {
        "label": "Colour", "name": "", "field_type": "list", "op": "continue"})
    assert step.status_code == 200, step.text
    assert "step 2 of 2" in step.text and 'value="field_colour"' in step.text
    assert '<option value="list" selected>' in step.text
    assert 'name="settings[allowed_values]"' in step.text
    # Step two: a list needs its allowed values; the service says so next to the input.
    hidden = hidden_inputs(step.text)
    refused = await post_form(client, f"{base}/add", hidden, {
        "label": "Colour", "name": "field_colour", "field_type": "list", "cardinality": "1",
        "description": "Pick", "settings[allowed_values]": "", "op": "save"})
    assert refused.status_code == 400, refused.text
    assert 'id="edit-settings-allowed-values"' in refused.text
    assert "Allowed values is required." in refused.text
    assert 'aria-invalid="true"' in refused.text and "Pick</textarea>" in refused.text
    response = await post_form(client, f"{base}/add", hidden_inputs(refused.text), {
        "label": "Colour", "name": "field_colour", "field_type": "list", "cardinality": "1",
        "required": "1", "description": "Pick one", "widget": "options_select",
        "settings[allowed_values]": "red|Red\ngreen|Green", "op": "save"})
    assert response.status_code == 303 and response.headers["location"] == base
    shown = await client.get(base)
    assert "The field “Colour” has been added to “Article”." in shown.text
    colour = (await _type(client, "article"))["fields"][-1]  # type: ignore[index]
    assert colour == {"name": "field_colour", "type": "list", "label": "Colour",
                      "required": True, "cardinality": 1,
                      "settings": {"allowed_values": {"red": "Red", "green": "Green"}}}
    item_form = await client.get("/item/add/article")
    assert 'name="fields[field_colour]"' in item_form.text and ">Green</option>" in item_form.text
    assert "Pick one" in item_form.text
    # Edit: settings of its type, its label; the name and type stay.
    page = await client.get(f"{base}/field_count")
    assert page.status_code == 200 and 'name="settings[min]"' in page.text
    response = await post_form(client, f"{base}/field_count", hidden_inputs(page.text), {
        "label": "How many", "cardinality": "1", "settings[min]": "2", "settings[max]": "",
        "description": "", "op": "save"})
    assert response.status_code == 303, response.text
    assert "The field “How many” has been saved." in (await client.get(base)).text
    count = next(f for f in (await _type(client, "article"))["fields"]  # type: ignore[attr-defined]
                 if f["name"] == "field_count")
    assert count["label"] == "How many" and count["settings"] == {"min": 2, "max": None}
    # Bad settings are refused inline with what was typed kept.
    page = await client.get(f"{base}/field_count")
    response = await post_form(client, f"{base}/field_count", hidden_inputs(page.text), {
        "label": "", "cardinality": "1", "settings[min]": "abc", "op": "save"})
    assert response.status_code == 400
    assert "How many" not in response.text.split('name="label"')[1].split(">")[0]
    assert "Label is required." in response.text and "Min must be a number." in response.text
    assert 'value="abc"' in response.text
    # Remove: the data loss is stated first.
    headers = await login_as(client, "root")
    created = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "T", "fields": {
            "field_body": {"value": "x", "format": "plain_text"}, "field_count": {"value": 3},
            "field_colour": {"value": "red"}}})
    assert created.status_code == 201, created.text
    page = await client.get(f"{base}/field_count/delete")
    assert "1 item holds a value of this field" in page.text
    assert ("Are you sure you want to remove the field “How many” (field_count) from"
            " “Article”?") in page.text
    response = await post_form(client, f"{base}/field_count/delete", hidden_inputs(page.text),
                               {"op": "confirm"})
    assert response.status_code == 303
    assert "The field “How many” has been removed from “Article”." in (await client.get(
        base)).text
    assert "field_count" not in _field_names(await _type(client, "article"))
    assert (await client.get(f"{base}/field_count")).status_code == 404


async def test_a_field_name_keeps_its_type_and_bad_names_are_refused(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    await client.post("/api/v1/item-types", headers=headers,
                      json={"type": "page", "label": "Page", "fields": []})
    base = f"{TYPES}/page/fields"
    for name in ("field_a b", "field_x'; DROP TABLE item;--", "field_../x", "field_É"):
        hidden = await open_form(client, f"{base}/add")
        refused = await post_form(client, f"{base}/add", hidden, {
            "label": "<i>L</i>", "name": name, "field_type": "text", "op": "continue"})
        assert refused.status_code == 400, name
        assert "Machine name must be field_" in refused.text
        assert "<i>L</i>" not in refused.text
    # A name other types use with another field type: refused at the first step, next to
    # the field type.
    hidden = await open_form(client, f"{base}/add")
    refused = await post_form(client, f"{base}/add", hidden, {
        "label": "Count", "name": "count", "field_type": "text", "op": "continue"})
    assert refused.status_code == 400 and 'value="count"' in refused.text
    assert "The field field_count of Article is of the type Integer (integer)" in refused.text
    assert 'name="settings[max_length]"' not in refused.text
    # The service refuses it too (a type changed on the second step meanwhile).
    step = await post_form(client, f"{base}/add", hidden_inputs(refused.text), {
        "label": "Count", "name": "count", "field_type": "integer", "op": "continue"})
    assert step.status_code == 200 and 'name="settings[min]"' in step.text
    await client.post("/api/v1/item-types", headers=headers, json={
        "type": "other", "label": "Other", "fields": [
            {"name": "field_late", "type": "text", "label": "Late"}]})
    refused = await post_form(client, f"{base}/add", hidden_inputs(step.text), {
        "label": "Late", "name": "field_late", "field_type": "integer", "cardinality": "1",
        "op": "save"})
    assert refused.status_code == 400
    assert "The field field_late of Other is of the type Text (text)" in refused.text
    assert _field_names(await _type(client, "page")) == []


async def test_reordering_fields_with_weights(client: httpx.AsyncClient) -> None:
    await _site(client)
    base = f"{TYPES}/article/fields"
    page = await client.get(base)
    assert 'name="weight[field_tags]"' in page.text
    response = await post_form(client, base, hidden_inputs(page.text), {
        "weight[field_body]": "5", "weight[field_count]": "-1", "weight[field_tags]": "5",
        "op": "save"})
    assert response.status_code == 303 and response.headers["location"] == base
    assert _field_names(await _type(client, "article")) == [
        "field_count", "field_body", "field_tags"]
    shown = await client.get(base)
    assert "The order of the fields of “Article” has been saved." in shown.text
    form = (await client.get("/item/add/article")).text
    assert form.index("fields[field_count]") < form.index("fields[field_body]")
    # Not a number: refused inline, the order unchanged.
    response = await post_form(client, base, hidden_inputs(shown.text), {
        "weight[field_body]": "x", "weight[field_count]": "0", "weight[field_tags]": "9999",
        "op": "save"})
    assert response.status_code == 400
    assert "must be a number" in response.text and "must be at most 1000" in response.text
    # A field added meanwhile: the order from the old page is refused, not guessed at.
    stale = hidden_inputs((await client.get(base)).text)
    headers = await login_as(client, "root")
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    await kernel.content.types.add_field("article", {"name": "field_more", "type": "text",
                                                     "label": "More"})
    client.cookies.clear()
    del headers
    await login_as(client, "root")
    stale = hidden_inputs((await client.get(base)).text)
    await kernel.content.types.remove_field("article", "field_more")
    response = await post_form(client, base, stale, {
        "weight[field_body]": "0", "weight[field_count]": "1", "weight[field_tags]": "2",
        "weight[field_more]": "3", "op": "save"})
    assert response.status_code == 409 and "reload the page" in response.text


async def test_access_csrf_and_form_state_are_checked(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    pages = [TYPES, f"{TYPES}/add", f"{TYPES}/article", f"{TYPES}/article/delete",
             f"{TYPES}/article/fields", f"{TYPES}/article/fields/add",
             f"{TYPES}/article/fields/field_body", f"{TYPES}/article/fields/field_body/delete"]
    for path in pages:
        assert (await client.get(path)).status_code == 200, path
    # Every form has its way back.
    for path, back in ((f"{TYPES}/add", TYPES), (f"{TYPES}/article", TYPES),
                       (f"{TYPES}/article/fields/add", f"{TYPES}/article/fields"),
                       (f"{TYPES}/article/fields/field_body", f"{TYPES}/article/fields")):
        assert f'<a href="{back}" class="button">Cancel</a>' in (await client.get(path)).text
    # Without a token: the pipeline refuses every post, nothing changes.
    for path in pages[1:]:
        response = await client.post(path, data={"label": "X", "op": "save"})
        assert response.status_code == 403, path
    # An expired build id: "expired", with the values kept.
    hidden = await open_form(client, f"{TYPES}/add")
    with states_expired(client):
        response = await post_form(client, f"{TYPES}/add", hidden,
                                   {"label": "Kept label", "op": "save"})
    assert response.status_code == 400
    assert "The form has expired, please submit again." in response.text
    assert 'value="Kept label"' in response.text
    # Another form's state: refused.
    edit = hidden_inputs((await client.get(f"{TYPES}/article/fields/field_body")).text)
    response = await post_form(client, f"{TYPES}/article/fields/field_count", edit,
                               {"label": "X", "cardinality": "1", "op": "save"})
    assert response.status_code == 400
    # Users without the permissions: 403 everywhere (and anonymous too).
    await _writer(client, headers, "editor", ["access content", "access administration pages",
                                              "administer content"])
    await login_as(client, "editor")
    for path in pages:
        assert (await client.get(path)).status_code == 403, path
    await _writer(client, headers, "typer", ["access content", "administer content types"])
    await login_as(client, "typer")
    for path in pages:
        assert (await client.get(path)).status_code == 403, path
    client.cookies.clear()
    for path in pages:
        assert (await client.get(path)).status_code == 403, path
    assert _field_names(await _type(client, "article")) == [
        "field_body", "field_count", "field_tags"]


async def test_widget_and_display_choices_reach_the_form_and_the_page(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    await kernel.content.types.add_field("article", {
        "name": "field_colour", "type": "list", "label": "Colour",
        "settings": {"allowed_values": {"red": "Red", "green": "Green"}}})
    base = f"{TYPES}/article/fields"
    page = await client.get(f"{base}/field_colour")
    assert 'name="widget"' in page.text and ">Check boxes or radio buttons</option>" in page.text
    response = await post_form(client, f"{base}/field_colour", hidden_inputs(page.text), {
        "label": "Colour", "cardinality": "1", "settings[allowed_values]": "red|Red\ngreen|Green",
        "widget": "options_buttons", "display[label]": "inline", "op": "save"})
    assert response.status_code == 303, response.text
    page = await client.get(f"{base}/field_count")
    assert 'name="widget"' not in page.text  # one widget: nothing to choose
    response = await post_form(client, f"{base}/field_count", hidden_inputs(page.text), {
        "label": "Count", "cardinality": "1", "settings[min]": "0", "settings[max]": "10",
        "display[hidden]": "1", "op": "save"})
    assert response.status_code == 303, response.text
    shown = await _type(client, "article")
    by_name = {f["name"]: f for f in shown["fields"]}  # type: ignore[attr-defined]
    assert by_name["field_colour"]["widget"] == "options_buttons"
    assert by_name["field_colour"]["display"] == {"label": "inline"}
    assert by_name["field_count"]["display"] == {"hidden": True}
    listing = (await client.get(base)).text
    assert ">Check boxes or radio buttons</td>" in listing
    form = (await client.get("/item/add/article")).text
    assert 'type="radio"' in form and 'name="fields[field_colour]" value="green"' in form
    created = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Shown", "fields": {
            "field_body": {"value": "x", "format": "plain_text"}, "field_count": {"value": 4},
            "field_colour": {"value": "green"}}})
    item = (await client.get(f"/item/{created.json()['id']}")).text
    assert "field--label-inline" in item and ">Green<" in item
    assert "field--field_colour" in item and "field--field_count" not in item
    # A widget the field type does not list: refused next to the input.
    page = await client.get(f"{base}/field_colour")
    response = await post_form(client, f"{base}/field_colour", hidden_inputs(page.text), {
        "label": "Colour", "cardinality": "1", "settings[allowed_values]": "red",
        "widget": "number", "op": "save"})
    assert response.status_code == 400 and "not one of the options" in response.text


async def test_a_plugins_type_says_its_declaration_wins(client: httpx.AsyncClient) -> None:
    await _site(client)
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    await kernel.content.types.create({"type": "recipe", "label": "Recipe", "fields": []},
                                      plugin="cookbook")
    warning = "The plugin cookbook declares this item type"
    for path in (f"{TYPES}/recipe", f"{TYPES}/recipe/fields", f"{TYPES}/recipe/delete"):
        assert warning in (await client.get(path)).text, path
    assert warning.split(" declares")[0] not in (await client.get(f"{TYPES}/article")).text


_STORABLE = [v for v in VECTORS if "\x00" not in v and "\r" not in v]
XSS = _STORABLE[::max(1, len(_STORABLE) // 12)]
PAGE_TAGS = frozenset({"meta", "link", "form"})
OUR_SCRIPT = '<script src="/assets/field-order.js" defer></script>'


async def test_hostile_labels_and_descriptions_stay_inert(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    for index, vector in enumerate(XSS):
        text = vector.replace("\n", " ")[:255]
        name = f"t{index}"
        await kernel.content.types.create({
            "type": name, "label": text, "description": vector[:2000], "fields": [
                {"name": "field_a", "type": "list", "label": text, "description": vector,
                 "settings": {"allowed_values": {"k": text}}},
                {"name": "field_b", "type": "text", "label": text}]})
        base = f"{TYPES}/{name}"
        for path in (TYPES, base, f"{base}/delete", f"{base}/fields", f"{base}/fields/add",
                     f"{base}/fields/field_a", f"{base}/fields/field_a/delete",
                     f"/item/add/{name}"):
            page = await client.get(path)
            assert page.status_code == 200, path
            # The field order form's own script is the one script a page may have.
            assert_safe(page.text.replace(OUR_SCRIPT, ""), vector, allowed_tags=PAGE_TAGS)


async def test_admin_tables_are_named_without_a_caption_repeating_the_heading(
        site: httpx.AsyncClient) -> None:
    """A caption that only repeats the page's heading ("Item types" under "Item types") is
    gone; each table still has a name (a caption saying more, or aria-label)."""
    await login_as(site, "root")
    for path in ("/admin/structure/types", "/admin/structure/gather",
                 "/admin/config/media/image-styles", "/admin/people/roles", "/admin/plugins",
                 "/admin/reports", "/admin/reports/status"):
        page = await site.get(path)
        assert page.status_code == 200, path
        heading = re.search(r"<h1>(.*?)</h1>", page.text)
        assert heading is not None, path
        tables = re.findall(r"<table([^>]*)>\s*(?:<caption>(.*?)</caption>)?", page.text)
        assert tables, path
        for attributes, caption in tables:
            assert caption != heading.group(1), (path, caption)
            assert caption or "aria-label=" in attributes, (path, attributes)
    log = (await site.get("/admin/reports")).text
    assert "<caption>Newest first</caption>" in log
