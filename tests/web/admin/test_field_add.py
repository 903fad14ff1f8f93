"""Adding a field, ``/admin/structure/types/{type}/fields/add``: the two steps and going back
with what was typed kept, the field type's settings and widgets rebuilt for a new type (by the
"Update" button without JavaScript, through ``POST /form/ajax`` with it, from the
same server-side state), every field type's settings step, and expired, foreign and tampered
states or a stale CSRF token refused with the values kept and nothing saved, and what a
plugin's ``form_ajax`` adds to the rebuilt region."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests._plugin_cache import plugin_cache_dir
from tests.api.conftest import ARTICLE, login_as
from tests.conftest import running_app, site_settings
from tests.plugins.conftest import FIXTURES, kernel_of
from tests.web._item_forms import hidden_inputs, open_form, post_form, states_expired
from tests.web.test_item import _site
from trovato.content.fields.registry import FieldRegistry
from trovato.plugins.build import build_plugin

TYPES = "/admin/structure/types"
ADD = f"{TYPES}/article/fields/add"


async def _fields(client: httpx.AsyncClient, type_name: str = "article"
                  ) -> dict[str, dict[str, Any]]:
    shown = (await client.get(f"/api/v1/item-types/{type_name}")).json()
    return {f["name"]: f for f in shown["fields"]}


async def _settings_step(client: httpx.AsyncClient, field_type: str = "list",
                         label: str = "Colour") -> httpx.Response:
    hidden = await open_form(client, ADD)
    step = await post_form(client, ADD, hidden, {"label": label, "name": "",
                                                 "field_type": field_type, "op": "continue"})
    assert step.status_code == 200, step.text
    return step


def _sealed(build_id: str) -> list[Any]:
    """The state a build id carries, as anyone holding it can read it."""
    payload = build_id.split(".")[1]
    decoded: list[Any] = orjson.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def _region(text: str) -> str:
    """The HTML of the field type's region in a page."""
    start = text.index('<fieldset data-ajax-region class="form-fieldset" id="edit-type">')
    return text[start:text.index('name="required"', start)]


async def test_two_steps_and_back_keep_what_was_typed(client: httpx.AsyncClient) -> None:
    await _site(client)
    first = await client.get(ADD)
    assert "step 1 of 2" in first.text and 'value="continue"' in first.text
    assert 'name="settings[' not in first.text and 'name="widget"' not in first.text
    # Step 1 refuses a missing label, keeping the rest.
    refused = await post_form(client, ADD, hidden_inputs(first.text), {
        "label": "", "name": "shade", "field_type": "list", "op": "continue"})
    assert refused.status_code == 400 and "Label is required." in refused.text
    assert 'value="shade"' in refused.text and '<option value="list" selected>' in refused.text
    # Step 2: the settings and widgets of a list.
    step = await post_form(client, ADD, hidden_inputs(refused.text), {
        "label": "Shade", "name": "shade", "field_type": "list", "op": "continue"})
    assert step.status_code == 200 and "step 2 of 2" in step.text
    region = _region(step.text)
    assert 'data-ajax-trigger="update"' in region and 'data-ajax-update' in region
    assert 'name="settings[allowed_values]"' in region
    # Widgets are offered by their labels, stored by their machine names.
    assert '<option value="options_buttons">Check boxes or radio buttons</option>' in region
    # Back: step 1 with label, name and type as typed; the settings typed are kept for later.
    back = await post_form(client, ADD, hidden_inputs(step.text), {
        "label": "Shade of red", "name": "field_shade", "field_type": "list",
        "widget": "options_buttons", "settings[allowed_values]": "dark|Dark\nlight|Light",
        "cardinality": "3", "description": "Pick some", "op": "back"})
    assert back.status_code == 200 and "step 1 of 2" in back.text
    assert 'value="Shade of red"' in back.text and 'value="field_shade"' in back.text
    assert '<option value="list" selected>' in back.text
    assert 'name="settings[allowed_values]"' not in back.text
    # What was typed rides in the sealed state, which the browser can read: the form's own
    # inputs only, never the CSRF token or an earlier build id.
    kept = _sealed(hidden_inputs(back.text)["form_build_id"])
    assert kept[1]["kept"]["label"] == "Shade of red"
    assert kept[1]["per_type"]["list"]["settings[allowed_values]"] == "dark|Dark\nlight|Light"
    assert "csrf_token" not in repr(kept) and "fs1." not in repr(kept)
    again = await post_form(client, ADD, hidden_inputs(back.text), {
        "label": "Shade of red", "name": "field_shade", "field_type": "list",
        "op": "continue"})
    assert "dark|Dark\nlight|Light</textarea>" in again.text
    assert '<option value="options_buttons" selected>' in again.text
    assert '<option value="3" selected>' in again.text and "Pick some</textarea>" in again.text
    # The browser's own Back button, then "Continue" on the first step's page: the second
    # step again (what was typed kept), nothing saved.
    stale = await post_form(client, ADD, hidden_inputs(again.text), {
        "label": "Shade of red", "name": "field_shade", "field_type": "list",
        "op": "continue"})
    assert stale.status_code == 200 and "step 2 of 2" in stale.text
    assert "dark|Dark\nlight|Light</textarea>" in stale.text
    assert "field_shade" not in await _fields(client)
    saved = await post_form(client, ADD, hidden_inputs(again.text), {
        "label": "Shade of red", "name": "field_shade", "field_type": "list",
        "widget": "options_buttons", "settings[allowed_values]": "dark|Dark\nlight|Light",
        "cardinality": "3", "description": "Pick some", "op": "save"})
    assert saved.status_code == 303, saved.text
    assert (await _fields(client))["field_shade"] == {
        "name": "field_shade", "type": "list", "label": "Shade of red", "required": False,
        "cardinality": 3, "widget": "options_buttons",
        "settings": {"allowed_values": {"dark": "Dark", "light": "Light"}}}


