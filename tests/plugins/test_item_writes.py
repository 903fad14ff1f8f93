"""A plugin's ``ctx.items.save/delete`` (contract 1.1.0) do what ``/api/v1/items`` does for the
same user: create, update and delete in live and in a stage (live untouched until publish),
access refused as the request's user, validation errors the plugin can read, the optimistic
revision check, the ``items.write`` capability, the bound on writes nested through taps, and a
1.0.0 plugin still loads and runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import api_login, create_account, running_app, site_settings
from tests.plugins.conftest import ANONYMOUS_ID, FIXTURES, kernel_of
from trovato.content.model import ItemError
from trovato.content.writes import PluginItemWrites
from trovato.plugins.build import BuildResult, build_plugin
from trovato.plugins.contract import check_imports
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.host import MAX_WRITE_DEPTH, PluginUser
from trovato.plugins.runtime import PluginRuntime
from trovato.stages import LIVE
from trovato.users.permissions import ANONYMOUS_ROLE

STAGE = "spring"
LEGACY = Path(__file__).resolve().parent / "legacy"


@pytest.fixture
async def writing_site(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult]
) -> AsyncIterator[httpx.AsyncClient]:
    """A site with the writer plugin enabled (its ``items.write`` approved), a "page" type
    with a body field, an administrator "root" and an open stage."""
    settings = site_settings(db_url, "postgres", plugin_dirs=str(FIXTURES),
                             data_dir=plugin_cache)
    async with running_app(settings) as client:
        await create_account(client, "root", admin=True)
        kernel = kernel_of(client)
        await kernel.plugins.install("writer")
        headers = {"X-CSRF-Token": await api_login(client, "root")}
        response = await client.post("/api/v1/item-types", headers=headers, json={
            "type": "page", "label": "Page",
            "fields": [{"name": "field_body", "type": "text_long", "label": "Body"}]})
        assert response.status_code == 201, response.text
        response = await client.post("/api/v1/stages", headers=headers,
                                     json={"id": STAGE, "label": "Spring"})
        assert response.status_code == 201, response.text
        yield client


async def _user(client: httpx.AsyncClient, name: str | None) -> PluginUser:
    kernel = kernel_of(client)
    if name is None:
        return PluginUser.from_current_user(await kernel.accounts.anonymous())
    user_id = await kernel.accounts.find(name)
    assert user_id is not None
    user = await kernel.accounts.load(user_id)
    assert user is not None
    return PluginUser.from_current_user(user)


async def _call(client: httpx.AsyncClient, function: str, payload: dict[str, Any], *,
                name: str | None = "root", stage: str = LIVE) -> dict[str, Any]:
    """Call the writer's ``function`` as ``name`` (None: anonymous) in ``stage``."""
    kernel = kernel_of(client)
    async with kernel.plugins.session(await _user(client, name), stage=stage) as session:
        result: dict[str, Any] = await session.call_function(
            "writer", function, {"payload": payload})
    return result


async def _api_get(client: httpx.AsyncClient, item_id: str, stage: str = LIVE
                   ) -> dict[str, Any] | None:
    headers = {"X-CSRF-Token": await api_login(client, "root"), "X-Trovato-Stage": stage}
    response = await client.get(f"/api/v1/items/{item_id}", headers=headers)
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def _page(title: str, body: str = "Text") -> dict[str, Any]:
    return {"type": "page", "title": title,
            "fields": {"field_body": {"value": body, "format": "plain_text"}}}


async def test_create_update_delete_in_live(writing_site: httpx.AsyncClient) -> None:
    created = (await _call(writing_site, "save", {"item": _page("First"), "log": "by plugin"}))
    item = created["item"]
    assert item["title"] == "First" and item["stage"] == LIVE
    assert (await _api_get(writing_site, item["id"]))["title"] == "First"  # type: ignore[index]
    changed = await _call(writing_site, "save", {"item": {"id": item["id"], "title": "Second"}})
    assert changed["item"]["title"] == "Second"
    # Only what was given changed; the revision history has both saves.
    stored = await _api_get(writing_site, item["id"])
    assert stored is not None and stored["fields"]["field_body"]["value"] == "Text"
    revisions = await writing_site.get(f"/api/v1/items/{item['id']}/revisions")
    assert [r["log"] for r in revisions.json()["revisions"]][-1] == "by plugin"
    assert await _call(writing_site, "delete", {"id": item["id"]}) == {"deleted": item["id"]}
    assert await _api_get(writing_site, item["id"]) is None


