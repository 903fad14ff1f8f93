"""The admin forms posted with a missing or stale CSRF token: refused with "The form has
expired, please submit again.", nothing changed, what was typed shown again, and a fresh
token in the form so that submitting it again works (the item forms' rule, in
tests/web/test_csrf_forms.py, on the people, roles and structure pages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.api.conftest import login_as
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs

EXPIRED = "The form has expired, please submit again."
TYPED = "Kept <typed>"
TYPED_SHOWN = "Kept &lt;typed&gt;"


async def _refused(client: httpx.AsyncClient, path: str, data: dict[str, Any],
                   state: Callable[[], Awaitable[object]]) -> httpx.Response:
    """Post ``data`` without a token, then with one of a session that ended; both refused,
    ``TYPED`` shown again, ``state()`` unchanged. Returns the second refusal."""
    before = await state()
    posted = {k: v for k, v in data.items() if k != "csrf_token"}
    missing = await client.post(path, data=posted)
    stale = data["csrf_token"]
    client.cookies.clear()
    await login_as(client, "root")
    expired = await client.post(path, data={**posted, "csrf_token": stale})
    for response in (missing, expired):
        assert response.status_code in (400, 403), response.text
        assert EXPIRED in response.text
        assert TYPED_SHOWN in response.text
        assert hidden_inputs(response.text).get("csrf_token")
        assert await state() == before
    assert hidden_inputs(expired.text)["csrf_token"] != stale
    return expired


async def _hidden(client: httpx.AsyncClient, path: str) -> dict[str, str]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return hidden_inputs(page.text)


async def _count(client: httpx.AsyncClient, sql: str) -> object:
    return await kernel_of(client).db.fetchval(sql)


async def test_creating_an_account(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    hidden = await _hidden(site, "/admin/people/create")
    refused = await _refused(site, "/admin/people/create", {
        **hidden, "name": TYPED, "mail": "kept@example.com", "pass": "a long password 1",
        "pass_confirm": "a long password 1", "status": "1"},
        lambda: _count(site, "SELECT count(*) FROM users"))
    again = await site.post("/admin/people/create", data={
        **hidden_inputs(refused.text), "name": "kept", "mail": "kept@example.com",
        "pass": "a long password 1", "pass_confirm": "a long password 1", "status": "1"})
    assert again.status_code == 303, again.text
    assert await kernel_of(site).accounts.find("kept") is not None


async def test_adding_a_role(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    hidden = await _hidden(site, "/admin/people/roles")
    await _refused(site, "/admin/people/roles", {**hidden, "name": TYPED},
                   lambda: _count(site, "SELECT count(*) FROM role"))


async def test_adding_an_item_type(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    hidden = await _hidden(site, "/admin/structure/types/add")
    refused = await _refused(site, "/admin/structure/types/add", {
        **hidden, "label": TYPED, "type": "kept", "description": "", "op": "save"},
        lambda: _count(site, "SELECT count(*) FROM item_type"))
    again = await site.post("/admin/structure/types/add", data={
        **hidden_inputs(refused.text), "label": "Kept", "type": "kept", "description": "",
        "op": "save"})
    assert again.status_code == 303, again.text
