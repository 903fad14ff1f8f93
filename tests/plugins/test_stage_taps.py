"""The stage publishing taps through a real plugin: ``stage_publish_before`` refuses a publish
(409 naming why, nothing written) and ``stage_publish_after`` hears of each one."""

from __future__ import annotations

import httpx

from tests.conftest import api_login
from tests.plugins.conftest import kernel_of


async def test_a_plugin_vetoes_and_hears_publishing(site: httpx.AsyncClient) -> None:
    kernel = kernel_of(site)
    await kernel.plugins.install("gatekeeper")
    root = {"X-CSRF-Token": await api_login(site, "root")}
    await site.post("/api/v1/item-types", json={"type": "page", "label": "Page", "fields": []},
                    headers=root)
    for name in ("spring", "summer"):
        await site.post("/api/v1/stages", json={"id": name, "label": name}, headers=root)
    embargoed = await site.post("/api/v1/items", json={"type": "page", "title": "Embargo news"},
                                headers={**root, "X-Trovato-Stage": "spring"})
    assert embargoed.status_code == 201, embargoed.text
    refused = await site.post("/api/v1/stages/spring/publish", headers=root)
    assert refused.status_code == 409
    assert "gatekeeper: 'Embargo news' is under embargo" in refused.json()["detail"]
    assert (await site.get("/api/v1/stages/spring", headers=root)).json()["status"] == "open"
    assert (await site.get("/api/v1/items", headers=root)).json()["total"] == 0
    assert await kernel.db.fetchval("SELECT count(*) FROM p_gatekeeper__published") == 0

    fine = await site.post("/api/v1/items", json={"type": "page", "title": "Good news"},
                           headers={**root, "X-Trovato-Stage": "summer"})
    assert fine.status_code == 201
    published = await site.post("/api/v1/stages/summer/publish", headers=root)
    assert published.status_code == 200, published.text
    rows = await kernel.db.fetch("SELECT id, items FROM p_gatekeeper__published")
    assert [(r["id"], r["items"]) for r in rows] == [("summer", 1)]
