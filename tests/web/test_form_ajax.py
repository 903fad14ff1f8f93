"""``POST /form/ajax/{build_id}``: "Add another value" with JavaScript answers the rebuilt
fieldset only, from the form's server-side state (the same state the no-JavaScript button
changes); a tampered, foreign or expired build id, a body naming another build id, a button
the form does not have and a missing CSRF token are refused and change nothing."""

from __future__ import annotations

import httpx

from tests.api.conftest import login_as
from tests.web._item_forms import article_values, item_id_of, open_form, post_form
from tests.web.test_item import _item, _site

ADD_TAG = {"op": "add_more:field_tags"}


async def _ajax(client: httpx.AsyncClient, hidden: dict[str, str], build_id: str | None = None,
                **data: str) -> httpx.Response:
    return await client.post(f"/form/ajax/{build_id or hidden['form_build_id']}",
                             data={**hidden, **article_values("Tagged"), **data})


async def test_add_another_answers_the_rebuilt_fieldset_and_keeps_the_state(
    client: httpx.AsyncClient,
) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    page = await client.get("/item/add/article")
    assert '<script src="/assets/js/forms.js" defer></script>' in page.text
    assert 'data-ajax-region id="edit-fields-field-tags"' in page.text
    assert 'data-ajax="rebuild"' in page.text
    rebuilt = await _ajax(client, hidden, **ADD_TAG, **{"fields[field_tags][0]": "one <b>"})
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.headers["cache-control"] == "private, no-store"
    html = rebuilt.text
    assert html.startswith("<fieldset") and html.rstrip().endswith("</fieldset>")
    assert 'id="edit-fields-field-tags"' in html  # the id of the fieldset it replaces
    assert 'name="fields[field_tags][0]" value="one &lt;b&gt;"' in html
    assert 'id="edit-fields-field-tags-1" name="fields[field_tags][1]" value=""' in html
    assert 'name="title"' not in html and "<html" not in html
    # Twice more: the state counts, the browser never decides how many values there are.
    await _ajax(client, hidden, **ADD_TAG)
    saved = await post_form(client, "/item/add/article", hidden, article_values(
        "Tagged", **{f"fields[field_tags][{d}]": f"t{d}" for d in range(4)}))
    item_id = item_id_of(saved)
    tags = (await client.get(f"/api/v1/items/{item_id}")).json()["fields"]["field_tags"]
    assert tags == [{"value": "t0"}, {"value": "t1"}, {"value": "t2"}]


async def test_the_edit_form_rebuilds_for_whoever_may_edit(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers, fields={
        "field_body": {"value": "b", "format": "plain_text"},
        "field_tags": [{"value": "a"}, {"value": "b"}]})
    hidden = await open_form(client, f"/item/{item_id}/edit")
    rebuilt = await _ajax(client, hidden, **ADD_TAG)
    assert rebuilt.status_code == 200
    assert 'name="fields[field_tags][2]"' in rebuilt.text
    # The item went away meanwhile: the rebuild is refused like the form.
    assert (await client.delete(f"/api/v1/items/{item_id}", headers=headers)).status_code == 204
    assert (await _ajax(client, hidden, **ADD_TAG)).status_code == 404


async def test_tampered_and_foreign_rebuilds_are_refused(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    hidden = await open_form(client, "/item/add/article")
    for build_id, status in (("form-not-a-build-id", 403), ("form-" + "A" * 32, 400)):
        refused = await _ajax(client, {**hidden, "form_build_id": build_id}, **ADD_TAG)
        assert refused.status_code == status, build_id
    # The body names another build id than the path.
    other = (await open_form(client, "/item/add/article"))["form_build_id"]
    assert (await _ajax(client, hidden, build_id=other, **ADD_TAG)).status_code == 400
    # Buttons the form does not have: no field, a single-value field, no button at all.
    for op in ("add_more:nope", "add_more:field_count", "save", ""):
        assert (await _ajax(client, hidden, op=op)).status_code == 400, op
    # A form without rebuilds (the delete confirmation).
    item_id = await _item(client, headers)
    delete = await open_form(client, f"/item/{item_id}/delete")
    assert (await _ajax(client, {**hidden, **delete}, **ADD_TAG)).status_code == 400
    # No CSRF token: refused by the pipeline, before the route.
    no_token = {k: v for k, v in hidden.items() if k != "csrf_token"}
    assert (await _ajax(client, no_token, **ADD_TAG)).status_code == 403
    # Nothing was rebuilt: the form's state still has one Tags value.
    page = await post_form(client, "/item/add/article", hidden,
                           article_values("", **{"fields[field_tags][0]": "x"}))
    assert page.status_code == 400 and 'name="fields[field_tags][0]" value="x"' in page.text
    assert 'name="fields[field_tags][1]"' not in page.text
    # Another session's state, with this session's own token.
    await login_as(client, "root")
    mine = await open_form(client, "/item/add/article")
    foreign = await _ajax(client, {**mine, "form_build_id": hidden["form_build_id"]},
                          **ADD_TAG)
    assert foreign.status_code == 403
