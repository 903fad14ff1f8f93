"""``/api/v1/openapi.json`` is a valid OpenAPI 3.1 document generated from the routes' request
and response models and the live item types, the API answers what it says, and
``/api/v1/docs`` serves our own page and assets (no CDN)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from pydantic import BaseModel

from tests.api.conftest import ARTICLE, admin_headers
from tests.conftest import ADMIN_PASSWORD, create_account
from trovato.api.openapi import api_operations, build_openapi
from trovato.api.routing import DOCUMENTED_BY
from trovato.app import routes
from trovato.content.fields import FieldRegistry
from trovato.users.permissions import ANONYMOUS_ROLE

Schema = dict[str, Any]


def _component(model: type[BaseModel]) -> tuple[str, bool]:
    """The component a model is shown as, and whether that is its own schema (else the
    configured one it names)."""
    configured = model.model_json_schema().get(DOCUMENTED_BY)
    return (model.__name__, True) if configured is None else (str(configured), False)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_operation_shows_its_request_and_response_models() -> None:
    app_routes = routes()
    operations = api_operations(app_routes)
    document = build_openapi([], FieldRegistry(), app_routes)
    validate(document)  # type: ignore[arg-type]
    shown = {(path, method) for path, item in document["paths"].items() for method in item}
    assert shown == {(op.path, op.method.lower()) for op in operations}
    schemas = document["components"]["schemas"]
    for op in operations:
        described = document["paths"][op.path][op.method.lower()]
        assert described["operationId"] == op.operation_id
        declared = [(described["responses"][str(status)].get("content"), model,
                     "application/json") for status, model in op.responses.items()]
        if op.body is not None:  # JSON, or a multipart upload
            declared.append((described["requestBody"]["content"], op.body, op.body_media))
        for content, model, media in declared:
            if model is None:
                assert content is None, op.operation_id
                continue
            name, own = _component(model)
            assert content == {media: {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}, op.operation_id
            if own:  # the model's own schema, property by property
                assert set(schemas[name]["properties"]) == {
                    field.alias or key for key, field in model.model_fields.items()}
    # Every reference points at something in the document.
    for target in set(_refs(document)):
        node: Any = document
        for part in target.removeprefix("#/").split("/"):
            node = node[part]


def _conforms(document: Schema, method: str, template: str, response: httpx.Response) -> None:
    """``response`` is what the document says ``method template`` answers with its status."""
    described = document["paths"][template][method]["responses"][str(response.status_code)]
    if "$ref" in described:
        described = document["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    if "content" not in described:
        assert not response.content, (method, template)
        return
    media = response.headers["content-type"].split(";")[0]
    schema = {**described["content"][media]["schema"], "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator.iter_errors(response.json())]
    assert not errors, (method, template, errors)


async def test_responses_are_what_the_document_says(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    login = await client.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD})
    headers = {"X-CSRF-Token": login.json()["csrf_token"]}
    created_type = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    document = (await client.get("/api/v1/openapi.json")).json()
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Hello", "fields": {
            "field_body": {"value": "<p>Hi</p>"}, "field_tags": [{"value": "a"}]}})
    item_id = item.json()["id"]
    revisions = await client.get(f"/api/v1/items/{item_id}/revisions")
    token = await client.post("/api/v1/tokens", json={"label": "t"}, headers=headers)
    role = await client.post("/api/v1/roles", json={"name": "editor"}, headers=headers)
    calls = [
        ("post", "/api/v1/session", login),
        ("post", "/api/v1/item-types", created_type),
        ("post", "/api/v1/items", item),
        ("get", "/api/v1/items/{id}/revisions", revisions),
        ("post", "/api/v1/tokens", token),
        ("post", "/api/v1/roles", role),
        ("get", "/api/v1/users/me", await client.get("/api/v1/users/me")),
        ("get", "/api/v1/tokens", await client.get("/api/v1/tokens")),
        ("get", "/api/v1/roles", await client.get("/api/v1/roles")),
        ("get", "/api/v1/permissions", await client.get("/api/v1/permissions")),
        ("get", "/api/v1/item-types", await client.get("/api/v1/item-types")),
        ("get", "/api/v1/item-types/{type}", await client.get("/api/v1/item-types/article")),
        ("get", "/api/v1/items", await client.get("/api/v1/items")),
        ("get", "/api/v1/items/{id}", await client.get(f"/api/v1/items/{item_id}")),
        ("patch", "/api/v1/items/{id}", await client.patch(
            f"/api/v1/items/{item_id}", json={"title": "Changed"}, headers=headers)),
        ("post", "/api/v1/items/{id}/revisions/{rev}/revert", await client.post(
            f"/api/v1/items/{item_id}/revisions/{revisions.json()['revisions'][-1]['id']}"
            "/revert", headers=headers)),
        ("get", "/api/v1/items/{id}", await client.get(
            "/api/v1/items/0190a8f0-0000-7000-8000-000000000001")),
        ("post", "/api/v1/items", await client.post(
            "/api/v1/items", json={"type": "article", "title": "x"}, headers=headers)),
        ("delete", "/api/v1/item-types/{type}", await client.delete(
            "/api/v1/item-types/article", params={"force": "true"}, headers=headers)),
        ("delete", "/api/v1/session", await client.delete("/api/v1/session", headers=headers)),
        ("get", "/api/v1/users/me", await client.get("/api/v1/users/me")),
    ]
    statuses = [response.status_code for _, _, response in calls]
    assert statuses == [200, 201, 201, 200, 201, 201, *[200] * 10, 404, 422, 200, 204, 200], \
        statuses
    for method, template, response in calls:
        _conforms(document, method, template, response)


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
    # A required field's value must not be empty (the service refuses an empty one).
    body = create["properties"]["fields"]["properties"]["field_body"]
    assert body["properties"]["value"]["minLength"] == 1
    assert schemas["ItemCreate"]["discriminator"]["mapping"] == {
        "article": "#/components/schemas/ItemCreate_article"}
    assert "FieldInstance_text_long" in schemas
    # Only an image field is shown in an image style (the service refuses it elsewhere).
    assert "image_style" in schemas["FieldInstance_image"]["properties"]["display"]["properties"]
    assert "image_style" not in (
        schemas["FieldInstance_text"]["properties"]["display"]["properties"])

    # A change to the type shows at once.
    await client.patch("/api/v1/item-types/article", json={"fields": [
        *ARTICLE["fields"], {"name": "field_when", "type": "datetime", "label": "When"}]},
        headers=headers)
    document = (await client.get("/api/v1/openapi.json")).json()
    fields = document["components"]["schemas"]["Item_article"]["properties"]["fields"]
    assert fields["properties"]["field_when"]["properties"]["value"]["format"] == "date-time"


def _admits(document: Schema, method: str, template: str, body: Any) -> bool:
    """Whether the document's request body schema of ``method template`` admits ``body``."""
    content = document["paths"][template][method]["requestBody"]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    return bool(Draft202012Validator(schema).is_valid(body))


