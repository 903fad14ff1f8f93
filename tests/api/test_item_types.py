"""``/api/v1/item-types`` through the real app: CRUD, validation problems, permissions."""

from __future__ import annotations

import httpx

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account


async def test_item_type_crud(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/item-types/article"
    body = created.json()
    assert set(body) == {"type", "label", "description", "fields"}
    assert body["fields"][0] == {"name": "field_body", "type": "text_long", "label": "Body",
                                 "required": True, "cardinality": 1,
                                 "settings": {"max_length": None,
                                              "default_format": "filtered_html"}}
    listing = (await client.get("/api/v1/item-types")).json()
    assert [t["type"] for t in listing["item_types"]] == ["article"]
    assert (await client.get("/api/v1/item-types/article")).json() == body

    patched = await client.patch("/api/v1/item-types/article",
                                 json={"label": "News", "description": "Daily"},
                                 headers=headers)
    assert patched.status_code == 200
    assert patched.json()["label"] == "News" and len(patched.json()["fields"]) == 3

    put = await client.put("/api/v1/item-types/article", json={
        "label": "Article", "fields": [ARTICLE["fields"][0]]}, headers=headers)
    assert put.status_code == 200
    assert [f["name"] for f in put.json()["fields"]] == ["field_body"]
    assert put.json()["description"] == ""
    no_fields = await client.put("/api/v1/item-types/article", json={"label": "Article"},
                                 headers=headers)
    assert no_fields.status_code == 422 and "fields" in no_fields.json()["errors"]

    deleted = await client.delete("/api/v1/item-types/article", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["deleted_items"] == 0
    assert (await client.get("/api/v1/item-types/article")).status_code == 404


async def test_delete_with_items_needs_force(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    for n in range(2):
        response = await client.post("/api/v1/items", json={
            "type": "article", "title": f"A{n}", "status": 1,
            "fields": {"field_body": {"value": "x"}}}, headers=headers)
        assert response.status_code == 201
    refused = await client.delete("/api/v1/item-types/article", headers=headers)
    assert refused.status_code == 409
    assert "force=true" in refused.json()["detail"]
    forced = await client.delete("/api/v1/item-types/article?force=true", headers=headers)
    assert forced.status_code == 200
    assert forced.json() == {"type": "article", "deleted_items": 2,
                             "message": "Deleted item type 'article' and its 2 items."}
    assert (await client.get("/api/v1/items")).json()["total"] == 0


async def test_validation_problems(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    bad = await client.post("/api/v1/item-types", json={
        "type": "Bad", "label": "x", "fields": [
            {"name": "field_a", "type": "integer", "label": "A", "settings": {"mn": 1}},
            {"name": "field_b", "type": "list", "label": "B"},
            {"name": "field_c", "type": "text", "label": "C", "cardinality": -2}]},
        headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"] == {
        "type": bad.json()["errors"]["type"],
        "fields.field_a.settings.mn": "unknown setting",
        "fields.field_b.settings.allowed_values": "Field required",
        "fields.field_c.cardinality": "must be -1 (unlimited) or a number from 1 to 100",
    }
    unknown = await client.post("/api/v1/item-types", json={**ARTICLE, "colour": "red"},
                                headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"] == {"colour": "unknown field"}
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    clash = await client.post("/api/v1/item-types", json={
        "type": "page", "label": "Page",
        "fields": [{"name": "field_body", "type": "text", "label": "Body"}]}, headers=headers)
    assert clash.status_code == 422
    assert "text_long" in clash.json()["errors"]["fields.field_body.type"]
    duplicate = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert duplicate.status_code == 409
    rename = await client.put("/api/v1/item-types/article", json={**ARTICLE, "type": "other"},
                              headers=headers)
    assert rename.status_code == 422
    missing = await client.patch("/api/v1/item-types/nope", json={"label": "x"},
                                 headers=headers)
    assert missing.status_code == 404
    not_json = await client.post("/api/v1/item-types", content=b"type=x", headers={
        **headers, "content-type": "application/x-www-form-urlencoded"})
    assert not_json.status_code == 415


async def test_permissions(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    await create_account(client, "alice")
    alice = await login_as(client, "alice")
    assert (await client.get("/api/v1/item-types")).status_code == 200
    refused = await client.post("/api/v1/item-types", json={**ARTICLE, "type": "other"},
                                headers=alice)
    assert refused.status_code == 403
    assert "administer content types" in refused.json()["detail"]
    assert (await client.delete("/api/v1/item-types/article", headers=alice)).status_code == 403
    client.cookies.clear()
    anonymous = await client.post("/api/v1/item-types", json=ARTICLE)
    assert anonymous.status_code == 401
    # The new type's permissions can be granted at once.
    headers = await login_as(client, "root")
    perms = (await client.get("/api/v1/permissions")).json()["permissions"]
    assert "edit own article content" in {p["name"] for p in perms}
    grant = await client.put("/api/v1/roles/00000000-0000-7000-8000-000000000002/permissions",
                             json={"permissions": ["access content", "create article content"]},
                             headers=headers)
    assert grant.status_code == 200, grant.text
