"""API operations are declared next to their handlers: the document is generated from them,
bodies are validated by the models the document shows, and undeclared methods get 405 with
the documented ``Allow``."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from tests.api.conftest import ARTICLE, admin_headers
from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.openapi import build_openapi
from trovato.api.routing import api_routes, operation, read_body
from trovato.app import routes
from trovato.content.fields import FieldRegistry


class WidgetBody(StrictModel):
    size: int = Field(ge=1, le=9)


class Widget(ResponseModel):
    """A widget as sent."""

    size: int


@operation("POST", "/api/v1/widgets", operation_id="createWidget", summary="Make a widget",
           tag="Items", responses={201: Widget}, body=WidgetBody, problems=(409,))
async def create_widget(request: Request) -> Response:
    return JSON({"size": (await read_body(request, WidgetBody)).size}, status_code=201)


def test_a_declared_route_appears_in_the_document() -> None:
    document = build_openapi([], FieldRegistry(), [*routes(), *api_routes(create_widget)])
    validate(document)  # type: ignore[arg-type]
    op = document["paths"]["/api/v1/widgets"]["post"]
    assert op["operationId"] == "createWidget"
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WidgetBody"}
    size = document["components"]["schemas"]["WidgetBody"]["properties"]["size"]
    assert size["minimum"] == 1 and size["maximum"] == 9
    assert op["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Widget"}
    widget = document["components"]["schemas"]["Widget"]
    assert widget["required"] == ["size"] and widget["additionalProperties"] is False
    assert widget["description"] == "A widget as sent."
    refs = {status: r.get("$ref") for status, r in op["responses"].items()}
    assert refs["409"] == "#/components/responses/Conflict"
    assert refs["422"] == "#/components/responses/Invalid"
    assert refs["415"] == "#/components/responses/NotJson"
    assert refs["401"] == "#/components/responses/Unauthorized"
    assert "/api/v1/widgets" not in build_openapi([], FieldRegistry(), routes())["paths"]


async def test_undeclared_methods_get_405_with_the_documented_allow(
        client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    document = (await client.get("/api/v1/openapi.json")).json()
    for path, declared in (("/api/v1/item-types", {"GET", "POST"}),
                           ("/api/v1/item-types/page", {"GET", "PATCH", "PUT", "DELETE"}),
                           ("/api/v1/session", {"POST", "DELETE"})):
        template = path if path in document["paths"] else "/api/v1/item-types/{type}"
        assert {m.upper() for m in document["paths"][template]} == declared
        response = await client.request("TRACE" if "GET" in declared else "GET", path)
        assert response.status_code == 405, path
        assert set(response.headers["allow"].split(", ")) == declared
        assert response.headers["content-type"] == "application/problem+json"


async def test_null_is_not_a_value_in_a_patch(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=ARTICLE,
                              headers=headers)).status_code == 201
    response = await client.patch("/api/v1/item-types/article", json={"label": None},
                                  headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"] == {"label": "Value error, must not be null"}
    document = (await client.get("/api/v1/openapi.json")).json()
    label = document["components"]["schemas"]["ItemTypePatchBody"]["properties"]["label"]
    assert label == {"type": "string", "maxLength": 255, "pattern": r"\S", "title": "Label"}
