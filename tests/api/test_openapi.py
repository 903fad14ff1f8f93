"""``/api/v1/openapi.json`` is a valid OpenAPI 3.1 document generated from the live item types,
and ``/api/v1/docs`` serves our own page and assets (no CDN)."""

from __future__ import annotations

import re

import httpx
from openapi_spec_validator import validate

from tests.api.conftest import ARTICLE, admin_headers
from trovato.api.openapi import build_openapi
from trovato.app import routes
from trovato.content.fields import FieldRegistry
from trovato.users.permissions import ANONYMOUS_ROLE


def test_document_without_types_is_valid() -> None:
    document = build_openapi([], FieldRegistry(), routes())
    validate(document)  # type: ignore[arg-type]
    assert "ItemCreate" in document["components"]["schemas"]


async def test_openapi_follows_item_types(client: httpx.AsyncClient) -> None:
    client = client
    before = await client.get("/api/v1/openapi.json")
    assert before.status_code == 200
    document = before.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert "Item_article" not in document["components"]["schemas"]
    for path in ("/api/v1/session", "/api/v1/users/me", "/api/v1/tokens", "/api/v1/roles",
                 "/api/v1/permissions", "/api/v1/item-types", "/api/v1/items",
                 "/api/v1/items/{id}/revisions/{rev}/revert"):
        assert path in document["paths"], path

    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=ARTICLE,
                              headers=headers)).status_code == 201
    document = (await client.get("/api/v1/openapi.json")).json()
    validate(document)
    schemas = document["components"]["schemas"]
    article = schemas["Item_article"]["properties"]["fields"]
    assert article["properties"]["field_count"]["properties"]["value"] == {
        "type": "integer", "minimum": 0, "maximum": 10}
    assert article["properties"]["field_tags"]["type"] == "array"
    create = schemas["ItemCreate_article"]
    assert create["properties"]["fields"]["required"] == ["field_body"]
    assert schemas["ItemCreate"]["discriminator"]["mapping"] == {
        "article": "#/components/schemas/ItemCreate_article"}
    assert "FieldInstance_text_long" in schemas

    # A change to the type shows at once.
    await client.patch("/api/v1/item-types/article", json={"fields": [
        *ARTICLE["fields"], {"name": "field_when", "type": "datetime", "label": "When"}]},
        headers=headers)
    document = (await client.get("/api/v1/openapi.json")).json()
    fields = document["components"]["schemas"]["Item_article"]["properties"]["fields"]
    assert fields["properties"]["field_when"]["properties"]["value"]["format"] == "date-time"


async def test_docs_page_uses_own_assets(client: httpx.AsyncClient) -> None:
    client = client
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources)  # same origin, no CDN
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
    script = await client.get("/api/v1/docs/assets/docs.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/api/v1/openapi.json" in script.text and ".innerHTML" not in script.text
    assert (await client.get("/api/v1/docs/assets/secret.py")).status_code == 404


async def test_the_document_needs_access_content(client: httpx.AsyncClient) -> None:
    """It names every type and field, so it is as private as the content itself."""
    headers = await admin_headers(client)
    response = await client.put(f"/api/v1/roles/{ANONYMOUS_ROLE}/permissions",
                                json={"permissions": []}, headers=headers)
    assert response.status_code in (200, 204), response.text
    assert (await client.get("/api/v1/openapi.json")).status_code == 200  # the admin
    client.cookies.clear()
    refused = await client.get("/api/v1/openapi.json")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/docs")).status_code == 200  # the static shell
