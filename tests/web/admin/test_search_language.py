"""The search language admin (/admin/config/search/language): the form offers the database's
text search configurations with the current one chosen; saving goes through the search service
(the change logged) and leads to the batch that rebuilds the index, whose progress page ends
with the count; an unknown language is refused next to the field, what was chosen kept; for
``administer site configuration`` only. A change of the language or the weights, here, through
the API or on the command line, drops the cached pages of listings matching words."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.conftest import login_as
from tests.cli.test_cli import run
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs
from tests.web.admin.conftest import grant
from tests.web.admin.test_content import _finish

BASE = "/admin/config/search/language"


async def _titles(client: httpx.AsyncClient, words: str) -> list[str]:
    found = await client.get("/api/v1/search", params={"q": words})
    return [result["title"] for result in found.json()["results"]]


async def test_changing_the_language_reindexes_and_logs(site: httpx.AsyncClient) -> None:
    headers = await login_as(site, "root")
    made = await site.post("/api/v1/item-types", json={"type": "page", "label": "Page"},
                           headers=headers)
    assert made.status_code == 201, made.text
    made = await site.post("/api/v1/items", headers=headers,
                           json={"type": "page", "title": "Plugins", "status": 1})
    assert made.status_code == 201, made.text
    assert await _titles(site, "plugin") == ["Plugins"]  # English by default

    form = await site.get(BASE)
    assert form.status_code == 200
    assert '<option value="english" selected' in form.text
    assert '<option value="simple"' in form.text and '<option value="german"' in form.text
    assert f'href="{BASE}"' in (await site.get("/admin")).text

    saved = await site.post(BASE, data={**hidden_inputs(form.text), "language": "simple",
                                        "op": "save"})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/batch/")
    progress = await site.get(saved.headers["location"] + ".json")
    assert progress.json()["title"] == "Rebuilding the search index"
    shown = await _finish(site, saved.headers["location"])
    assert str(shown.url).endswith(BASE)
    assert "The search language is now simple; the search index is being rebuilt." in shown.text
    assert "The search index was rebuilt in simple: 1 item." in shown.text
    assert '<option value="simple" selected' in shown.text
    # Rebuilt: words are now matched as written.
    assert await _titles(site, "plugin") == []
    assert await _titles(site, "plugins") == ["Plugins"]
    again = await site.post(BASE, data={**hidden_inputs((await site.get(BASE)).text),
                                        "language": "simple", "op": "save"})
    assert again.status_code == 303 and again.headers["location"] == BASE  # no batch
    assert "The search language already was simple." in (await site.get(BASE)).text
    logged = await kernel_of(site).db.fetchrow(
        "SELECT user_id, variables FROM watchdog WHERE message LIKE 'Changed the search"
        " language%' ORDER BY id DESC LIMIT 1")
    assert logged is not None
    assert logged["variables"] == {"language": "simple"} and logged["user_id"] is not None


async def test_an_unknown_language_is_refused_next_to_the_field(
        site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    form = await site.get(BASE)
    bad = await site.post(BASE, data={**hidden_inputs(form.text), "language": "klingon",
                                      "op": "save"})
    assert bad.status_code == 400
    assert "Search language: the chosen value is not one of the options." in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert await kernel_of(site).search.language() == "english"
    missing = await site.post(BASE, data={"language": "simple", "op": "save"})
    assert missing.status_code in (400, 403)
    assert "The form has expired, please submit again." in missing.text
    assert '<option value="simple" selected' in missing.text  # what was chosen, kept
    assert await kernel_of(site).search.language() == "english"


async def test_the_language_needs_administer_site_configuration(
        site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    await grant(site, "editor", "access administration pages", "administer content types")
    headers = await login_as(site, "editor")
    assert BASE not in (await site.get("/admin")).text
    assert (await site.get(BASE)).status_code == 403
    refused = await site.post(BASE, data={"csrf_token": headers["X-CSRF-Token"],
                                          "language": "simple", "op": "save"})
    assert refused.status_code == 403
    assert await kernel_of(site).search.language() == "english"


async def _anonymous(site: httpx.AsyncClient, path: str) -> httpx.Response:
    """``path`` as a visitor without a session (the page cache's only readers)."""
    saved = httpx.Cookies(site.cookies)
    site.cookies.clear()
    try:
        return await site.get(path)
    finally:
        site.cookies = saved


async def _cached(site: httpx.AsyncClient, path: str) -> httpx.Response:
    """``path`` read until the page cache serves it."""
    await _anonymous(site, path)
    page = await _anonymous(site, path)
    assert page.headers["x-trovato-cache"] == "HIT", path
    return page


async def _listings(site: httpx.AsyncClient) -> dict[str, str]:
    """An item "Plugins" and two listings at their own paths: ``/found`` matching the search
    words "plugin", ``/all`` matching none."""
    headers = await login_as(site, "root")
    assert (await site.post("/api/v1/item-types", json={"type": "page", "label": "Page"},
                            headers=headers)).status_code == 201
    assert (await site.post("/api/v1/items", headers=headers, json={
        "type": "page", "title": "Plugins", "status": 1})).status_code == 201
    for name, filters in (("found", [{"field": "search", "op": "fulltext", "value": "plugin"}]),
                          ("all", [])):
        made = await site.put(f"/api/v1/gather-definitions/{name}", headers=headers, json={
            "name": name, "label": name, "filters": filters, "sorts": [{"field": "title"}],
            "displays": {"page": {"path": f"/{name}", "style": "list"}}})
        assert made.status_code == 200, made.text
    return headers


async def test_a_change_of_language_drops_the_cached_listings_matching_words(
        site: httpx.AsyncClient) -> None:
    await _listings(site)
    assert "Plugins" in (await _cached(site, "/found")).text  # "plugin" stems it in english
    await _cached(site, "/all")
    form = await site.get(BASE)
    saved = await site.post(BASE, data={**hidden_inputs(form.text), "language": "simple",
                                        "op": "save"})
    assert saved.status_code == 303
    assert (await _anonymous(site, "/found")).headers["x-trovato-cache"] == "MISS"
    assert (await _anonymous(site, "/all")).headers["x-trovato-cache"] == "HIT"  # no words
    # Cached again while the index is half rebuilt; each step of the batch drops it again.
    await _cached(site, "/found")
    await _finish(site, saved.headers["location"])
    found = await _anonymous(site, "/found")
    assert found.headers["x-trovato-cache"] == "MISS"
    assert "Plugins" not in found.text  # in simple "plugin" is not "Plugins"


async def test_a_change_of_weights_drops_the_cached_listings_matching_words(
        site: httpx.AsyncClient) -> None:
    headers = await _listings(site)
    await _cached(site, "/found")
    await _cached(site, "/all")
    put = await site.put("/api/v1/item-types/page/search-weights", headers=headers,
                         json={"weights": {}})
    assert put.status_code == 200, put.text
    assert (await _anonymous(site, "/found")).headers["x-trovato-cache"] == "MISS"
    assert (await _anonymous(site, "/all")).headers["x-trovato-cache"] == "HIT"


async def test_the_command_line_drops_the_cached_listings_of_every_process(
        site: httpx.AsyncClient, db_url: str) -> None:
    await _listings(site)
    await _cached(site, "/found")
    env = {"TROVATO_DATABASE_URL": db_url,
           "TROVATO_REDIS_PREFIX": kernel_of(site).settings.redis_prefix}
    changed = await asyncio.to_thread(run, "search", "language", "simple", env=env)
    assert changed.returncode == 0, changed.stderr
    for _ in range(50):  # the other process's message arrives on its own time
        found = await _anonymous(site, "/found")
        if found.headers["x-trovato-cache"] == "MISS":
            break
        await asyncio.sleep(0.1)
    assert found.headers["x-trovato-cache"] == "MISS"
    assert "Plugins" not in found.text