async def test_writes_in_a_stage_leave_live_alone_until_publish(
    writing_site: httpx.AsyncClient,
) -> None:
    kernel = kernel_of(writing_site)
    edited = (await _call(writing_site, "save", {"item": _page("Live title")}))["item"]
    doomed = (await _call(writing_site, "save", {"item": _page("Doomed")}))["item"]
    new = (await _call(writing_site, "save", {"item": _page("Staged new")}, stage=STAGE))["item"]
    assert new["stage"] == STAGE
    staged = await _call(writing_site, "save", {"item": {"id": edited["id"],
                                                         "title": "Stage title"}}, stage=STAGE)
    assert staged["item"]["title"] == "Stage title"
    assert await _call(writing_site, "delete", {"id": doomed["id"]}, stage=STAGE) == {
        "deleted": doomed["id"]}

    # Live is untouched; the stage sees all three changes.
    assert (await _api_get(writing_site, edited["id"]))["title"] == "Live title"  # type: ignore[index]
    assert await _api_get(writing_site, doomed["id"]) is not None
    assert await _api_get(writing_site, new["id"]) is None
    assert (await _api_get(writing_site, edited["id"], STAGE))["title"] == "Stage title"  # type: ignore[index]
    assert await _api_get(writing_site, doomed["id"], STAGE) is None
    assert await _api_get(writing_site, new["id"], STAGE) is not None

    root_id = await kernel.accounts.find("root")
    assert root_id is not None
    root = await kernel.accounts.load(root_id)
    assert root is not None
    await kernel.content.staging.publish(root, STAGE)
    assert (await _api_get(writing_site, edited["id"]))["title"] == "Stage title"  # type: ignore[index]
    assert await _api_get(writing_site, doomed["id"]) is None
    assert (await _api_get(writing_site, new["id"]))["title"] == "Staged new"  # type: ignore[index]


async def test_an_anonymous_request_may_not_write_unless_anonymous_may(
    writing_site: httpx.AsyncClient,
) -> None:
    refused = await _call(writing_site, "save", {"item": _page("Spam")}, name=None)
    assert refused["error"]["status"] == 403
    assert "may not create" in refused["error"]["message"]
    live = (await _call(writing_site, "save", {"item": _page("Mine")}))["item"]
    assert (await _call(writing_site, "delete", {"id": live["id"]}, name=None))["error"][
        "status"] in (403, 404)
    headers = {"X-CSRF-Token": await api_login(writing_site, "root")}
    response = await writing_site.put(
        f"/api/v1/roles/{ANONYMOUS_ROLE}/permissions", headers=headers,
        json={"permissions": ["access content", "create page content"]})
    assert response.status_code == 200, response.text
    allowed = await _call(writing_site, "save", {"item": _page("Guest post")}, name=None)
    assert allowed["item"]["title"] == "Guest post"
    assert allowed["item"]["author_id"] == ANONYMOUS_ID
    # A request reading a stage through a preview link never writes, whoever holds it.
    previewing = replace(await _user(writing_site, None), read_only=True)
    async with kernel_of(writing_site).plugins.session(previewing, stage=STAGE) as session:
        refused = await session.call_function("writer", "save",
                                              {"payload": {"item": _page("Via preview")}})
    assert refused["error"]["status"] == 403 and "preview" in refused["error"]["message"]


async def test_validation_errors_name_the_field_for_the_plugin(
    writing_site: httpx.AsyncClient,
) -> None:
    refused = await _call(writing_site, "save", {"item": {
        "type": "page", "title": "", "status": 7,
        "fields": {"field_nope": {"value": "x"}}}})
    error = refused["error"]
    assert error["status"] == 422
    assert {"title", "status"} <= set(error["errors"])
    assert any(key.startswith("fields.field_nope") or key == "fields.field_nope"
               for key in error["errors"]), error
    assert (await _call(writing_site, "save", {"item": {"title": "No type"}}))["error"][
        "errors"] == {"type": "required: the item type's machine name"}
    # The host takes only the API's keys (the SDK sends no others).
    writes = PluginItemWrites(kernel_of(writing_site).content.items)
    with pytest.raises(ItemError) as unknown:
        await writes.save(await _user(writing_site, "root"),
                          {**_page("x"), "author_id": "me"}, LIVE)
    assert unknown.value.status == 422 and "author_id" in unknown.value.errors
    # Nothing was written by any of them.
    listed = await writing_site.get("/api/v1/items", params={"type": "page"})
    assert listed.json()["total"] == 0


