"""The form taps with a real plugin (``former``, built from tests/plugins/fixtures) on the item
form: ``form_alter`` adds an input (and cannot take over the kernel's), ``form_validate``
refuses a value next to its input or in the summary, ``form_submit`` hears of the saved item,
``form_ajax`` adds to the part "Add another" rebuilt, with and without JavaScript."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests._plugin_cache import plugin_cache_dir
from tests.conftest import ADMIN_PASSWORD, create_account, running_app, site_settings
from tests.web._item_forms import article_values, hidden_inputs, item_id_of, post_form
from tests.web.test_item import _site
from trovato.plugins.build import build_plugin

FIXTURES = Path(__file__).resolve().parents[1] / "plugins" / "fixtures"


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    build_plugin(FIXTURES / "former", cache_dir=plugin_cache_dir() / "plugin-builds")
    settings = site_settings(db_url, plugin_dirs=str(FIXTURES), data_dir=plugin_cache_dir())
    async with running_app(settings) as client:
        await client._transport.app.state.kernel.plugins.install("former")  # type: ignore[attr-defined]
        yield client


async def test_plugins_alter_validate_and_hear_of_the_item_form(
    site: httpx.AsyncClient, db_url: str,
) -> None:
    client = site
    await _site(client)
    page = await client.get("/item/add/article")
    assert page.status_code == 200
    text = page.text
    assert '<label for="edit-former-note">Former note</label>' in text
    assert "Kept by the former plugin." in text
    assert 'action="/item/add/article"' in text and "evil.example" not in text
    assert text.count('name="csrf_token"') == 2  # the form's and the log-out form's, no more
    hidden = hidden_inputs(text)

    refused = await post_form(client, "/item/add/article", hidden,
                              article_values("A forbidden title", former_note="kept note"))
    assert refused.status_code == 400
    assert '<a href="#edit-title">Former refuses forbidden titles.</a>' in refused.text
    assert 'id="edit-title--error">Former refuses forbidden titles.</div>' in refused.text
    assert ('name="former_note" aria-describedby="edit-former-note--description"'
            ' value="kept note"') in refused.text

    nope = await post_form(client, "/item/add/article", hidden_inputs(refused.text),
                           article_values("Fine", former_note="nope"))
    assert nope.status_code == 400 and "<li>Former says nope.</li>" in nope.text

    saved = await post_form(client, "/item/add/article", hidden_inputs(nope.text),
                            article_values("Fine", former_note="hello"))
    item_id = item_id_of(saved)
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    rows = await kernel.db.fetch("SELECT form_id, note, item_id FROM p_former__submission")
    assert [dict(r) for r in rows] == [{"form_id": "item_form", "note": "hello",
                                       "item_id": item_id}]
    # The edit form has the plugin's input too.
    assert "Former note" in (await client.get(f"/item/{item_id}/edit")).text


async def test_plugins_never_see_a_password(site: httpx.AsyncClient) -> None:
    client = site
    await create_account(client, "alice")
    page = await client.get("/user/login")
    response = await client.post("/user/login", data={
        **hidden_inputs(page.text), "name": "alice", "pass": ADMIN_PASSWORD})
    assert response.status_code == 303, response.text  # former refuses if it saw "pass"


async def test_plugins_add_to_a_rebuild_with_and_without_javascript(
    site: httpx.AsyncClient,
) -> None:
    client = site
    await _site(client)
    hidden = hidden_inputs((await client.get("/item/add/article")).text)
    values = article_values("T <i>", op="add_more:field_tags")
    rebuilt = await client.post("/form/ajax", data={**hidden, **values})
    assert rebuilt.status_code == 200, rebuilt.text
    said = "<p>Former saw add_more:field_tags with T &lt;i&gt;</p>"
    assert said in rebuilt.text and 'class="former-ajax"' in rebuilt.text
    assert 'name="status"' not in rebuilt.text  # shown as a container: never an input
    page = await post_form(client, "/item/add/article", hidden, values)
    assert page.status_code == 200 and said in page.text
    fieldset = page.text[page.text.index('id="edit-fields-field-tags"'):]
    assert fieldset.index(said) < fieldset.index("</fieldset>")  # in the rebuilt part
