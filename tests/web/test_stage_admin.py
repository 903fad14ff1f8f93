"""Managing stages in the browser: the add form, the edit form and the delete confirmation, with
the stages service's rules on who may do what and its refusals shown on the form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from tests.web._forms import form_token
from tests.web.admin.conftest import grant
from trovato.forms.service import EXPIRED
from trovato.users.permissions import ANONYMOUS_ROLE


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with an administrator (root), ann and carl holding ``use stages``, bob holding
    nothing, and the article type; nobody logged in."""
    async with running_app(site_settings(db_url)) as client:
        headers = await admin_headers(client)
        assert (await client.post("/api/v1/item-types", json=ARTICLE,
                                  headers=headers)).status_code == 201
        await grant(client, "ann", "access content", "use stages")
        await grant(client, "carl", "access content", "use stages")
        await create_account(client, "bob")
        client.cookies.clear()
        yield client


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await form_token(client, path), **data})


async def _stage(client: httpx.AsyncClient, stage: str) -> dict[str, object] | None:
    return await kernel_of(client).db.fetchrow(
        "SELECT label, upstream_id, visibility, owner_id::text AS owner FROM stage"
        " WHERE id = %s", (stage,))


NEW = {"id": "spring_sale", "label": "Spring <b>sale</b>", "upstream": "live",
       "visibility": "private"}


