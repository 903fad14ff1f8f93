"""The reference autocomplete: ``GET /autocomplete/{type}/{field}?q=`` answers at most ten items
the asking user may see (role rule, stage), of the field's target types, those starting with
the text first, with ``%`` and ``_`` matched literally and the text's length bounded; the item
form's reference input takes "Title (id)" or an id, and shows the title of what it points at."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.api.conftest import login_as
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs, item_id_of, open_form, post_form
from tests.web.test_categories import TAGS, _tag
from tests.web.test_categories import _site as _tag_site
from tests.web.test_item import _item, _site, _writer

NOTE: dict[str, Any] = {
    "type": "note", "label": "Note", "fields": [
        {"name": "field_see", "type": "reference", "label": "See also",
         "settings": {"target_type": "item", "target_bundles": ["article"]}},
        {"name": "field_text", "type": "text", "label": "Text"},
    ]}


async def _notes(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await _site(client)
    made = await client.post("/api/v1/item-types", json=NOTE, headers=headers)
    assert made.status_code == 201, made.text
    return headers


async def _ask(client: httpx.AsyncClient, q: str, path: str = "/autocomplete/note/field_see",
               **headers: str) -> httpx.Response:
    return await client.get(path, params={"q": q}, headers=headers)


def _labels(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [match["label"] for match in response.json()]


async def test_matches_are_the_visible_items_of_the_target_types(
    client: httpx.AsyncClient,
) -> None:
    headers = await _notes(client)
    ids = {title: await _item(client, headers, title=title) for title in (
        "The alpha story", "Alpha one", "100% pure", "under_score", "back\\slash")}
    await _item(client, headers, title="Alpha draft", status=0)
    await _item(client, headers, type="note", title="Alpha note", fields={})
    answer = await _ask(client, "ALPHA")
    assert answer.headers["cache-control"] == "private, no-store"
    assert _labels(answer) == ["Alpha draft", "Alpha one", "The alpha story"]
    first = answer.json()[1]
    assert first == {"id": ids["Alpha one"], "label": "Alpha one",
                     "value": f"Alpha one ({ids['Alpha one']})"}
    # LIKE's wildcards and escape are plain characters.
    assert _labels(await _ask(client, "%")) == ["100% pure"]
    assert _labels(await _ask(client, "_")) == ["under_score"]
    assert _labels(await _ask(client, "\\")) == ["back\\slash"]
    assert _labels(await _ask(client, "  ")) == []
    long = await _ask(client, "a" * 129)
    assert long.status_code == 400 and "at most 128" in long.text
    assert (await _ask(client, "a" * 128)).status_code == 200
    # A writer sees the published items and their own drafts only.
    await _writer(client, headers, "writer", ["access content", "create note content"])
    await login_as(client, "writer")
    assert _labels(await _ask(client, "alpha")) == ["Alpha one", "The alpha story"]


async def test_at_most_ten_matches(client: httpx.AsyncClient) -> None:
    headers = await _notes(client)
    for n in range(12):
        await _item(client, headers, title=f"Many {n:02}")
    assert _labels(await _ask(client, "many")) == [f"Many {n:02}" for n in range(10)]


async def test_a_stage_shows_its_own_items(client: httpx.AsyncClient) -> None:
    headers = await _notes(client)
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    staged = await client.post("/api/v1/items", headers={**headers, "X-Trovato-Stage": "spring"},
                               json={"type": "article", "title": "Staged alpha", "status": 1,
                                     "fields": {"field_body": {"value": "b",
                                                               "format": "plain_text"}}})
    assert staged.status_code == 201, staged.text
    assert _labels(await _ask(client, "alpha")) == []
    assert _labels(await _ask(client, "alpha", **{"X-Trovato-Stage": "spring"})) == [
        "Staged alpha"]


async def test_who_may_ask_and_about_what(client: httpx.AsyncClient) -> None:
    headers = await _notes(client)
    assert (await _ask(client, "a", "/autocomplete/note/field_text")).status_code == 404
    assert (await _ask(client, "a", "/autocomplete/note/nope")).status_code == 404
    assert (await _ask(client, "a", "/autocomplete/nope/field_see")).status_code == 404
    await _writer(client, headers, "reader", ["access content"])
    await login_as(client, "reader")
    assert (await _ask(client, "a")).status_code == 403
    await _writer(client, headers, "editor", ["access content", "edit own note content"])
    await login_as(client, "editor")
    assert (await _ask(client, "a")).status_code == 200
    client.cookies.clear()
    assert (await _ask(client, "a")).status_code == 403


async def test_the_form_takes_title_and_id_and_shows_the_title(
    client: httpx.AsyncClient,
) -> None:
    headers = await _notes(client)
    target = await _item(client, headers, title="Target <one>")
    page = await client.get("/item/add/note")
    assert 'data-autocomplete="/autocomplete/note/field_see"' in page.text
    assert 'name="fields[field_see][target_id]"' in page.text
    saved = await post_form(client, "/item/add/note", hidden_inputs(page.text), {
        "title": "A note", "fields[field_see][target_id]": f"Anything ({target})",
        "status": "1", "op": "save"})
    note_id = item_id_of(saved)
    note = (await client.get(f"/api/v1/items/{note_id}")).json()
    assert note["fields"]["field_see"] == {"target_id": target, "target_type": "item"}
    edit = await client.get(f"/item/{note_id}/edit")
    assert f'value="Target &lt;one&gt; ({target})"' in edit.text
    # A title alone is no reference: refused next to the input, as typed.
    hidden = await open_form(client, f"/item/{note_id}/edit")
    refused = await post_form(client, f"/item/{note_id}/edit", hidden, {
        "title": "A note", "fields[field_see][target_id]": "Target <one>", "op": "save"})
    assert refused.status_code in (400, 422)
    assert 'aria-invalid="true"' in refused.text and 'value="Target &lt;one&gt;"' in refused.text
    # Someone who may not see the target sees its id, never its title.
    unpublished = await client.patch(f"/api/v1/items/{target}", headers=headers,
                                     json={"status": 0})
    assert unpublished.status_code == 200, unpublished.text
    await _writer(client, headers, "writer", ["access content", "edit any note content"])
    await login_as(client, "writer")
    hidden_edit = await client.get(f"/item/{note_id}/edit")
    assert f'value="{target}"' in hidden_edit.text and "Target &lt;one&gt;" not in hidden_edit.text


async def test_a_tag_field_suggests_the_tags_of_its_vocabulary(
    client: httpx.AsyncClient,
) -> None:
    """A tag reference's input names the endpoint, so it answers: the field's vocabulary's
    tags whose name starts with the text (another vocabulary's never), each with the text a
    pick inserts: the name, quoted when it holds a comma."""
    headers = await _tag_site(client)
    jazz = await _tag(client, headers, "Jazz")
    await _tag(client, headers, "Java beans")
    await _tag(client, headers, "Rock")
    await client.post("/api/v1/categories/vocabularies", headers=headers,
                      json={"id": "places", "label": "Places"})
    await client.post(TAGS, headers=headers, json={"vocabulary": "places", "name": "Jaipur"})
    page = await client.get("/item/add/post")
    assert 'data-autocomplete="/autocomplete/post/field_topics"' in page.text
    assert 'data-tags="multiple"' in page.text
    assert "Type the tags&#39; names, separated by commas" in page.text
    answer = await _ask(client, "ja", "/autocomplete/post/field_topics")
    assert sorted(_labels(answer)) == ["Java beans", "Jazz"]
    assert {"id": jazz["id"], "label": "Jazz", "value": "Jazz"} in answer.json()
    comma = await _tag(client, headers, "Jazz, cool")
    answer = await _ask(client, "jazz,", "/autocomplete/post/field_topics")
    assert answer.json() == [{"id": comma["id"], "label": "Jazz, cool",
                              "value": '"Jazz, cool"'}]


async def test_the_form_shows_a_tag_by_its_name(client: httpx.AsyncClient) -> None:
    """An edit form shows a tag by its name, never its id, and saving it unchanged keeps the
    same tag."""
    headers = await _tag_site(client)
    jazz = await _tag(client, headers, "Jazz <live>")
    made = await client.post("/api/v1/items", headers=headers, json={
        "type": "post", "title": "A gig", "status": 1,
        "fields": {"field_topics": [{"target_id": jazz["id"], "target_type": "category_tag"}]}})
    assert made.status_code == 201, made.text
    post = made.json()["id"]
    edit = await client.get(f"/item/{post}/edit")
    assert 'value="Jazz &lt;live&gt;"' in edit.text and jazz["id"] not in edit.text
    saved = await post_form(client, f"/item/{post}/edit", hidden_inputs(edit.text), {
        "title": "A gig", "fields[field_topics][target_id]": "Jazz <live>", "op": "save"})
    assert saved.status_code in (200, 303), saved.text
    topics = (await client.get(f"/api/v1/items/{post}")).json()["fields"]["field_topics"]
    assert topics == [{"target_id": jazz["id"], "target_type": "category_tag"}]


async def _topics(client: httpx.AsyncClient, item_id: str) -> list[str]:
    fields = (await client.get(f"/api/v1/items/{item_id}")).json()["fields"]
    return [t["target_id"] for t in fields.get("field_topics") or []]


def _shown(page: str) -> str:
    """The text of the form's tag input, as a browser reads it."""
    found = re.search(r'name="fields\[field_topics\]\[target_id\]"[^>]*value="([^"]*)"', page)
    assert found is not None, page
    return html.unescape(found[1])


async def test_tag_names_round_trip_through_the_form(client: httpx.AsyncClient) -> None:
    """The names typed are the tags saved: existing ones found (ignoring case), new ones made
    (free tagging), a name with a comma or quotes written quoted; the edit form shows the same
    line back, and saving it unchanged keeps every tag."""
    headers = await _tag_site(client)
    jazz = await _tag(client, headers, "Jazz")
    rock = await _tag(client, headers, 'Rock, "pop"')
    hidden = await open_form(client, "/item/add/post")
    made = await post_form(client, "/item/add/post", hidden, {
        "title": "Gig", "fields[field_topics][target_id]": 'jazz, "Rock, ""pop""", Polka',
        "op": "save"})
    post = item_id_of(made)
    topics = await _topics(client, post)
    polka = topics[2]
    assert topics[:2] == [jazz["id"], rock["id"]]
    assert (await client.get(f"{TAGS}/{polka}")).json()["name"] == "Polka"
    edit = await client.get(f"/item/{post}/edit")
    assert _shown(edit.text) == 'Jazz, "Rock, ""pop""", Polka'
    saved = await post_form(client, f"/item/{post}/edit", hidden_inputs(edit.text), {
        "title": "Gig", "fields[field_topics][target_id]": _shown(edit.text), "op": "save"})
    assert saved.status_code == 303, saved.text
    assert await _topics(client, post) == [jazz["id"], rock["id"], polka]


async def test_a_name_two_tags_share_is_never_guessed(client: httpx.AsyncClient) -> None:
    """Two vocabularies of the field have a "Jazz": typed alone it is refused next to the
    field, listing both as "Name (id)"; typed so it is that tag. The form shows such a tag as
    "Name (id)" (a unique name stays bare), and the autocomplete offers it so."""
    headers = await _tag_site(client)
    await client.post("/api/v1/categories/vocabularies", headers=headers,
                      json={"id": "genres", "label": "Genres"})
    changed = await client.patch("/api/v1/item-types/post", headers=headers, json={
        "fields": [{"name": "field_topics", "type": "reference", "label": "Topics",
                    "cardinality": -1, "settings": {"target_type": "category_tag",
                                                    "target_bundles": ["topics", "genres"]}}]})
    assert changed.status_code == 200, changed.text
    jazz = await _tag(client, headers, "Jazz")
    other = (await client.post(TAGS, headers=headers,
                               json={"vocabulary": "genres", "name": "jazz"})).json()
    rock = await _tag(client, headers, "Rock")
    hidden = await open_form(client, "/item/add/post")
    refused = await post_form(client, "/item/add/post", hidden, {
        "title": "Gig", "fields[field_topics][target_id]": "Jazz, Rock", "op": "save"})
    assert refused.status_code == 400
    message = html.unescape(refused.text)
    assert "“Jazz” is the name of 2 tags; write the one you mean with its id:" in message
    assert f"“Jazz ({jazz['id']})” (in topics)" in message
    assert f"“jazz ({other['id']})” (in genres)" in message
    assert 'id="edit-fields-field-topics--error"' in refused.text
    assert _shown(refused.text) == "Jazz, Rock"  # what was typed, kept
    assert await _count(client) == 0
    made = await post_form(client, "/item/add/post", hidden_inputs(refused.text), {
        "title": "Gig", "fields[field_topics][target_id]": f"Jazz ({other['id']}), Rock",
        "op": "save"})
    post = item_id_of(made)
    assert await _topics(client, post) == [other["id"], rock["id"]]
    edit = await client.get(f"/item/{post}/edit")
    assert _shown(edit.text) == f"jazz ({other['id']}), Rock"
    answer = await _ask(client, "jaz", "/autocomplete/post/field_topics")
    assert sorted(m["value"] for m in answer.json()) == sorted(
        [f"Jazz ({jazz['id']})", f"jazz ({other['id']})"])


async def test_an_unknown_name_is_a_new_tag_only_where_the_field_allows_it(
        client: httpx.AsyncClient) -> None:
    """With free tagging (the default) a new name makes the tag; without it the field says
    which name is unknown, and nothing is saved; the API refuses it too."""
    headers = await _tag_site(client)
    await _tag(client, headers, "Jazz")
    changed = await client.patch("/api/v1/item-types/post", headers=headers, json={
        "fields": [{"name": "field_topics", "type": "reference", "label": "Topics",
                    "cardinality": -1, "settings": {"target_type": "category_tag",
                                                    "target_bundles": ["topics"],
                                                    "free_tagging": False}}]})
    assert changed.status_code == 200, changed.text
    hidden = await open_form(client, "/item/add/post")
    refused = await post_form(client, "/item/add/post", hidden, {
        "title": "Gig", "fields[field_topics][target_id]": "Jazz, Polka, Tango", "op": "save"})
    assert refused.status_code == 400
    assert ("There is no tag “Polka” or “Tango” in “Topics”; this field takes existing tags"
            " only.") in html.unescape(refused.text)
    assert _shown(refused.text) == "Jazz, Polka, Tango"
    assert await _count(client) == 0
    listed = (await client.get("/api/v1/categories/vocabularies/topics/tags")).json()["tags"]
    assert [t["name"] for t in listed] == ["Jazz"]
    api = await client.post("/api/v1/items", headers=headers, json={
        "type": "post", "title": "Gig", "fields": {"field_topics": [{"name": "Polka"}]}})
    assert api.status_code == 422
    assert "takes existing tags only" in api.json()["errors"]["fields.field_topics.0"]


async def _count(client: httpx.AsyncClient) -> int:
    return int(await kernel_of(client).db.fetchval("SELECT count(*) FROM item"))
