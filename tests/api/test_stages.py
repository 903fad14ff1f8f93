"""``/api/v1/stages`` and the stage header on ``/api/v1/items``: records, writing and reading in
a stage, conflicts as problem documents, publishing, and 404 for a stage one may not reach."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account
from trovato.users.permissions import AUTHENTICATED_ROLE


def _stage(name: str) -> dict[str, str]:
    return {"X-Trovato-Stage": name}


async def _article(client: httpx.AsyncClient, headers: dict[str, str], title: str,
                   **extra: Any) -> str:
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "fields": {"field_body": {"value": "Body"}},
        **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_stage_records(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    created = await client.post("/api/v1/stages", headers=root,
                                json={"id": "spring", "label": "Spring"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "spring" and created.json()["upstream"] == "live"
    assert created.headers["location"] == "/api/v1/stages/spring"
    child = await client.post("/api/v1/stages", headers=root,
                              json={"id": "fix", "label": "Fix", "upstream": "spring"})
    assert child.status_code == 201 and child.json()["upstream"] == "spring"
    listed = await client.get("/api/v1/stages", headers=root)
    assert [s["id"] for s in listed.json()["stages"]] == ["fix", "spring"]
    patched = await client.patch("/api/v1/stages/fix", headers=root,
                                 json={"label": "Fix it", "visibility": "public"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["label"], patched.json()["visibility"]) == ("Fix it", "public")
    bad = await client.post("/api/v1/stages", headers=root, json={"id": "Bad Id", "label": "x"})
    assert bad.status_code == 422 and "id" in bad.json()["errors"]
    again = await client.post("/api/v1/stages", headers=root,
                              json={"id": "spring", "label": "Again"})
    assert again.status_code == 409
    cycle = await client.patch("/api/v1/stages/spring", headers=root, json={"upstream": "fix"})
    assert cycle.status_code == 422 and "upstream" in cycle.json()["errors"]
    blocked = await client.delete("/api/v1/stages/spring", headers=root)
    assert blocked.status_code == 409
    archived = await client.post("/api/v1/stages/fix/archive", headers=root)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert (await client.delete("/api/v1/stages/fix", headers=root)).status_code == 204
    assert (await client.get("/api/v1/stages/fix", headers=root)).status_code == 404
    assert (await client.get("/api/v1/stages/live", headers=root)).status_code == 404


async def test_writing_reading_and_publishing_a_stage(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=root)
    await client.post("/api/v1/stages", headers=root, json={"id": "spring", "label": "Spring"})
    live_id = await _article(client, root, "Live")
    new_id = await _article(client, {**root, **_stage("spring")}, "New")
    patched = await client.patch(f"/api/v1/items/{live_id}", headers={**root, **_stage("spring")},
                                 json={"title": "Live, staged"})
    assert patched.status_code == 200 and patched.json()["title"] == "Live, staged"
    assert (await client.get(f"/api/v1/items/{live_id}")).json()["title"] == "Live"
    staged = await client.get("/api/v1/items", headers={**root, **_stage("spring")},
                              params={"sort": "title"})
    assert [i["title"] for i in staged.json()["items"]] == ["Live, staged", "New"]
    assert staged.json()["total"] == 2
    changes = (await client.get("/api/v1/stages/spring/changes", headers=root)).json()
    assert {c["item"]: c["change"] for c in changes["changes"]} == {
        live_id: "edited", new_id: "created"}
    # When: the created item's last change; the edit's revision.
    new = (await client.get(f"/api/v1/items/{new_id}", headers={**root, **_stage("spring")}))
    revisions = (await client.get(f"/api/v1/items/{live_id}/revisions",
                                  headers={**root, **_stage("spring")})).json()["revisions"]
    revised = {r["id"]: r["created"] for r in revisions}[patched.json()["revision_id"]]
    assert {c["item"]: c["when"] for c in changes["changes"]} == {
        live_id: revised, new_id: new.json()["changed"]}
    third = await _article(client, root, "Third")
    await client.delete(f"/api/v1/items/{third}", headers={**root, **_stage("spring")})
    assert (await client.get(f"/api/v1/items/{third}", headers=_stage("spring"))
            ).status_code == 404
    discarded = await client.delete(f"/api/v1/stages/spring/changes/{third}", headers=root)
    assert discarded.status_code == 204
    assert (await client.get(f"/api/v1/items/{third}", headers=_stage("spring"))
            ).status_code == 200
    conflicts = await client.get("/api/v1/stages/spring/conflicts", headers=root)
    assert conflicts.json() == {"conflicts": []}
    dry = await client.post("/api/v1/stages/spring/publish", headers=root,
                            json={"dry_run": True})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert (await client.get(f"/api/v1/items/{new_id}")).status_code == 404
    published = await client.post("/api/v1/stages/spring/publish", headers=root)
    assert published.status_code == 200, published.text
    assert published.json()["created"] == [new_id]
    assert (await client.get(f"/api/v1/items/{live_id}")).json()["title"] == "Live, staged"
    assert (await client.get(f"/api/v1/items/{new_id}")).status_code == 200
    again = await client.post("/api/v1/stages/spring/publish", headers=root)
    assert again.status_code == 409
    late = await client.post("/api/v1/items", headers={**root, **_stage("spring")}, json={
        "type": "article", "title": "Late", "fields": {"field_body": {"value": "x"}}})
    assert late.status_code == 409


async def test_conflicts_are_a_problem_until_resolved(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=root)
    for name in ("one", "two"):
        await client.post("/api/v1/stages", headers=root, json={"id": name, "label": name})
    item = await _article(client, root, "Original")
    for name in ("one", "two"):
        response = await client.patch(f"/api/v1/items/{item}", json={"title": f"By {name}"},
                                      headers={**root, **_stage(name)})
        assert response.status_code == 200, response.text
    assert (await client.post("/api/v1/stages/one/publish", headers=root)).status_code == 200
    refused = await client.post("/api/v1/stages/two/publish", headers=root, json={})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["conflicts"] == [{"item": item, "field": "title", "stage": "By two",
                                            "upstream": "By one", "base": "Original"}]
    bad = await client.post("/api/v1/stages/two/publish", headers=root, json={
        "resolutions": [{"item": item, "field": "field_nope", "take": "stage"}]})
    assert bad.status_code == 422 and "resolutions.0.field" in bad.json()["errors"]
    shape = await client.post("/api/v1/stages/two/publish", headers=root, json={
        "resolutions": [{"item": item, "field": "title", "take": "mine"}]})
    assert shape.status_code == 422
    assert (await client.get(f"/api/v1/items/{item}")).json()["title"] == "By one"
    done = await client.post("/api/v1/stages/two/publish", headers=root, json={
        "resolutions": [{"item": item, "field": "title", "take": "stage"}]})
    assert done.status_code == 200, done.text
    assert (await client.get(f"/api/v1/items/{item}")).json()["title"] == "By two"
    discard = await client.delete(f"/api/v1/stages/two/changes/{item}", headers=root)
    assert discard.status_code == 409  # published: nothing left to discard


async def test_an_unreachable_stage_is_404_everywhere(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=root)
    await client.put(f"/api/v1/roles/{AUTHENTICATED_ROLE}/permissions", headers=root, json={
        "permissions": ["access content", "use stages", "publish stages",
                        "create article content", "edit any article content"]})
    await create_account(client, "ann")
    await create_account(client, "otto")
    ann = await login_as(client, "ann")
    assert (await client.post("/api/v1/stages", headers=ann,
                              json={"id": "anns", "label": "Ann's"})).status_code == 201
    live_id = await _article(client, ann, "Live")
    staged_id = await _article(client, {**ann, **_stage("anns")}, "Staged")
    discard = await client.delete(f"/api/v1/stages/anns/changes/{live_id}", headers=ann)
    assert discard.status_code == 404  # no change to that item
    otto = await login_as(client, "otto")
    assert (await client.get("/api/v1/stages", headers=otto)).json() == {"stages": []}
    for method, path in (("GET", "/api/v1/stages/anns"), ("PATCH", "/api/v1/stages/anns"),
                         ("DELETE", "/api/v1/stages/anns"),
                         ("POST", "/api/v1/stages/anns/archive"),
                         ("GET", "/api/v1/stages/anns/changes"),
                         ("GET", "/api/v1/stages/anns/conflicts"),
                         ("POST", "/api/v1/stages/anns/publish"),
                         ("DELETE", f"/api/v1/stages/anns/changes/{staged_id}")):
        body = {"label": "x"} if method == "PATCH" else None
        response = await client.request(method, path, headers=otto, json=body)
        assert response.status_code == 404, (method, path, response.text)
    for path in (f"/api/v1/items/{staged_id}", f"/api/v1/items/{live_id}", "/api/v1/items"):
        response = await client.get(path, headers={**otto, **_stage("anns")})
        assert response.status_code == 404, (path, response.text)
    response = await client.patch(f"/api/v1/items/{live_id}", json={"title": "x"},
                                  headers={**otto, **_stage("anns")})
    assert response.status_code == 404
    # The pages too: an item page and the front page asked for in the stage.
    for path in (f"/item/{staged_id}?stage=anns", f"/item/{live_id}?stage=anns",
                 "/?stage=anns", "/admin/stages/anns", "/admin/stages/anns/publish"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Staged" not in response.text and "text/html" in response.headers["content-type"]
    # Sharing the stage opens it.
    ann = await login_as(client, "ann")
    await client.patch("/api/v1/stages/anns", headers=ann, json={"visibility": "public"})
    otto = await login_as(client, "otto")
    response = await client.get(f"/api/v1/items/{staged_id}", headers={**otto, **_stage("anns")})
    assert response.status_code == 200


async def test_live_visitors_never_get_stage_content_from_the_page_cache(
    client: httpx.AsyncClient,
) -> None:
    root = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=root)
    await client.post("/api/v1/stages", headers=root, json={"id": "spring", "label": "Spring"})
    item = await _article(client, root, "Live title")
    await client.patch(f"/api/v1/items/{item}", json={"title": "Staged title"},
                       headers={**root, **_stage("spring")})
    client.cookies.clear()
    first = await client.get(f"/item/{item}")
    assert first.status_code == 200 and "Live title" in first.text
    assert "Staged title" not in first.text
    root = await login_as(client, "root")
    in_stage = await client.get(f"/item/{item}?stage=spring")
    assert "Staged title" in in_stage.text
    client.cookies.clear()
    cached = await client.get(f"/item/{item}")
    assert cached.headers["x-trovato-cache"] == "HIT" and "Staged title" not in cached.text
    # The reverse: an anonymous preview of the stage is never answered from live's cache,
    # nor stored in it.
    root = await login_as(client, "root")
    link = (await client.post("/api/v1/stages/spring/preview-links", headers=root,
                              json={})).json()
    client.cookies.clear()
    for _ in range(2):
        preview = await client.get(f"/item/{item}?{link['url'].split('?')[1]}")
        assert "Staged title" in preview.text and "x-trovato-cache" not in preview.headers
        client.cookies.clear()
    assert "Staged title" not in (await client.get(f"/item/{item}")).text
    root = await login_as(client, "root")
    assert (await client.post("/api/v1/stages/spring/publish", headers=root)).status_code == 200
    client.cookies.clear()
    fresh = await client.get(f"/item/{item}")
    assert fresh.headers["x-trovato-cache"] == "MISS" and "Staged title" in fresh.text


async def test_the_document_lists_the_stage_operations(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    ids = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"listStages", "createStage", "getStage", "patchStage", "deleteStage",
            "archiveStage", "listStageChanges", "listStageConflicts", "publishStage",
            "discardStageChange"} <= ids
    assert "PublishResult" in document["components"]["schemas"]
