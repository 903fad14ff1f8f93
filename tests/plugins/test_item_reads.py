"""A plugin's ``ctx.items.load/query`` answer exactly what ``/api/v1/items`` answers the same
user: published, unpublished own, unpublished other's, denied by an ``item_access`` plugin, and
in another stage; and listing totals never count what the reader may not see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import api_login, create_account, running_app, site_settings
from tests.plugins.conftest import FIXTURES, kernel_of
from trovato.plugins.build import BuildResult
from trovato.plugins.host import PluginUser
from trovato.stages import LIVE
from trovato.users.permissions import ANONYMOUS_ROLE, AUTHENTICATED_ROLE

QUERY = {"type": "page", "sort": "title", "limit": 50}
STAGE = "spring"


@pytest.fixture
async def reading_site(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult]
) -> AsyncIterator[httpx.AsyncClient]:
    """A site with the reader plugin (it denies viewing "[denied]" items) and two teasers per
    front page."""
    settings = site_settings(db_url, "postgres", plugin_dirs=str(FIXTURES),
                             data_dir=plugin_cache, front_page_items=2)
    async with running_app(settings) as client:
        await create_account(client, "root", admin=True)
        await kernel_of(client).plugins.install("reader")
        yield client


async def _as(client: httpx.AsyncClient, name: str | None) -> dict[str, str]:
    client.cookies.clear()
    return {} if name is None else {"X-CSRF-Token": await api_login(client, name)}


async def _create(client: httpx.AsyncClient, headers: dict[str, str], title: str, *,
                  status: int = 1, promote: bool = False, stage: str = LIVE) -> str:
    response = await client.post(
        "/api/v1/items", headers={**headers, "X-Trovato-Stage": stage},
        json={"type": "page", "title": title, "status": status, "promote": promote})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _site_with_items(client: httpx.AsyncClient) -> dict[str, str]:
    """Items of every visibility case; the writer "wren" may read and create pages."""
    kernel = kernel_of(client)
    await create_account(client, "wren")
    root = await _as(client, "root")
    await client.post("/api/v1/item-types", headers=root,
                      json={"type": "page", "label": "Page", "fields": []})
    response = await client.put(f"/api/v1/roles/{AUTHENTICATED_ROLE}/permissions", headers=root,
                                json={"permissions": ["access content", "create page content"]})
    assert response.status_code == 200, response.text
    await kernel.db.execute(
        "INSERT INTO stage (id, label, upstream_id, visibility) VALUES (%s, 'Spring', 'live',"
        " 'private')", (STAGE,))
    ids = {
        "published": await _create(client, root, "Published"),
        "others_draft": await _create(client, root, "Other's draft", status=0),
        "denied": await _create(client, root, "[denied] Published"),
        "staged": await _create(client, root, "Staged", stage=STAGE),
    }
    ids["own_draft"] = await _create(client, await _as(client, "wren"), "Own draft", status=0)
    return ids


async def _api_view(client: httpx.AsyncClient, name: str | None, ids: dict[str, str],
                    stage: str) -> dict[str, Any]:
    """What the JSON API shows ``name`` in ``stage``: each item (None unless 200) and the
    listing."""
    headers = {**await _as(client, name), "X-Trovato-Stage": stage}
    loaded: dict[str, Any] = {}
    for key in ids.values():
        response = await client.get(f"/api/v1/items/{key}", headers=headers)
        assert response.status_code in (200, 401, 403, 404), response.text
        loaded[key] = response.json() if response.status_code == 200 else None
    response = await client.get("/api/v1/items", params=QUERY, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])  # one page holds them all
    return {"loaded": loaded, "listed": body["items"]}


async def _plugin_view(client: httpx.AsyncClient, name: str | None, ids: dict[str, str],
                       stage: str) -> dict[str, Any]:
    """What the reader plugin sees through ``ctx.items`` for ``name`` in ``stage``."""
    kernel = kernel_of(client)
    if name is None:
        user = await kernel.accounts.anonymous()
    else:
        user_id = await kernel.accounts.find(name)
        assert user_id is not None
        found = await kernel.accounts.load(user_id)
        assert found is not None
        user = found
    async with kernel.plugins.session(PluginUser.from_current_user(user), stage=stage) as session:
        result: dict[str, Any] = await session.call_function(
            "reader", "read", {"payload": {"ids": list(ids.values()), "query": QUERY}})
    return result


def _titles(view: dict[str, Any], ids: dict[str, str]) -> tuple[set[str], list[str]]:
    names = {value: key for key, value in ids.items()}
    loaded = {names[key] for key, item in view["loaded"].items() if item is not None}
    return loaded, [item["title"] for item in view["listed"]]


async def test_plugin_reads_are_the_api_reads_of_the_same_user(
    reading_site: httpx.AsyncClient,
) -> None:
    ids = await _site_with_items(reading_site)
    for name, stage in (("wren", LIVE), (None, LIVE), ("root", LIVE), ("root", STAGE)):
        api = await _api_view(reading_site, name, ids, stage)
        plugin = await _plugin_view(reading_site, name, ids, stage)
        assert plugin == api, (name, stage)

    # And what they are, case by case.
    wren = await _plugin_view(reading_site, "wren", ids, LIVE)
    assert _titles(wren, ids) == ({"published", "own_draft"}, ["Own draft", "Published"])
    anonymous = await _plugin_view(reading_site, None, ids, LIVE)
    assert _titles(anonymous, ids) == ({"published"}, ["Published"])
    # The site's superuser is never refused by a vote; the staged item only in its stage.
    root = await _plugin_view(reading_site, "root", ids, LIVE)
    assert _titles(root, ids)[0] == {"published", "others_draft", "denied", "own_draft"}
    staged = await _plugin_view(reading_site, "root", ids, STAGE)
    assert "staged" in _titles(staged, ids)[0]
    assert staged["loaded"][ids["staged"]]["stage"] == STAGE
    # A user who may not reach the stage reads nothing through it, not even live's items.
    outsider = await _plugin_view(reading_site, "wren", ids, STAGE)
    assert _titles(outsider, ids) == (set(), [])


async def test_plugin_reads_need_access_content(reading_site: httpx.AsyncClient) -> None:
    """Without ``access content`` a plugin reads nothing for the visitor, as the API refuses."""
    ids = await _site_with_items(reading_site)
    root = await _as(reading_site, "root")
    response = await reading_site.put(f"/api/v1/roles/{ANONYMOUS_ROLE}/permissions",
                                      headers=root, json={"permissions": []})
    assert response.status_code == 200, response.text
    plugin = await _plugin_view(reading_site, None, ids, LIVE)
    assert plugin == {"loaded": dict.fromkeys(ids.values()), "listed": []}
    await _as(reading_site, None)
    assert (await reading_site.get(f"/api/v1/items/{ids['published']}")).status_code == 401
    assert (await reading_site.get("/api/v1/items")).status_code == 401


async def test_listing_totals_never_count_denied_items(reading_site: httpx.AsyncClient) -> None:
    root = await _as(reading_site, "root")
    await reading_site.post("/api/v1/item-types", headers=root,
                            json={"type": "page", "label": "Page", "fields": []})
    for title in ("[denied] one", "Alpha", "[denied] two", "Beta", "[denied] three"):
        await _create(reading_site, root, title, promote=True)
    await _as(reading_site, None)

    # The API: pages are full, the total is what the visitor may see.
    first = (await reading_site.get("/api/v1/items", params={"sort": "title", "limit": 1})).json()
    second = (await reading_site.get("/api/v1/items",
                                     params={"sort": "title", "limit": 1, "page": 1})).json()
    beyond = (await reading_site.get("/api/v1/items",
                                     params={"sort": "title", "limit": 1, "page": 2})).json()
    assert [i["title"] for i in first["items"]] == ["Alpha"] and first["total"] == 2
    assert [i["title"] for i in second["items"]] == ["Beta"] and second["total"] == 2
    assert beyond["items"] == [] and beyond["total"] == 2

    # The front page (two teasers a page): both visible items on page 0, and no page 1,
    # which counting the three denied items would have made (5 matches → 3 pages).
    front = await reading_site.get("/")
    assert front.status_code == 200
    assert "Alpha" in front.text and "Beta" in front.text and "[denied]" not in front.text
    assert (await reading_site.get("/", params={"page": 1})).status_code == 404


async def test_a_plugin_listing_is_voted_on_from_one_session(
    reading_site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Votes on a listing a plugin reads share one plugin session (the request's own is busy
    in the reading guest call), rather than instantiating the voters once per match."""
    await _site_with_items(reading_site)
    kernel = kernel_of(reading_site)
    opened: list[str] = []
    real_session = kernel.plugins.session

    def counting_session(user: PluginUser, **options: Any) -> Any:
        opened.append(str(options.get("request_id")))
        return real_session(user, **options)

    anonymous = await kernel.accounts.anonymous()
    async with real_session(PluginUser.from_current_user(anonymous)) as session:
        monkeypatch.setattr(kernel.plugins, "session", counting_session)
        result = await session.call_function("reader", "read",
                                             {"payload": {"ids": [], "query": QUERY}})
    assert [item["title"] for item in result["listed"]] == ["Published"]
    assert opened == ["item_access"]  # two matches voted on, one session