async def test_the_document_admits_the_bodies_the_service_takes(
        client: httpx.AsyncClient) -> None:
    """Where the two used to disagree: null for a field that is not required, an empty value
    of a required one, blank titles, a boolean status, a whole number written 1.0, reference
    bundles, list keys, a list field's settings (which it cannot leave out) and an empty
    stage header."""
    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=ARTICLE,
                              headers=headers)).status_code == 201
    document = (await client.get("/api/v1/openapi.json")).json()
    body = {"field_body": {"value": "x"}}

    def item(title: str, fields: dict[str, Any]) -> Schema:
        return {"type": "article", "title": title, "fields": fields}

    def item_type(name: str, field_type: str, settings: Schema) -> Schema:
        return {"type": name, "label": "T", "fields": [
            {"name": f"field_{name}", "type": field_type, "label": "F", "settings": settings}]}

    cases: list[tuple[str, str, str, Schema, bool]] = [
        ("post", "/api/v1/items", "/api/v1/items",
         item("A", {**body, "field_tags": None, "field_count": None}), True),
        ("post", "/api/v1/items", "/api/v1/items", item("A", {"field_body": None}), False),
        ("post", "/api/v1/items", "/api/v1/items", item("A", {"field_body": {"value": ""}}),
         False),
        ("post", "/api/v1/items", "/api/v1/items", item(" ", body), False),
        ("post", "/api/v1/items", "/api/v1/items", {**item("A", body), "status": False}, False),
        ("post", "/api/v1/items", "/api/v1/items", {**item("A", body), "status": 0}, True),
        # JSON has one number type: 1.0 is the integer 1.
        ("post", "/api/v1/items", "/api/v1/items", {**item("A", body), "status": 1.0}, True),
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("ref1", "reference", {"target_bundles": ["Bad Name"]}), False),
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("ref2", "reference", {"target_bundles": ["article"]}), True),
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("list1", "list", {"allowed_values": {"": "Nothing"}}), False),
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("list2", "list", {"allowed_values": {"a": "A"}}), True),
        # Read as a float by the JSON parser, it must not round into the 64-bit range.
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("int1", "integer", {"max": -(2**63) - 1}), False),
        ("post", "/api/v1/item-types", "/api/v1/item-types",
         item_type("int2", "integer", {"max": 10.0}), True),
        ("post", "/api/v1/item-types", "/api/v1/item-types", {"type": "list3", "label": "T",
         "fields": [{"name": "field_list3", "type": "list", "label": "F"}]}, False),
    ]
    created = await client.post("/api/v1/items", json=item("A", body), headers=headers)
    item_path = f"/api/v1/items/{created.json()['id']}"
    cases += [("patch", "/api/v1/items/{id}", item_path, {"title": " "}, False),
              ("patch", "/api/v1/items/{id}", item_path, {"title": "B"}, True),
              ("patch", "/api/v1/items/{id}", item_path, {"status": True}, False)]
    for method, template, path, payload, valid in cases:
        response = await client.request(method, path, json=payload, headers=headers)
        assert response.status_code < 300 if valid else response.status_code == 422, (
            payload, response.text)
        assert _admits(document, method, template, payload) == valid, payload
    stage = next(p for p in document["paths"]["/api/v1/items/{id}"]["get"]["parameters"]
                 if p["name"] == "X-Trovato-Stage")
    header = Draft202012Validator({**stage["schema"], "components": document["components"]})
    assert header.is_valid("") and header.is_valid("live") and not header.is_valid("nope")
    assert (await client.get(item_path, headers={"X-Trovato-Stage": ""})).status_code == 200


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
