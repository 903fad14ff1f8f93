"""``/api/v1/gather-definitions`` and the JSON display ``/api/v1/gather/{name}``: management
needs ``administer gather``; a listing shows exactly what item pages show (unpublished items
hidden and not counted, stage items only in their stage); bad input is a clear 4xx naming the
part, never a SQL error; an injection corpus through every value finds nothing extra."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account

LISTING: dict[str, Any] = {
    "name": "articles",
    "label": "Articles",
    "filters": [
        {"field": "type", "op": "equals", "value": "article"},
        {"field": "title", "op": "contains", "exposed": "q", "label": "Title contains"},
        {"field": "field_count", "op": "gte", "exposed": "min"},
    ],
    "sorts": [{"field": "title", "direction": "asc"}],
    "pager": {"type": "full", "per_page": 2},
    "displays": {"json": {}, "page": {"path": "/articles", "style": "table"}},
    "fields": ["field_count"],
}


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await admin_headers(client)
    created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert created.status_code == 201, created.text
    for n, title in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        await _item(client, headers, title, count=n)
    await _item(client, headers, "hidden draft", status=0)
    listing = await client.post("/api/v1/gather-definitions", json=LISTING, headers=headers)
    assert listing.status_code == 201, listing.text
    return headers


async def _item(client: httpx.AsyncClient, headers: dict[str, str], title: str, *,
                count: int = 0, status: int = 1, **extra: Any) -> str:
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "status": status,
        "fields": {"field_body": {"value": "b", "format": "plain_text"},
                   "field_count": {"value": count}}}, **extra)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["title"] for i in response.json()["items"]]


async def test_definitions_are_managed_by_administrators(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    listed = (await client.get("/api/v1/gather-definitions")).json()["definitions"]
    assert [d["name"] for d in listed] == ["articles", "frontpage"]
    got = (await client.get("/api/v1/gather-definitions/articles")).json()
    assert got["version"] == 1 and got["filters"] == LISTING["filters"]
    changed = await client.put("/api/v1/gather-definitions/articles", headers=headers,
                               json={**LISTING, "label": "All articles"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.json()["label"] == "All articles"
    duplicate = await client.post("/api/v1/gather-definitions", json=LISTING, headers=headers)
    assert duplicate.status_code == 409
    other_name = await client.put("/api/v1/gather-definitions/other", headers=headers,
                                  json=LISTING)
    assert other_name.status_code == 409 and "name" in other_name.json()["errors"]
    taken = await client.post("/api/v1/gather-definitions", headers=headers,
                              json={**LISTING, "name": "again"})
    assert taken.status_code == 409 and "displays.page.path" in taken.json()["errors"]
    front = await client.delete("/api/v1/gather-definitions/frontpage", headers=headers)
    assert front.status_code == 409
    bad = await client.post("/api/v1/gather-definitions", headers=headers, json={
        **LISTING, "name": "bad", "displays": {},
        "filters": [{"field": "field_count", "op": "gt", "value": "many"}]})
    assert bad.status_code == 422 and "filters.0.value" in bad.json()["errors"], bad.text
    # Nobody else manages them.
    await create_account(client, "reader")
    await login_as(client, "reader")
    assert (await client.get("/api/v1/gather-definitions")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/api/v1/gather-definitions/articles")).status_code == 401
    headers = await login_as(client, "root")
    assert (await client.delete("/api/v1/gather-definitions/articles",
                                headers=headers)).status_code == 204
    assert (await client.get("/api/v1/gather/articles")).status_code == 404


async def test_the_json_display_pages_filters_and_counts_what_the_reader_sees(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    client.cookies.clear()
    first = await client.get("/api/v1/gather/articles")
    body = first.json()
    assert _titles(first) == ["alpha", "beta"]
    assert (body["page"], body["per_page"], body["total"]) == (0, 2, 5)
    assert set(body["items"][0]) >= {"id", "type", "fields", "status", "author_id"}
    assert _titles(await client.get("/api/v1/gather/articles?page=2")) == ["gamma"]
    assert (await client.get("/api/v1/gather/articles?page=3")).status_code == 404
    bad_page = await client.get("/api/v1/gather/articles?page=x")
    assert bad_page.status_code == 400 and "page" in bad_page.text
    assert _titles(await client.get("/api/v1/gather/articles?q=ta")) == ["beta", "delta"]
    assert _titles(await client.get("/api/v1/gather/articles?min=3&q=")) == ["delta",
                                                                           "epsilon"]
    wrong = await client.get("/api/v1/gather/articles?min=three")
    assert wrong.status_code == 400 and wrong.json()["errors"] == {"min": "must be an integer"}
    # The administrator sees the draft, and it is counted for them only.
    headers = await login_as(client, "root")
    assert (await client.get("/api/v1/gather/articles")).json()["total"] == 6
    # The mini pager never counts.
    mini = {**LISTING, "pager": {"type": "mini", "per_page": 4}}
    assert (await client.put("/api/v1/gather-definitions/articles", json=mini,
                             headers=headers)).status_code == 200
    client.cookies.clear()
    page = (await client.get("/api/v1/gather/articles")).json()
    assert page["total"] is None and len(page["items"]) == 4
    assert _titles(await client.get("/api/v1/gather/articles?page=1")) == ["gamma"]
    assert (await client.get("/api/v1/gather/articles?page=2")).status_code == 404
    # A listing with no JSON display has none here.
    headers = await login_as(client, "root")
    no_json = {**LISTING, "displays": {}}
    await client.put("/api/v1/gather-definitions/articles", json=no_json, headers=headers)
    assert (await client.get("/api/v1/gather/articles")).status_code == 404


async def test_a_listing_follows_the_stage(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    created = await client.post("/api/v1/stages", json={"id": "draft", "label": "Draft"},
                                headers=headers)
    assert created.status_code == 201, created.text
    stage = {**headers, "X-Trovato-Stage": "draft"}
    response = await client.post("/api/v1/items", headers=stage, json={
        "type": "article", "title": "aardvark",
        "fields": {"field_body": {"value": "b", "format": "plain_text"}}})
    assert response.status_code == 201, response.text
    in_stage = await client.get("/api/v1/gather/articles", headers=stage)
    assert _titles(in_stage) == ["aardvark", "alpha"] and in_stage.json()["total"] == 7
    live = await client.get("/api/v1/gather/articles", headers=headers)
    assert _titles(live) == ["alpha", "beta"] and live.json()["total"] == 6


INJECTIONS = [
    "' OR '1'='1", "'; DROP TABLE item; --", "\" OR \"\"=\"", "%", "_", "\\", "%' --",
    "1; SELECT * FROM users", "') OR 1=1 --", "$1", "%(viewer)s", "{}", "[]", "null",
    "' UNION SELECT name, pass FROM users --", "\u2028", "é' OR 'é'='é", "a" * 1000,
]


async def test_injection_through_exposed_filters_and_parameters(
    client: httpx.AsyncClient,
) -> None:
    headers = await _site(client)
    by_tag = await client.put("/api/v1/gather-definitions/bytag", headers=headers, json={
        "name": "bytag", "label": "By title", "displays": {"json": {}},
        "filters": [{"field": "title", "op": "equals", "argument": "t", "default": "ignore"}]})
    assert by_tag.status_code == 200, by_tag.text
    client.cookies.clear()
    for value in INJECTIONS:  # through a contextual argument
        response = await client.get("/api/v1/gather/bytag", params={"t": value})
        assert response.status_code == 200 and response.json()["total"] == 0, (
            value, response.text)
    for value, parameter in itertools.product(
            INJECTIONS, ("q", "min", "sort", "page", "type", "status", "stage")):
        response = await client.get("/api/v1/gather/articles", params={parameter: value})
        assert response.status_code in (200, 400, 403, 404), (parameter, response.text)
        if response.status_code == 200:
            # Nothing outside the definition: published articles only, at most a page.
            items = response.json()["items"]
            assert len(items) <= 2 and all(i["type"] == "article" and i["status"] == 1
                                           for i in items)
            if parameter == "q" and value.strip():  # a blank filter is no filter
                assert all(value.lower() in i["title"] for i in items)


async def test_injection_through_definition_values(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    for value, op in itertools.product(
            INJECTIONS, ("equals", "contains", "starts_with", "fulltext", "in")):
        definition = {**LISTING, "name": "probe", "displays": {"json": {}},
                      "filters": [{"field": "title", "op": op,
                                   "value": [value] if op == "in" else value}]}
        response = await client.put("/api/v1/gather-definitions/probe", json=definition,
                                    headers=headers)
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            run = await client.get("/api/v1/gather/probe", headers=headers)
            assert run.status_code == 200 and run.json()["total"] == 0, (op, run.text)


def _conforms(document: dict[str, Any], response: httpx.Response) -> None:
    """``response`` (200) is what the document says ``GET /api/v1/gather/{name}`` answers."""
    described = document["paths"]["/api/v1/gather/{name}"]["get"]["responses"]["200"]
    schema = {**described["content"]["application/json"]["schema"],
              "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert not [e.message for e in validator.iter_errors(response.json())]


async def test_relationships_and_bases_through_the_api(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    document = (await client.get("/api/v1/openapi.json")).json()
    related = {**LISTING, "relationships": [{"name": "author", "field": "author"}],
               "fields": ["author.name", "field_count"],
               "filters": [{"field": "author.name", "op": "equals", "exposed": "by"}]}
    # The document describes what a definition names on its own: a field read through a
    # relationship is valid only with that relationship, which a schema cannot say (the
    # service checks it), so the documented field names leave them out.
    assert "author.name" not in document["components"]["schemas"]["GatherFieldName"]["enum"]
    put = await client.put("/api/v1/gather-definitions/articles", json=related,
                           headers=headers)
    assert put.status_code == 200, put.text
    client.cookies.clear()
    page = await client.get("/api/v1/gather/articles?by=root")
    assert page.json()["items"][0]["related"] == {"author.name": "root"}
    assert page.json()["total"] == 5
    _conforms(document, page)
    assert _titles(await client.get("/api/v1/gather/articles?by=nobody")) == []
    # Users: public columns; the mail only for an administrator of users.
    headers = await login_as(client, "root")
    people = {"name": "people", "label": "People", "base": "user", "displays": {"json": {}},
              "fields": ["name"]}
    created = await client.post("/api/v1/gather-definitions", json=people, headers=headers)
    assert created.status_code == 201, created.text
    listed = await client.get("/api/v1/gather/people")
    assert [u["name"] for u in listed.json()["items"]] == ["root"]
    assert "mail" in listed.json()["items"][0] and "pass" not in listed.text
    _conforms(document, listed)
    client.cookies.clear()
    assert (await client.get("/api/v1/gather/people")).status_code == 401  # log in first
    # Names that try another table or a private column: a 422 naming the part.
    headers = await login_as(client, "root")
    for changes, part in [
        ({"fields": ["pass"]}, "fields.0"),
        ({"filters": [{"field": "sessions.id", "op": "is_null"}]}, "filters.0.field"),
        ({"base": "item", "relationships": [{"name": "u", "field": "author"}],
          "fields": ["u.pass"]}, "fields.0"),
        ({"base": "users"}, "base"),
    ]:
        refused = await client.put("/api/v1/gather-definitions/people",
                                   json={**people, **changes}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert part in refused.json()["errors"], refused.json()