async def test_update_rebuilds_the_settings_without_javascript(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    step = await _settings_step(client)
    common = {"label": "Colour", "name": "field_colour", "cardinality": "1",
              "description": "Kept help"}
    # The type changes: the integer's settings, no list settings, no widget to choose.
    rebuilt = await post_form(client, ADD, hidden_inputs(step.text), {
        **common, "field_type": "integer", "widget": "options_select",
        "settings[allowed_values]": "red|Red", "op": "update"})
    assert rebuilt.status_code == 200
    region = _region(rebuilt.text)
    assert '<option value="integer" selected>' in region
    assert 'name="settings[min]"' in region and 'name="settings[max]"' in region
    assert "allowed_values" not in region and 'name="widget"' not in region
    assert "Widget: Number field" in region and "Kept help</textarea>" in rebuilt.text
    # Back to a list: what was typed for the list is shown again.
    back = await post_form(client, ADD, hidden_inputs(rebuilt.text), {
        **common, "field_type": "list", "settings[min]": "4", "op": "update"})
    assert "red|Red</textarea>" in _region(back.text)
    # "Save field" after choosing another type (no Update pressed): nothing is saved, the
    # new type's settings are shown with a warning.
    switched = await post_form(client, ADD, hidden_inputs(back.text), {
        **common, "field_type": "integer", "widget": "options_select",
        "settings[allowed_values]": "red|Red", "op": "save"})
    assert switched.status_code == 200 and "nothing was saved" in switched.text
    assert 'value="4"' in _region(switched.text)  # the integer's min typed before
    assert "field_colour" not in await _fields(client)
    # A type that is not one of the options: refused next to the select, nothing changes.
    bad = await post_form(client, ADD, hidden_inputs(switched.text), {
        **common, "field_type": "no_such_type", "op": "update"})
    assert bad.status_code == 400 and "is not one of the options" in bad.text
    saved = await post_form(client, ADD, hidden_inputs(bad.text), {
        **common, "field_type": "integer", "settings[min]": "4", "settings[max]": "",
        "op": "save"})
    assert saved.status_code == 303, saved.text
    assert (await _fields(client))["field_colour"]["settings"] == {"min": 4, "max": None}


async def test_update_with_javascript_answers_the_region_from_the_state(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    step = await _settings_step(client, "text")
    hidden = hidden_inputs(step.text)
    typed = {"label": "Colour", "name": "field_colour", "cardinality": "1",
             "settings[max_length]": "80"}
    response = await client.post("/form/ajax", data={
        **hidden, **typed, "field_type": "reference", "op": "update"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    html = response.text
    assert html.startswith('<fieldset data-ajax-region class="form-fieldset" id="edit-type">')
    assert "<html" not in html
    # After the region, the build id of the changed state, which the script puts in the form.
    _, sealed = html.rsplit("</fieldset>", 1)
    rebuilt = hidden_inputs(sealed)["form_build_id"]
    assert sealed.strip().startswith('<input type="hidden" name="form_build_id"')
    assert '<option value="reference" selected>' in html
    assert 'name="settings[target_type]"' in html and 'name="settings[target_bundles]"' in html
    assert "max_length" not in html and 'name="label"' not in html
    # The new build id saves a reference (no page was loaded).
    saved = await post_form(client, ADD, {**hidden, "form_build_id": rebuilt}, {
        **typed, "field_type": "reference", "settings[target_type]": "user", "op": "save"})
    assert saved.status_code == 303, saved.text
    assert (await _fields(client))["field_colour"]["settings"] == {
        "target_type": "user", "target_bundles": []}
    # Refusals: a tampered build id, a button the step does not have, a type that is not an
    # option; none changes anything.
    assert (await client.post("/form/ajax", data={
        **hidden, "form_build_id": "form-x", "op": "update"})).status_code == 403
    first = hidden_inputs((await client.get(ADD)).text)
    assert (await client.post("/form/ajax", data={
        **first, "field_type": "text", "op": "update"})).status_code == 400
    step = hidden_inputs((await _settings_step(client, "text", "Other")).text)
    bad = await client.post("/form/ajax", data={
        **step, "field_type": "nope", "op": "update"})
    assert bad.status_code == 400 and "not one of the options" in bad.text
    # Without the permission the rebuild is refused.
    client.cookies.clear()
    assert (await client.post("/form/ajax", data={
        **step, "field_type": "text", "op": "update"})).status_code == 403
    assert set(await _fields(client)) == {"field_body", "field_count", "field_tags",
                                          "field_colour"}


async def test_every_field_type_has_its_settings_step(client: httpx.AsyncClient) -> None:
    await _site(client)
    registry = FieldRegistry()
    for field_type in registry.all():
        step = await _settings_step(client, field_type.name, f"A {field_type.name}")
        region = _region(step.text)
        properties = field_type.settings_schema().get("properties") or {}
        for key in properties:
            assert f'name="settings[{key}]"' in region, (field_type.name, key)
        if not properties:
            assert f"{field_type.label} fields have no settings." in region
        values = {"label": f"A {field_type.name}", "name": f"field_a_{field_type.name}",
                  "field_type": field_type.name, "cardinality": "1", "op": "save"}
        if field_type.name == "list":
            values.update({"settings[allowed_values]": "a|A", "widget": "options_select"})
        saved = await post_form(client, ADD, hidden_inputs(step.text), values)
        assert saved.status_code == 303, (field_type.name, saved.text)
    shown = await _fields(client)
    assert {shown[f"field_a_{t.name}"]["type"] for t in registry.all()} == \
        {t.name for t in registry.all()}


async def test_file_settings_say_what_they_mean(client: httpx.AsyncClient) -> None:
    await _site(client)
    region = _region((await _settings_step(client, "image", "Photo")).text)
    assert ">Storage</label>" in region and "Uri scheme" not in region
    assert "private files only to readers of an item that uses them" in region
    assert ">Allowed file extensions</label>" in region
    assert "One per line. Without the dot (pdf, png). Empty allows any extension." in region
    assert ">Alt required</label>" in region  # a title from its name, as before


async def test_expired_foreign_and_stale_submissions_keep_the_values(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    typed = {"label": "Colour", "name": "field_colour", "field_type": "list",
             "cardinality": "1", "settings[allowed_values]": "red|Red", "op": "save"}
    hidden = hidden_inputs((await _settings_step(client)).text)
    # An expired state: the settings step again, with everything typed and the message.
    with states_expired(client):
        expired = await post_form(client, ADD, hidden, typed)
    assert expired.status_code == 400
    assert "The form has expired, please submit again." in expired.text
    assert 'value="Colour"' in expired.text and "red|Red</textarea>" in expired.text
    assert '<option value="list" selected>' in expired.text
    # Another form's state (a field's edit form): refused the same way.
    other = hidden_inputs((await client.get(f"{TYPES}/article/fields/field_body")).text)
    foreign = await post_form(client, ADD, {**hidden, "form_build_id": other["form_build_id"]},
                              typed)
    assert foreign.status_code == 400
    assert "does not belong to this form or session" in foreign.text
    assert "red|Red</textarea>" in foreign.text
    # A malformed build id, an unknown one: tampered.
    for build_id in ("form-<x>", "form-" + "a" * 32):
        tampered = await post_form(client, ADD, {**hidden, "form_build_id": build_id}, typed)
        assert tampered.status_code == 400 and "red|Red</textarea>" in tampered.text
    # A stale CSRF token: "expired", 403, the values kept.
    stale = await post_form(client, ADD, {**hidden, "csrf_token": "stale"}, typed)
    assert stale.status_code == 403
    assert "The form has expired, please submit again." in stale.text
    assert "red|Red</textarea>" in stale.text and 'value="field_colour"' in stale.text
    assert "field_colour" not in await _fields(client)
    # The form shown again saves.
    saved = await post_form(client, ADD, hidden_inputs(stale.text), {
        **typed, "widget": "options_select"})
    assert saved.status_code == 303, saved.text
    assert "field_colour" in await _fields(client)


@pytest.fixture
async def former_site(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with the ``former`` test plugin, which answers ``form_ajax``."""
    build_plugin(FIXTURES / "former", cache_dir=plugin_cache_dir() / "plugin-builds")
    settings = site_settings(db_url, plugin_dirs=str(FIXTURES), data_dir=plugin_cache_dir())
    async with running_app(settings) as client:
        await kernel_of(client).plugins.install("former")
        yield client


async def test_form_ajax_adds_to_the_rebuilt_region(former_site: httpx.AsyncClient) -> None:
    client = former_site
    await _site(client)
    step = await _settings_step(client, "text", "Tone <b>")
    hidden = hidden_inputs(step.text)
    said = "<p>Former saw update with Tone &lt;b&gt;</p>"
    values = {"label": "Tone <b>", "name": "field_tone", "cardinality": "1",
              "field_type": "integer", "op": "update"}
    rebuilt = await client.post("/form/ajax", data={**hidden, **values})
    assert rebuilt.status_code == 200 and said in rebuilt.text
    assert 'name="status"' not in rebuilt.text  # the plugin's input is shown, never read
    page = await post_form(client, ADD, hidden, {**values, "field_type": "float"})
    assert said in _region(page.text)


async def test_a_references_targets_are_ticked_not_typed(site: httpx.AsyncClient) -> None:
    headers = await login_as(site, "root")
    assert (await site.post("/api/v1/item-types", headers=headers, json=ARTICLE)
            ).status_code == 201
    page = await site.post("/api/v1/item-types", headers=headers,
                           json={"type": "page", "label": "Basic <page>"})
    assert page.status_code == 201, page.text
    vocabulary = await site.post("/api/v1/categories/vocabularies", headers=headers,
                                 json={"id": "topics", "label": "Topics"})
    assert vocabulary.status_code == 201, vocabulary.text
    step = await _settings_step(site, "reference", "Related")
    region = _region(step.text)
    assert 'name="settings[target_bundles]" value="article">' in region
    assert "Basic &lt;page&gt; (page)" in region  # the type's label, escaped
    assert 'name="settings[target_vocabularies]" value="topics"' in region
    assert "<textarea" not in region  # nothing typed by name
    common = {"label": "Related", "name": "field_related", "cardinality": "1",
              "field_type": "reference", "op": "save"}
    # A name that is no item type is not one of the choices: refused, naming the input.
    unknown = await post_form(site, ADD, hidden_inputs(step.text), {
        **common, "settings[target_type]": "item", "settings[target_bundles]": "nope"})
    assert unknown.status_code == 400
    assert "Item types: a chosen value is not one of the options." in unknown.text
    # Vocabularies ticked for a field pointing at items: said, not dropped.
    crossed = await post_form(site, ADD, hidden_inputs(unknown.text), {
        **common, "settings[target_type]": "item", "settings[target_bundles]": "page",
        "settings[target_vocabularies]": "topics"})
    assert crossed.status_code == 400
    assert "Vocabularies apply only when the target type is category_tag" in crossed.text
    assert "field_related" not in await _fields(site)
    saved = await post_form(site, ADD, hidden_inputs(crossed.text), {
        **common, "settings[target_type]": "item",
        "settings[target_bundles]": ["page", "article"]})
    assert saved.status_code == 303, saved.text
    assert (await _fields(site))["field_related"]["settings"] == {
        "target_type": "item", "target_bundles": ["page", "article"]}

    # Editing: the ticks shown; pointing at tags reads the vocabularies' boxes.
    edit_path = f"{TYPES}/article/fields/field_related"
    edit = await site.get(edit_path)
    assert 'name="settings[target_bundles]" value="page" checked' in edit.text
    refused = await site.post(edit_path, data={
        "label": "Related", "cardinality": "1", "op": "save", "settings[target_type]":
        "category_tag", "settings[target_vocabularies]": "topics"})  # no CSRF token
    assert refused.status_code in (400, 403) and "The form has expired" in refused.text
    assert (await _fields(site))["field_related"]["settings"]["target_type"] == "item"
    tagged = await post_form(site, edit_path, hidden_inputs(refused.text), {
        "label": "Related", "cardinality": "1", "op": "save",
        "settings[target_type]": "category_tag", "settings[target_vocabularies]": "topics"})
    assert tagged.status_code == 303, tagged.text
    # Free tagging is a setting of tag fields only, unticked here: existing tags only.
    assert (await _fields(site))["field_related"]["settings"] == {
        "target_type": "category_tag", "target_bundles": ["topics"], "free_tagging": False}
    edit = await site.get(edit_path)
    assert 'name="settings[target_vocabularies]" value="topics" checked' in edit.text
    box = re.search(r'<input[^>]*name="settings\[free_tagging\]"[^>]*>', edit.text)
    assert box is not None and "checked" not in box[0]  # shown unticked
    assert 'name="settings[target_bundles]" value="page" checked' not in edit.text