async def test_adding_a_stage(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    listing = (await client.get("/admin/stages")).text
    # ann may add stages: the empty list says what one is for.
    assert ("There are no stages you may use yet. Add one to prepare changes to several items"
            " and publish them together.") in listing
    assert '<a class="button" href="/admin/stages/add">Add stage</a>' in listing
    form = (await client.get("/admin/stages/add")).text
    assert '<option value="live" selected>Live</option>' in form
    # The label first, then the machine name, as in the other admin forms.
    assert form.index('name="label"') < form.index('name="id"') < form.index('name="upstream"')

    added = await _post(client, "/admin/stages/add", NEW)
    assert added.status_code == 303 and added.headers["location"] == "/admin/stages/spring_sale"
    overview = (await client.get("/admin/stages/spring_sale")).text
    assert "The stage “Spring &lt;b&gt;sale&lt;/b&gt;” has been created." in overview
    row = await _stage(client, "spring_sale")
    assert row is not None and row["upstream_id"] == "live" and row["visibility"] == "private"
    assert row["owner"] == str((await kernel_of(client).db.fetchrow(
        "SELECT id FROM users WHERE name = 'ann'"))["id"])  # type: ignore[index]

    # An open stage is a choice of upstream for the next one.
    form = (await client.get("/admin/stages/add")).text
    assert '<option value="spring_sale">Spring &lt;b&gt;sale&lt;/b&gt; (spring_sale)</option>' \
        in form
    child = await _post(client, "/admin/stages/add", {
        **NEW, "id": "spring_copy", "label": "Copy", "upstream": "spring_sale",
        "visibility": "public"})
    assert child.status_code == 303
    row = await _stage(client, "spring_copy")
    assert row is not None and row["upstream_id"] == "spring_sale" \
        and row["visibility"] == "public"


@pytest.mark.parametrize(("data", "status", "error"), [
    ({"id": "Spring Sale"}, 422, "Machine name must be a machine name"),
    ({"id": "live"}, 422, "is the live site, not a stage one creates"),
    ({"id": "add"}, 422, "&#39;add&#39; is reserved: /admin/stages/add is another page"),
    ({"id": "x" * 65}, 400, "Machine name must be at most 64 characters."),
    ({"label": ""}, 400, "Label is required."),
    ({"upstream": "nowhere"}, 400, "Publishes to: the chosen value is not one of the options."),
])
async def test_a_refused_stage_is_shown_inline_with_what_was_typed(
    client: httpx.AsyncClient, data: dict[str, str], status: int, error: str,
) -> None:
    await login_as(client, "ann")
    refused = await _post(client, "/admin/stages/add", {**NEW, "label": "Kept label", **data})
    assert refused.status_code == status, refused.text
    assert error in refused.text
    if "label" not in data:
        assert 'value="Kept label"' in refused.text
    assert await _stage(client, "spring_sale") is None
    assert (await kernel_of(client).db.fetchrow("SELECT count(*) AS n FROM stage"
                                                " WHERE id <> 'live'"))["n"] == 0  # type: ignore[index]


async def test_a_taken_machine_name_is_refused_next_to_it(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    assert (await _post(client, "/admin/stages/add", NEW)).status_code == 303
    again = await _post(client, "/admin/stages/add", {**NEW, "label": "Other"})
    assert again.status_code == 409 and "Machine name is taken." in again.text
    assert 'value="Other"' in again.text
    assert (await _stage(client, "spring_sale"))["label"] == NEW["label"]  # type: ignore[index]


async def test_a_stale_token_changes_nothing(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    await client.get("/admin/stages/add")
    stale = await client.post("/admin/stages/add", data={"csrf_token": "stale", **NEW})
    assert stale.status_code == 400 and EXPIRED in stale.text
    assert 'value="spring_sale"' in stale.text
    assert await _stage(client, "spring_sale") is None


async def test_who_may_add_edit_and_delete(client: httpx.AsyncClient) -> None:
    for path in ("/admin/stages/add", "/admin/stages/x/edit", "/admin/stages/x/delete"):
        assert (await client.get(path)).status_code == 403, path  # anonymous
    await login_as(client, "carl")
    assert (await _post(client, "/admin/stages/add", {**NEW, "id": "carls"})).status_code == 303
    assert (await _post(client, "/admin/stages/add", {
        **NEW, "id": "shared", "visibility": "public"})).status_code == 303
    overview = (await client.get("/admin/stages/carls")).text
    assert 'href="/admin/stages/carls/edit"' in overview

    # bob may not use stages: no link, no form, nothing read.
    await login_as(client, "bob")
    assert "/admin/stages/add" not in (await client.get("/admin/stages")).text
    assert (await client.get("/admin/stages/add")).status_code == 403
    assert (await client.post("/admin/stages/add", data=NEW)).status_code == 403

    # ann may use carl's public stage but not manage it; his private one does not exist for her.
    await login_as(client, "ann")
    assert 'href="/admin/stages/shared/edit"' not in (await client.get(
        "/admin/stages/shared")).text
    for verb in ("edit", "delete"):
        assert (await client.get(f"/admin/stages/shared/{verb}")).status_code == 403
        assert (await client.post(f"/admin/stages/shared/{verb}", data={})).status_code == 403
        assert (await client.get(f"/admin/stages/carls/{verb}")).status_code == 404
    assert (await _stage(client, "shared")) is not None

    # An administrator of stages manages every stage.
    await login_as(client, "root")
    assert (await client.get("/admin/stages/carls/edit")).status_code == 200


async def test_editing_a_stage(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    await _post(client, "/admin/stages/add", NEW)
    await _post(client, "/admin/stages/add", {**NEW, "id": "child", "upstream": "spring_sale"})
    form = (await client.get("/admin/stages/spring_sale/edit")).text
    assert 'value="Spring &lt;b&gt;sale&lt;/b&gt;"' in form
    assert '<option value="spring_sale"' not in form  # never its own upstream

    saved = await _post(client, "/admin/stages/spring_sale/edit",
                        {"label": "Summer", "upstream": "live", "visibility": "public"})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/stages/spring_sale"
    overview = (await client.get(saved.headers["location"])).text
    assert "The stage “Summer” has been saved." in overview
    row = await _stage(client, "spring_sale")
    assert row is not None and row["label"] == "Summer" and row["visibility"] == "public"

    # Building on the stage that builds on it is a cycle: refused next to the upstream.
    cycle = await _post(client, "/admin/stages/spring_sale/edit",
                        {"label": "Autumn", "upstream": "child", "visibility": "public"})
    assert cycle.status_code == 422 and "builds on" in cycle.text and "a cycle" in cycle.text
    assert 'value="Autumn"' in cycle.text
    row = await _stage(client, "spring_sale")
    assert row is not None and row["label"] == "Summer" and row["upstream_id"] == "live"


async def test_deleting_a_stage_says_what_is_lost(client: httpx.AsyncClient) -> None:
    headers = await login_as(client, "root")
    await _post(client, "/admin/stages/add", NEW)
    await _post(client, "/admin/stages/add", {**NEW, "id": "child", "upstream": "spring_sale"})
    for title in ("One", "Two"):
        made = await client.post("/api/v1/items", headers={**headers,
                                                           "X-Trovato-Stage": "spring_sale"},
                                 json={"type": "article", "title": title, "status": 1, "fields": {
                                     "field_body": {"value": "B", "format": "plain_text"}}})
        assert made.status_code == 201, made.text
    confirm = (await client.get("/admin/stages/spring_sale/delete")).text
    assert "Are you sure you want to delete the stage Spring &lt;b&gt;sale&lt;/b&gt;?" in confirm
    assert "Its 2 changed item(s) are discarded" in confirm

    # Another stage builds on it: refused on the form, nothing deleted.
    refused = await _post(client, "/admin/stages/spring_sale/delete", {"op": "confirm"})
    assert refused.status_code == 409 and "child build on it" in refused.text
    assert await _stage(client, "spring_sale") is not None

    assert (await _post(client, "/admin/stages/child/delete", {})).status_code == 303
    deleted = await _post(client, "/admin/stages/spring_sale/delete", {})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/admin/stages"
    assert "The stage “Spring &lt;b&gt;sale&lt;/b&gt;” has been deleted." in (
        await client.get("/admin/stages")).text
    assert await _stage(client, "spring_sale") is None
    left = await kernel_of(client).db.fetchrow(
        "SELECT count(*) AS n FROM item WHERE stage_id = 'spring_sale'")
    assert left is not None and left["n"] == 0
    assert (await client.get("/admin/stages/spring_sale/delete")).status_code == 404


async def test_a_private_stage_shared_with_a_role(client: httpx.AsyncClient) -> None:
    role = await kernel_of(client).db.fetchrow("SELECT id::text AS id FROM role"
                                               " WHERE name = 'carl role'")
    assert role is not None
    await login_as(client, "ann")
    form = (await client.get("/admin/stages/add")).text
    assert f'value="{role["id"]}"' in form and "carl role" in form
    assert f'value="{ANONYMOUS_ROLE}"' not in form
    path = "/admin/stages/add"
    added = await client.post(path, data={"csrf_token": await form_token(client, path),
                                          **NEW, "roles": role["id"]})
    assert added.status_code == 303, added.text
    await login_as(client, "carl")
    assert (await client.get("/admin/stages/spring_sale")).status_code == 200

    await login_as(client, "ann")
    edit = (await client.get("/admin/stages/spring_sale/edit")).text
    assert f'value="{role["id"]}" checked' in edit
    saved = await _post(client, "/admin/stages/spring_sale/edit",
                        {"label": "Spring", "upstream": "live", "visibility": "private"})
    assert saved.status_code == 303
    await login_as(client, "carl")
    assert (await client.get("/admin/stages/spring_sale")).status_code == 404


async def _status(client: httpx.AsyncClient, stage: str) -> str | None:
    status = await kernel_of(client).db.fetchval("SELECT status FROM stage WHERE id = %s",
                                                 (stage,))
    return None if status is None else str(status)


async def test_archiving_a_stage(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    await _post(client, "/admin/stages/add", {**NEW, "visibility": "public"})
    item = {"type": "article", "title": "Staged", "status": 1,
            "fields": {"field_body": {"value": "B", "format": "plain_text"}}}
    staged = {**await login_as(client, "root"), "X-Trovato-Stage": "spring_sale"}
    made = await client.post("/api/v1/items", headers=staged, json=item)
    assert made.status_code == 201, made.text
    await login_as(client, "ann")
    switched = await _post(client, "/stage/switch", {"stage": "spring_sale",
                                                     "destination": "/"})
    assert switched.status_code == 303
    overview = (await client.get("/admin/stages/spring_sale")).text
    assert 'href="/admin/stages/spring_sale/archive">Archive stage</a>' in overview

    confirm = await client.get("/admin/stages/spring_sale/archive")
    assert confirm.status_code == 200
    assert "Are you sure you want to archive the stage Spring &lt;b&gt;sale&lt;/b&gt;?" \
        in confirm.text
    assert "Its 1 changed item(s) are kept" in confirm.text
    assert '<button type="submit" class="button" name="op" value="confirm">Archive stage' \
        in confirm.text

    # A missing or stale token: the step again, nothing archived.
    missing = await client.post("/admin/stages/spring_sale/archive", data={"op": "confirm"})
    stale = await client.post("/admin/stages/spring_sale/archive",
                              data={"csrf_token": "stale", "op": "confirm"})
    for refused in (missing, stale):
        assert refused.status_code == 400 and EXPIRED in refused.text
    assert await _status(client, "spring_sale") == "open"

    archived = await _post(client, "/admin/stages/spring_sale/archive", {"op": "confirm"})
    assert archived.status_code == 303
    assert archived.headers["location"] == "/admin/stages/spring_sale"
    assert await _status(client, "spring_sale") == "archived"
    shown = (await client.get("/admin/stages/spring_sale")).text
    assert "has been archived. This session works in live again." in shown
    assert "This stage is archived" in shown
    for gone in ("/archive", "/publish", ">Work in this stage<"):
        assert gone not in shown, gone
    assert "This session works in this stage." not in shown
    listing = (await client.get("/admin/stages")).text
    assert "<caption>Archived stages</caption>" in listing
    assert "Every stage you may use is archived." in listing
    assert listing.index("Archived stages") < listing.index('href="/admin/stages/spring_sale"')

    # Nothing is edited in it any more: neither a write nor switching to it.
    staged = {**await login_as(client, "root"), "X-Trovato-Stage": "spring_sale"}
    refused = await client.patch(f"/api/v1/items/{made.json()['id']}", headers=staged,
                                 json={"title": "Again"})
    assert refused.status_code == 409
    switch = await _post(client, "/stage/switch", {"stage": "spring_sale", "destination": "/"})
    assert switch.status_code == 409 and "only open stages can be worked in" in switch.text
    again = await client.get("/admin/stages/spring_sale/archive")
    assert again.status_code == 409


async def test_who_may_archive(client: httpx.AsyncClient) -> None:
    await login_as(client, "ann")
    await _post(client, "/admin/stages/add", {**NEW, "id": "shared", "visibility": "public"})
    await _post(client, "/admin/stages/add", NEW)  # private
    # carl may use ann's public stage but not manage it: no link, no step, nothing changed.
    headers = await login_as(client, "carl")
    assert 'href="/admin/stages/shared/archive"' not in (
        await client.get("/admin/stages/shared")).text
    assert (await client.get("/admin/stages/shared/archive")).status_code == 403
    refused = await client.post("/admin/stages/shared/archive", data={
        "csrf_token": headers["X-CSRF-Token"], "op": "confirm"})
    assert refused.status_code == 403
    assert (await client.get("/admin/stages/spring_sale/archive")).status_code == 404
    client.cookies.clear()
    assert (await client.get("/admin/stages/shared/archive")).status_code == 403
    assert await _status(client, "shared") == "open"
    # An administrator of stages archives any.
    await login_as(client, "root")
    assert (await _post(client, "/admin/stages/spring_sale/archive", {})).status_code == 303
    assert await _status(client, "spring_sale") == "archived"