async def test_a_save_from_a_stale_load_is_refused(writing_site: httpx.AsyncClient) -> None:
    item = (await _call(writing_site, "save", {"item": _page("Original")}))["item"]
    refused = await _call(writing_site, "edit", {"id": item["id"], "title": "Mine",
                                                 "wait_for_title": "Theirs"})
    assert refused["error"]["status"] == 409
    assert (await _api_get(writing_site, item["id"]))["title"] == "Theirs"  # type: ignore[index]
    fresh = await _call(writing_site, "edit", {"id": item["id"], "title": "Mine"})
    assert fresh["item"]["title"] == "Mine"


async def test_writes_need_the_approved_capability(writing_site: httpx.AsyncClient) -> None:
    kernel = kernel_of(writing_site)
    assert kernel.plugins.services.grants["writer"] == {"items.write"}
    # A capability not approved at enable (say, added to plugin.toml later) is not granted.
    await kernel.db.execute(
        "UPDATE system SET info = info - 'approved_capabilities' WHERE name = 'writer'")
    await kernel.plugins.refresh()
    refused = await _call(writing_site, "save", {"item": _page("Sneaky")})
    assert refused["error"]["status"] == 403
    assert "items.write" in refused["error"]["message"]
    # Enabling again is approving again.
    await kernel.plugins.disable("writer")
    await kernel.plugins.enable("writer")
    assert "item" in await _call(writing_site, "save", {"item": _page("Approved")})


async def test_writes_nested_through_taps_are_bounded(writing_site: httpx.AsyncClient) -> None:
    saved = await _call(writing_site, "save", {"item": _page("[echo]")})
    assert saved["item"]["title"] == "[echo]"
    listed = await writing_site.get("/api/v1/items", params={"type": "page", "limit": 50})
    titles = [item["title"] for item in listed.json()["items"]]
    # The plugin's first save and one nested save per level allowed, then the refusal.
    assert len(titles) == MAX_WRITE_DEPTH
    kernel = kernel_of(writing_site)
    refused = await kernel.db.fetchval(
        "SELECT value FROM variable WHERE name = 'plugin.writer.echo_refused'")
    assert refused["status"] == 508 and "nest more than" in refused["message"]


def test_a_plugin_needing_a_newer_contract_is_refused_by_name() -> None:
    with pytest.raises(PluginLoadError, match=r"needs trovato:plugin 1\.99\.0.*upgrade"):
        check_imports("future", ["wasi:io/poll@0.2.9", "trovato:plugin/host@1.99.0"])
    check_imports("old", ["trovato:plugin/host@1.0.0"])


async def test_a_1_0_0_plugin_still_loads_and_runs(
    plugin_cache: Path, runtime: PluginRuntime, open_session: Any,
) -> None:
    built = build_plugin(LEGACY / "plugin", cache_dir=plugin_cache / "plugin-builds",
                         wit=LEGACY / "wit")
    legacy = runtime.load("legacy", built.artifact)
    assert legacy.description["contract"] == "1.0.0"
    session = open_session(plugins=["hello"])
    async with runtime.session({"legacy": legacy}, session.host) as own:
        result = await own.call_function(
            "legacy", "whoami", {"payload": {"id": "0190a0b0-0000-7000-8000-0000000000ff"}})
    assert result == {"user": "ada", "item": False}


async def test_writes_from_the_taps_of_a_staged_write_stay_in_the_stage(
    writing_site: httpx.AsyncClient,
) -> None:
    await _call(writing_site, "save", {"item": _page("[echo]")}, stage=STAGE)
    headers = {"X-CSRF-Token": await api_login(writing_site, "root")}
    params = {"type": "page", "limit": 50}
    live = await writing_site.get("/api/v1/items", params=params, headers=headers)
    assert live.json()["total"] == 0
    staged = await writing_site.get("/api/v1/items", params=params,
                                    headers={**headers, "X-Trovato-Stage": STAGE})
    assert {item["stage"] for item in staged.json()["items"]} == {STAGE}
    assert staged.json()["total"] == MAX_WRITE_DEPTH
