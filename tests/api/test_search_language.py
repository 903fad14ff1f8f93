"""``/api/v1/search/language`` and the batch it starts (``/api/v1/batches/{id}``): for
``administer site configuration`` only (401 anonymous, 403 without it), a language outside
``pg_ts_config`` refused naming ``language`` (nothing changed), a change answered 202 with
the rebuild's batch, which the caller drives to its end; the document shows it all."""

from __future__ import annotations

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.plugins.conftest import kernel_of
from tests.web.admin.conftest import grant
from trovato.users.roles import Roles

PATH = "/api/v1/search/language"


async def _site(client: httpx.AsyncClient, *titles: str) -> dict[str, str]:
    headers = await admin_headers(client)
    made = await client.post("/api/v1/item-types", json={"type": "page", "label": "Page"},
                             headers=headers)
    assert made.status_code == 201, made.text
    for title in titles:
        made = await client.post("/api/v1/items", headers=headers,
                                 json={"type": "page", "title": title, "status": 1})
        assert made.status_code == 201, made.text
    return headers


async def _titles(client: httpx.AsyncClient, words: str) -> list[str]:
    found = await client.get("/api/v1/search", params={"q": words})
    return sorted(result["title"] for result in found.json()["results"])


async def test_changing_the_language_starts_the_rebuild_the_caller_drives(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client, *(f"Plugins {n}" for n in range(30)))
    shown = await client.get(PATH)
    assert shown.status_code == 200, shown.text
    assert shown.json()["language"] == "english"
    assert {"english", "simple", "german"} <= set(shown.json()["languages"])

    put = await client.put(PATH, headers=headers, json={"language": " simple "})
    assert put.status_code == 202, put.text
    body = put.json()
    assert (body["language"], body["changed"]) == ("simple", True)
    batch = body["reindex"]
    assert put.headers["location"] == batch["url"] == f"/api/v1/batches/{batch['id']}"
    assert (batch["title"], batch["total"], batch["processed"], batch["finished"]) == (
        "Rebuilding the search index", 2, 0, False)  # 30 items in ranges of 25
    assert await kernel_of(client).search.language() == "simple"
    # The request rebuilt nothing: the stored words are still English.
    assert await _titles(client, "plugins") == []
    got = await client.get(batch["url"])
    assert got.status_code == 200 and got.json()["processed"] == 0  # reading drives nothing

    for _ in range(10):
        step = await client.post(batch["url"] + "/step", headers=headers)
        assert step.status_code == 200, step.text
        if step.json()["finished"]:
            break
    assert step.json() | {"url": ""} == {
        "id": batch["id"], "title": "Rebuilding the search index", "processed": 2, "total": 2,
        "done": 2, "skipped": 0, "skipped_reasons": [], "percent": 100, "finished": True,
        "url": ""}
    found = await client.get("/api/v1/search", params={"q": "plugins", "limit": "50"})
    assert found.json()["total"] == 30  # matched as written now
    assert await _titles(client, "plugin") == []

    again = await client.put(PATH, headers=headers, json={"language": "simple"})
    assert again.status_code == 200
    assert again.json() == {"language": "simple", "changed": False, "reindex": None}
    logged = await kernel_of(client).db.fetchval(
        "SELECT count(*) FROM watchdog WHERE message LIKE 'Changed the search language%'")
    assert logged == 1

    # A batch is its starter's: anyone else is told there is none.
    await grant(client, "other", "administer site configuration")
    other = await login_as(client, "other")
    assert (await client.get(batch["url"])).status_code == 404
    assert (await client.post(batch["url"] + "/step", headers=other)).status_code == 404


async def test_a_site_without_items_needs_no_rebuild(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    put = await client.put(PATH, headers=headers, json={"language": "german"})
    assert put.status_code == 200, put.text
    assert put.json() == {"language": "german", "changed": True, "reindex": None}


async def test_a_language_not_in_the_database_is_refused_naming_the_field(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client, "Plugins")
    for body, reason in (({"language": "klingon"}, "is not a text search configuration"),
                         ({"language": ""}, "is not a text search configuration"),
                         ({"language": 7}, ""), ({"language": "x" * 301}, ""),
                         ({}, ""), ({"language": "simple", "reindex": False}, "")):
        refused = await client.put(PATH, headers=headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        errors = refused.json()["errors"]
        assert any(key.startswith(("language", "reindex")) for key in errors), errors
        assert reason in " ".join(errors.values())
    assert await kernel_of(client).search.language() == "english"
    assert await _titles(client, "plugin") == ["Plugins"]


async def test_the_language_needs_administer_site_configuration(
        client: httpx.AsyncClient) -> None:
    await _site(client, "Plugins")
    client.cookies.clear()
    assert (await client.get(PATH)).status_code == 401
    assert (await client.put(PATH, json={"language": "simple"})).status_code == 401
    assert (await client.post("/api/v1/batches/x/step")).status_code == 401
    await grant(client, "editor", "administer content types", "access administration pages")
    headers = await login_as(client, "editor")
    assert (await client.get(PATH)).status_code == 403
    refused = await client.put(PATH, headers=headers, json={"language": "simple"})
    assert refused.status_code == 403
    # The session's token is needed as for every write riding on the cookie.
    await login_as(client, "root")
    assert (await client.put(PATH, json={"language": "simple"})).status_code == 403
    assert await kernel_of(client).search.language() == "english"


async def test_a_step_skips_everything_once_the_permission_is_lost(
        client: httpx.AsyncClient) -> None:
    await _site(client, "Plugins")
    editor = await grant(client, "editor", "administer site configuration")
    headers = await login_as(client, "editor")
    put = await client.put(PATH, headers=headers, json={"language": "simple"})
    assert put.status_code == 202, put.text
    kernel = kernel_of(client)
    role = await kernel.db.fetchval("SELECT role_id FROM users_roles WHERE user_id = %s",
                                    (editor,))
    await Roles(kernel.db, kernel.permissions).set_permissions(role, [], actor=None)
    step = await client.post(put.json()["reindex"]["url"] + "/step", headers=headers)
    assert step.status_code == 200, step.text
    assert (step.json()["done"], step.json()["skipped"], step.json()["finished"]) == (0, 1, True)
    assert step.json()["skipped_reasons"][0].endswith(
        ": you may no longer rebuild the search index")
    assert await _titles(client, "plugins") == []  # still the English words


async def test_the_document_shows_the_language_and_batches(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    document = (await client.get("/api/v1/openapi.json")).json()
    language = document["paths"][PATH]
    assert language["get"]["operationId"] == "getSearchLanguage"
    put = language["put"]
    assert put["operationId"] == "setSearchLanguage"
    assert {"200", "202", "401", "403", "422"} <= set(put["responses"])
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SearchLanguageBody"}
    schemas = document["components"]["schemas"]
    assert schemas["SearchLanguageBody"]["required"] == ["language"]
    # Exactly the database's configurations are valid.
    assert schemas["SearchLanguageBody"]["properties"]["language"] == {
        "$ref": "#/components/schemas/SearchLanguageName"}
    assert sorted(schemas["SearchLanguageName"]["enum"]) == sorted(
        await kernel_of(client).search.languages())
    assert {"english", "simple"} <= set(schemas["SearchLanguageName"]["enum"])
    batch = document["paths"]["/api/v1/batches/{batch_id}"]
    assert batch["get"]["operationId"] == "getBatch"
    assert document["paths"]["/api/v1/batches/{batch_id}/step"]["post"]["operationId"] == \
        "stepBatch"
    assert {"name": "Batches"} in document["tags"]
