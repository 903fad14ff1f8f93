"""``/api/v1/categories``: the fixed shapes (vocabulary ``{"id", "label"}``, tag ``{"vocabulary",
"name", "parents"}`` → ``"id"`` and ``"slug"``, a loop → 422 naming it), the tree, moves,
relatives, access and the document."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate

from tests.api.conftest import admin_headers, login_as
from tests.conftest import create_account

VOCABULARIES = "/api/v1/categories/vocabularies"
TAGS = "/api/v1/categories/tags"


async def _tag(client: httpx.AsyncClient, headers: dict[str, str], name: str,
               *parents: str, vocabulary: str = "topics") -> dict[str, Any]:
    body: dict[str, Any] = {"vocabulary": vocabulary, "name": name}
    if parents:
        body["parents"] = list(parents)
    response = await client.post(TAGS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_vocabulary_and_tag_crud(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    made = await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"},
                             headers=headers)
    assert made.status_code == 201, made.text
    assert made.json() == {"id": "topics", "label": "Topics", "description": "",
                           "hierarchy": "multiple", "weight": 0}
    assert made.headers["location"] == f"{VOCABULARIES}/topics"
    again = await client.post(VOCABULARIES, json={"id": "topics", "label": "x"},
                              headers=headers)
    assert again.status_code == 409
    listed = await client.get(VOCABULARIES)
    assert [v["id"] for v in listed.json()["vocabularies"]] == ["topics"]
    patched = await client.patch(f"{VOCABULARIES}/topics", json={"label": "Subjects"},
                                 headers=headers)
    assert patched.json()["label"] == "Subjects"

    music = await _tag(client, headers, "Music")
    assert music["slug"] == "music" and music["path"] == "/tags/topics/music"
    jazz = await _tag(client, headers, "Jazz", music["id"])
    assert jazz["parents"] == [music["id"]]
    fetched = await client.get(f"{TAGS}/{jazz['id']}")
    assert fetched.json() == jazz
    renamed = await client.patch(f"{TAGS}/{jazz['id']}", json={"name": "Free jazz",
                                                                 "description": "Loud"},
                                 headers=headers)
    assert (renamed.json()["name"], renamed.json()["slug"]) == ("Free jazz", "jazz")
    moved = await client.post(f"{TAGS}/{jazz['id']}/move", json={"parents": [], "weight": 4},
                              headers=headers)
    assert (moved.json()["parents"], moved.json()["weight"]) == ([], 4)
    assert (await client.delete(f"{TAGS}/{jazz['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"{TAGS}/{jazz['id']}")).status_code == 404
    deleted = await client.delete(f"{VOCABULARIES}/topics", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{TAGS}/{music['id']}")).status_code == 404
    assert (await client.get(f"{VOCABULARIES}/topics")).status_code == 404


async def test_a_loop_is_refused_naming_it(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"}, headers=headers)
    a = await _tag(client, headers, "a")
    b = await _tag(client, headers, "b", a["id"])
    c = await _tag(client, headers, "c", b["id"])
    direct = await client.patch(f"{TAGS}/{a['id']}", json={"parents": [a["id"]]},
                                headers=headers)
    assert direct.status_code == 422
    assert "a → a" in direct.json()["detail"]
    indirect = await client.patch(f"{TAGS}/{a['id']}", json={"parents": [c["id"]]},
                                  headers=headers)
    assert indirect.status_code == 422
    problem = indirect.json()
    assert "a → c → b → a" in problem["detail"]
    assert problem["errors"]["parents"] == "would create a loop: a → c → b → a"
    assert problem["loop"] == [a["id"], c["id"], b["id"], a["id"]]
    assert (await client.get(f"{TAGS}/{a['id']}")).json()["parents"] == []
    unknown = await client.post(TAGS, json={"vocabulary": "nope", "name": "x"},
                                headers=headers)
    assert unknown.status_code == 422 and "vocabulary" in unknown.json()["errors"]


async def test_tree_and_relatives_of_a_diamond(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"}, headers=headers)
    top = await _tag(client, headers, "Top")
    left = await _tag(client, headers, "Left", top["id"])
    right = await _tag(client, headers, "Right", top["id"])
    bottom = await _tag(client, headers, "Bottom", left["id"], right["id"])
    tree = (await client.get(f"{VOCABULARIES}/topics/tree")).json()
    assert tree["vocabulary"] == "topics"
    [root] = tree["tree"]
    assert [c["name"] for c in root["children"]] == ["Left", "Right"]
    under_left, under_right = (c["children"][0] for c in root["children"])
    assert (under_left["name"], under_left["repeated"]) == ("Bottom", False)
    assert (under_right["name"], under_right["repeated"]) == ("Bottom", True)
    ancestors = (await client.get(f"{TAGS}/{bottom['id']}/ancestors")).json()["tags"]
    assert [t["name"] for t in ancestors] == ["Left", "Right", "Top"]
    descendants = (await client.get(f"{TAGS}/{top['id']}/descendants")).json()["tags"]
    assert [t["name"] for t in descendants] == ["Left", "Right", "Bottom"]
    found = await client.get(f"{VOCABULARIES}/topics/tags", params={"starting": "ri"})
    assert [t["name"] for t in found.json()["tags"]] == ["Right"]


async def test_access(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"}, headers=headers)
    await create_account(client, "editor")
    editor = await login_as(client, "editor")
    refused = await client.post(TAGS, json={"vocabulary": "topics", "name": "x"},
                                headers=editor)
    assert refused.status_code == 403
    client.cookies.clear()
    anonymous = await client.post(VOCABULARIES, json={"id": "x", "label": "X"})
    assert anonymous.status_code in (401, 403)
    assert (await client.get(VOCABULARIES)).status_code == 200  # access content


async def test_writes_in_a_stage_are_refused(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"}, headers=headers)
    staged = await client.post("/api/v1/stages", json={"id": "draft", "label": "Draft"},
                               headers=headers)
    assert staged.status_code == 201
    refused = await client.post(TAGS, json={"vocabulary": "topics", "name": "x"},
                                headers={**headers, "X-Trovato-Stage": "draft"})
    assert refused.status_code == 409
    assert "live" in refused.json()["detail"]


async def test_the_document_names_the_vocabularies(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await client.post(VOCABULARIES, json={"id": "topics", "label": "Topics"}, headers=headers)
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["components"]["schemas"]["VocabularyName"]["enum"] == ["topics"]
    assert {"get", "post"} <= document["paths"][TAGS.replace("/tags", "/vocabularies")].keys()
    assert "patch" in document["paths"]["/api/v1/categories/tags/{id}"]


async def test_a_tag_field_documents_ids_and_names(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    post = {"type": "post", "label": "Post", "fields": [
        {"name": "field_topics", "type": "reference", "label": "Topics", "cardinality": -1,
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}}]}
    assert (await client.post("/api/v1/item-types", json=post, headers=headers)
            ).status_code == 201
    document = (await client.get("/api/v1/openapi.json")).json()
    validate(document)
    value = document["components"]["schemas"]["ItemCreate_post"]["properties"]["fields"][
        "properties"]["field_topics"]["anyOf"][0]["items"]
    checker = jsonschema.Draft202012Validator(value)
    assert checker.is_valid({"target_id": "0190a8f2-0000-7000-8000-000000000001"})
    assert checker.is_valid({"name": "Jazz", "target_type": "category_tag"})
    for bad in ({"name": ""}, {"name": "a\nb"}, {"name": "x", "target_id": "y"}, {}):
        assert not checker.is_valid(bad), bad
