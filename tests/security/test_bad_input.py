"""Bad input gets a clear 4xx, never a 500 (finding 10), and typed names keep one spelling.

Each request below answered 500 (or was silently accepted) before: a page number beyond
bigint, NUL in a query parameter or a JSON string, a non-ASCII CSRF token, a 1,000-deep value
in an item's fields (serialised for a plugin's ``item_access`` before validation), a limit
over the maximum, a Host header in the OpenAPI document, a trailing newline in a type name.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.plugins.conftest import built, site  # noqa: F401  (fixtures: the hello plugin)
from tests.security._accounts import hidden_characters, login, look_alikes, person
from tests.security._accounts import site as plain_site


async def _admin(client: httpx.AsyncClient) -> dict[str, str]:
    await person(client, "root", admin=True)
    headers = await login(client, "root")
    response = await client.post("/api/v1/item-types", json={"type": "article",
                                                             "label": "Article"},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return headers


@pytest.mark.parametrize(("query", "field"), [
    ("page=99999999999999999999", "page"),
    ("page=-1", "page"),
    ("page=1000000", None),
    ("limit=1000", "limit"),
    ("limit=0", "limit"),
    ("status=7", "status"),
])
async def test_listing_parameters_out_of_range(db_url: str, query: str, field: str | None
                                               ) -> None:
    async with plain_site(db_url) as client:
        await _admin(client)
        response = await client.get(f"/api/v1/items?{query}")
        if field is None:
            assert response.status_code == 200
            return
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]
        if field == "limit":
            assert "100" in response.json()["errors"]["limit"]


@pytest.mark.parametrize("path", [
    "/api/v1/items?type=art%00icle",
    "/api/v1/items?author=%00",
    "/api/v1/item-types/art%00icle",
    "/api/v1/items/%00",
])
async def test_nul_in_the_request_line_is_a_clean_400(db_url: str, path: str) -> None:
    async with plain_site(db_url) as client:
        await _admin(client)
        response = await client.get(path)
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/roles", {"name": "ed\x00itor"}, "name"),
    ("/api/v1/items", {"type": "article", "title": "a\x00b"}, "title"),
    ("/api/v1/items", {"type": "article", "fields": {"x\x00": {"value": 1}}}, "fields"),
    ("/api/v1/item-types", {"type": "page", "label": "P\x00"}, "label"),
    ("/api/v1/tokens", {"label": "\x00"}, "label"),
])
async def test_nul_in_json_strings_is_a_clean_422(db_url: str, path: str,
                                                  body: dict[str, object], field: str) -> None:
    async with plain_site(db_url) as client:
        headers = await _admin(client)
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert any(key.startswith(field) for key in response.json()["errors"])


async def test_non_ascii_csrf_tokens_are_refused_not_crashed(db_url: str) -> None:
    async with plain_site(db_url) as client:
        await _admin(client)
        header = await client.post("/api/v1/roles", json={"name": "x"},
                                   headers={"X-CSRF-Token": b"\xff\xc3\xa9t\xe9"})
        assert header.status_code == 403
        form = await client.post("/user/logout", content="csrf_token=%C3%A9%FF",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 403
        assert (await client.get("/api/v1/users/me")).json()["authenticated"] is True


async def test_deep_fields_are_refused_before_any_plugin_sees_them(
    site: httpx.AsyncClient,  # noqa: F811
) -> None:
    # A writer, not an administrator: the hello plugin's item_access votes on their create.
    await person(site, "writer", "create greeting content", "access content")
    headers = await login(site, "writer")
    # Written out: the client's own JSON encoder stops at this depth.
    deep = "[" * 1000 + '"bottom"' + "]" * 1000
    body = '{"type": "greeting", "title": "Deep", "fields": {"field_body": ' + deep + "}}"
    response = await site.post("/api/v1/items", content=body.encode(),
                               headers={**headers, "content-type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    assert "deeper than 32 levels" in response.json()["detail"]
    fine = await site.post("/api/v1/items", headers=headers, json={
        "type": "greeting", "title": "Shallow", "fields": {"field_body": {"value": "Hi"}}})
    assert fine.status_code == 201, fine.text


async def test_openapi_servers_ignore_the_host_header(db_url: str) -> None:
    async with plain_site(db_url) as client:
        await _admin(client)
        document = await client.get("/api/v1/openapi.json",
                                    headers={"Host": "evil.example"})
        assert document.status_code == 200
        assert document.json()["servers"] == [{"url": "/"}]
        assert "evil.example" not in document.text


# -- typed machine names: one spelling each ------------------------------------------------

@pytest.mark.parametrize("how", sorted({**look_alikes("editor"),
                                        **hidden_characters("editor")}))
async def test_role_names_have_one_spelling(db_url: str, how: str) -> None:
    variant = {**look_alikes("editor"), **hidden_characters("editor")}[how]
    async with plain_site(db_url) as client:
        headers = await _admin(client)
        first = await client.post("/api/v1/roles", json={"name": "editor"}, headers=headers)
        assert first.status_code == 201
        second = await client.post("/api/v1/roles", json={"name": variant}, headers=headers)
        assert second.status_code in (409, 422), (how, second.text)
        assert "name" in second.json()["errors"]


@pytest.mark.parametrize("how", sorted({**look_alikes("article"),
                                        **hidden_characters("article")}))
async def test_type_and_field_names_have_one_spelling(db_url: str, how: str) -> None:
    variant = {**look_alikes("article"), **hidden_characters("article")}[how]
    async with plain_site(db_url) as client:
        headers = await _admin(client)  # creates "article"
        again = await client.post("/api/v1/item-types",
                                  json={"type": variant, "label": "Again"}, headers=headers)
        field = await client.post("/api/v1/item-types", headers=headers, json={
            "type": "other", "label": "Other",
            "fields": [{"name": f"field_{variant}", "type": "text", "label": "X"}]})
        # Machine names are plain ASCII; only a distinct plain name ("artic1e") is accepted.
        if re.fullmatch(r"[a-z][a-z0-9_]*", variant):
            assert (again.status_code, field.status_code) == (201, 201), (how, again.text)
        else:
            assert again.status_code == 422 and "type" in again.json()["errors"], (how,
                                                                                 again.text)
            assert field.status_code == 422, (how, field.text)
