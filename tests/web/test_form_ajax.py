"""``POST /form/ajax``: "Add another value" with JavaScript answers the rebuilt fieldset only,
from the state sealed in the form's build id (the same state the no-JavaScript button
changes), followed by the build id sealing the changed state, which the next request carries;
a tampered, foreign or missing build id, a button the form does not have and a missing CSRF
token are refused and change nothing."""

from __future__ import annotations

import httpx

from tests.api.conftest import login_as
from tests.web._item_forms import (
    article_values,
    hidden_inputs,
    item_id_of,
    open_form,
    post_form,
    states_expired,
)
from tests.web.test_item import _item, _site

ADD_TAG = {"op": "add_more:field_tags"}


async def _ajax(client: httpx.AsyncClient, hidden: dict[str, str], **data: str
                ) -> httpx.Response:
    return await client.post("/form/ajax", data={**hidden, **article_values("Tagged"), **data})


def _rebuilt(hidden: dict[str, str], answer: httpx.Response) -> dict[str, str]:
    """``hidden`` with the build id the rebuild answered, as the script puts it in the form."""
    return {**hidden, "form_build_id": hidden_inputs(answer.text)["form_build_id"]}


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
    assert html.startswith("<fieldset")
    # The rebuilt fieldset, then the hidden input of the changed state's build id.
    _, build_input = html.rsplit("</fieldset>", 1)
    new_id = hidden_inputs(build_input)["form_build_id"]
    assert build_input.strip().startswith('<input type="hidden" name="form_build_id"')
    assert new_id != hidden["form_build_id"]
    assert 'id="edit-fields-field-tags"' in html  # the id of the fieldset it replaces
    assert 'name="fields[field_tags][0]" value="one &lt;b&gt;"' in html
    assert 'id="edit-fields-field-tags-1" name="fields[field_tags][1]" value=""' in html
    assert 'name="title"' not in html and "<html" not in html
    # Twice more, each with the build id the last one answered: the state counts, the browser
    # never decides how many values there are.
    hidden = _rebuilt(hidden, rebuilt)
    hidden = _rebuilt(hidden, await _ajax(client, hidden, **ADD_TAG))
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
    edited = hidden["form_build_id"][:-1] + ("A" if hidden["form_build_id"][-1] != "A" else "B")
    for build_id in ("form-not-a-build-id", edited):
        refused = await _ajax(client, {**hidden, "form_build_id": build_id}, **ADD_TAG)
        assert refused.status_code == 403, build_id
    no_build_id = {k: v for k, v in hidden.items() if k != "form_build_id"}
    assert (await _ajax(client, no_build_id, **ADD_TAG)).status_code == 403
    # An expired one: 400 (the script then submits the form, which shows it again).
    with states_expired(client):
        assert (await _ajax(client, hidden, **ADD_TAG)).status_code == 400
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
