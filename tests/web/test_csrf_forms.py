"""A form posted with a missing or stale CSRF token, on every form route: refused (403) with
"The form has expired, please submit again.", nothing changed, what was typed shown again in
the form and a fresh token in it (so submitting the form again works); every other unsafe
request without its token is still refused before any route runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.api.conftest import login_as
from tests.conftest import ADMIN_PASSWORD, create_account
from tests.plugins.conftest import kernel_of
from tests.web._forms import form_token
from tests.web._item_forms import article_values, hidden_inputs, item_id_of, open_form
from tests.web.test_item import _item, _site

EXPIRED = "The form has expired, please submit again."
TYPED = "Kept <typed> value"
TYPED_SHOWN = "Kept &lt;typed&gt; value"

Check = Callable[[], Awaitable[object]]


async def _refused_both_ways(client: httpx.AsyncClient, path: str, form_path: str,
                             data: dict[str, Any], *, shown: list[str],
                             state: Check, relogin: str | None = "root") -> httpx.Response:
    """Post ``data`` to ``path`` without a token, then with a stale one (of a session that
    ended; ``relogin`` logs in again after it, else the next session is anonymous); both
    refused with every ``shown`` text in the form and ``state()`` as before. Returns the last
    refusal."""
    before = await state()
    posted = {k: v for k, v in data.items() if k != "csrf_token"}
    missing = await client.post(path, data=posted)
    stale = await form_token(client, form_path)
    client.cookies.clear()
    if relogin is not None:
        await login_as(client, relogin)
    expired = await client.post(path, data={**posted, "csrf_token": stale})
    for response in (missing, expired):
        assert response.status_code == 403, response.text
        assert EXPIRED in response.text
        for text in shown:
            assert text in response.text, text
        assert hidden_inputs(response.text).get("csrf_token")
        assert await state() == before
    assert hidden_inputs(expired.text)["csrf_token"] != stale
    return expired


async def _item_row(client: httpx.AsyncClient, item_id: str) -> object:
    return await kernel_of(client).db.fetchrow(
        "SELECT title, status, current_revision_id, fields FROM item WHERE id = %s", (item_id,))


async def _count(client: httpx.AsyncClient, table: str) -> object:
    return await kernel_of(client).db.fetchval(f"SELECT count(*) FROM {table}")


async def test_item_add_keeps_the_values_and_saves_nothing(client: httpx.AsyncClient) -> None:
    await _site(client)
    hidden = await open_form(client, "/item/add/article")
    refused = await _refused_both_ways(
        client, "/item/add/article", "/item/add/article",
        {**hidden, **article_values(TYPED, "My body <b>", **{"fields[field_count]": "3"})},
        shown=[f'value="{TYPED_SHOWN}"', "My body &lt;b&gt;</textarea>", 'value="3"'],
        state=lambda: _count(client, "item"))
    # The form shown again carries a fresh token and state: submitting it again works.
    again = await client.post("/item/add/article",
                              data={**hidden_inputs(refused.text), **article_values(TYPED)})
    item_id = item_id_of(again)
    assert (await client.get(f"/api/v1/items/{item_id}")).json()["title"] == TYPED


async def test_item_edit_keeps_the_values_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers)
    hidden = await open_form(client, f"/item/{item_id}/edit")
    await _refused_both_ways(
        client, f"/item/{item_id}/edit", f"/item/{item_id}/edit",
        {**hidden, **article_values(TYPED, "Changed body")},
        shown=[f'value="{TYPED_SHOWN}"', "Changed body</textarea>"],
        state=lambda: _item_row(client, item_id))
    # "Add another" changes nothing either.
    adding = await client.post(f"/item/{item_id}/edit", data={
        **{k: v for k, v in hidden.items() if k != "csrf_token"},
        **article_values(TYPED, op="add_more:field_tags")})
    assert adding.status_code == 403 and 'name="fields[field_tags][1]"' not in adding.text


async def test_item_delete_and_revert_change_nothing(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    item_id = await _item(client, headers)
    await client.patch(f"/api/v1/items/{item_id}", headers=headers,
                       json={"title": "Second title"})
    hidden = await open_form(client, f"/item/{item_id}/delete")
    await _refused_both_ways(
        client, f"/item/{item_id}/delete", f"/item/{item_id}/delete",
        {**hidden, "op": "confirm"}, shown=['value="confirm">Delete</button>'],
        state=lambda: _item_row(client, item_id))
    revisions = (await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]
    first = revisions[-1]["id"]
    path = f"/item/{item_id}/revisions/{first}/revert"
    hidden = await open_form(client, path)
    await _refused_both_ways(
        client, path, path, {**hidden, "op": "confirm"},
        shown=['value="confirm">Revert</button>'],
        state=lambda: _count(client, "item_revision"))


async def test_login_keeps_the_name_and_logs_nobody_in(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    client.cookies.clear()
    await form_token(client, "/user/login")

    async def who() -> object:
        return (await client.get("/api/v1/users/me")).json()["authenticated"]

    refused = await _refused_both_ways(
        client, "/user/login", "/user/login", {"name": "alice <x>", "pass": ADMIN_PASSWORD},
        shown=['value="alice &lt;x&gt;"'], state=who, relogin=None)
    assert ADMIN_PASSWORD not in refused.text  # a password is never shown again


async def test_install_keeps_the_values_and_creates_nobody(client: httpx.AsyncClient) -> None:
    await form_token(client, "/install")
    await _refused_both_ways(
        client, "/install", "/install",
        {"name": "admin", "mail": "a@example.com", "pass": ADMIN_PASSWORD,
         "pass_confirm": ADMIN_PASSWORD},
        shown=['value="admin"', 'value="a@example.com"'],
        state=lambda: _count(client, "users"), relogin=None)


async def test_stage_switch_and_publish_change_nothing(client: httpx.AsyncClient) -> None:
    await _site(client)
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'Spring')")
    await login_as(client, "root")

    async def session_stage() -> object:
        return (await client.get("/api/v1/session/stage")).json()

    await _refused_both_ways(
        client, "/stage/switch", "/stage/switch", {"stage": "spring", "destination": "/x"},
        shown=['<option value="spring" selected>Spring</option>', 'value="/x"'],
        state=session_stage)

    async def stage_status() -> object:
        return await kernel_of(client).db.fetchval("SELECT status FROM stage WHERE id = 'spring'")

    await _refused_both_ways(
        client, "/admin/stages/spring/publish", "/admin/stages/spring/publish",
        {"confirm": "yes"}, shown=['name="confirm" value="yes"'], state=stage_status)


async def test_other_unsafe_requests_are_still_refused_before_the_route(
    client: httpx.AsyncClient,
) -> None:
    await create_account(client, "alice")
    await login_as(client, "alice")
    logout = await client.post("/user/logout", data={})
    assert logout.status_code == 403 and "did not come from this site" in logout.text
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is True
    api = await client.post("/api/v1/tokens", json={"label": "x"})
    assert api.status_code == 403 and "X-CSRF-Token" in api.text
