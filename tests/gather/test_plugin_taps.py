"""Gather's taps through a real plugin (``curator``, built from tests/plugins/fixtures):
``gather_info``'s named filters and sorts used by definitions (its entries that are not a
definition's own filters refused), ``gather_alter`` adding a condition and
``gather_result_alter`` reordering a page and telling its total."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._plugin_cache import plugin_cache_dir
from tests.api.conftest import ARTICLE, admin_headers
from tests.conftest import running_app, site_settings
from trovato.plugins.build import build_plugin
from trovato.plugins.catalogue import NOT_YET_AVAILABLE

FIXTURES = Path(__file__).resolve().parents[1] / "plugins" / "fixtures"


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    build_plugin(FIXTURES / "curator", cache_dir=plugin_cache_dir() / "plugin-builds")
    settings = site_settings(db_url, plugin_dirs=str(FIXTURES), data_dir=plugin_cache_dir())
    async with running_app(settings) as client:
        await client._transport.app.state.kernel.plugins.install("curator")  # type: ignore[attr-defined]
        yield client


def _listing(name: str, **changes: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "displays": {"json": {}},
            "filters": [{"field": "type", "op": "equals", "value": "article"}],
            "sorts": [{"field": "title"}], **changes}


async def _titles(client: httpx.AsyncClient, name: str) -> tuple[list[str], int | None]:
    response = await client.get(f"/api/v1/gather/{name}")
    assert response.status_code == 200, response.text
    body = response.json()
    return [i["title"] for i in body["items"]], body["total"]


async def test_plugin_filters_sorts_and_alters(site: httpx.AsyncClient) -> None:
    assert "gather_info" not in NOT_YET_AVAILABLE
    headers = await admin_headers(site)
    assert (await site.post("/api/v1/item-types", json=ARTICLE, headers=headers)
            ).status_code == 201
    for count, title in enumerate(["alpha", "beta", "gamma", "delta"]):
        created = await site.post("/api/v1/items", headers=headers, json={
            "type": "article", "title": title, "status": 1,
            "fields": {"field_body": {"value": "b"}, "field_count": {"value": count}}})
        assert created.status_code == 201, created.text

    async def define(document: dict[str, Any]) -> httpx.Response:
        return await site.put(f"/api/v1/gather-definitions/{document['name']}", json=document,
                              headers=headers)

    # gather_info: a filter and a sort, composed of the definition's own operators.
    used = _listing("heavy", filters=[{"field": "type", "op": "equals", "value": "article"},
                                      {"use": "curator.counted"}],
                    sorts=[{"use": "curator.heaviest"}])
    assert (await define(used)).status_code == 200
    assert await _titles(site, "heavy") == (["delta", "gamma"], 2)
    either = _listing("either", filters=[{"use": "curator.either"}])
    assert (await define(either)).status_code == 200
    assert await _titles(site, "either") == (["alpha", "delta"], 2)
    # Entries that are not a definition's filters never become one.
    for name, part in [("curator.raw", "filters.0.use"), ("curator.nothing", "filters.0.use"),
                       ("curator.sneaky", "filters.0.use.0.field")]:
        refused = await define(_listing("bad", filters=[{"use": name}]))
        assert refused.status_code == 422, refused.text
        assert part in refused.json()["errors"], refused.json()
    unknown_sort = await define(_listing("bad", sorts=[{"use": "curator.lightest"}]))
    assert unknown_sort.status_code == 422 and "sorts.0.use" in unknown_sort.json()["errors"]
    # gather_alter drops beta from ``curated``; gather_result_alter reverses the page and
    # tells the total.
    assert (await define(_listing("curated"))).status_code == 200
    assert await _titles(site, "curated") == (["gamma", "delta", "alpha"], 99)
    # Other listings are left alone.
    assert (await define(_listing("plain"))).status_code == 200
    assert await _titles(site, "plain") == (["alpha", "beta", "delta", "gamma"], 4)
