"""``/api/v1/items`` through the real app: CRUD, listing, revisions, errors and the access
matrix (anonymous, authenticated, author, editor, admin, each on view, update and delete
of published and unpublished items)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account, running_app, site_settings
from trovato.ids import NIL
from trovato.users.accounts import CurrentUser

SYSTEM = CurrentUser(id=NIL, name="system", is_admin=True)


def _kernel(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.kernel  # type: ignore[attr-defined]


async def _article(client: httpx.AsyncClient, author: str, *, status: int, title: str = "T"
                   ) -> str:
    item = await _kernel(client).content.items.create(
        SYSTEM, "article", title=title, status=status, author_id=uuid.UUID(author),
        fields={"field_body": {"value": "Body"}})
    return str(item.id)


async def test_item_crud_and_revisions(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=ARTICLE,
                              headers=headers)).status_code == 201
    created = await client.post("/api/v1/items", json={
        "type": "article", "title": "Hello", "status": 1,
        "fields": {"field_body": {"value": "<p>Hi</p>", "format": "filtered_html"},
                   "field_count": {"value": 2}}}, headers=headers)
    assert created.status_code == 201, created.text
    item = created.json()
    assert set(item) == {"id", "type", "title", "status", "promote", "sticky", "author_id",
                         "created", "changed", "revision_id", "stage", "fields"}
    assert created.headers["location"] == f"/api/v1/items/{item['id']}"
    assert item["stage"] == "live" and item["promote"] is False
    assert (await client.get(f"/api/v1/items/{item['id']}")).json() == item

    patched = await client.patch(f"/api/v1/items/{item['id']}", json={
        "title": "Hello 2", "fields": {"field_count": {"value": 3}}, "log": "count"},
        headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["fields"] == {
        "field_body": {"value": "<p>Hi</p>", "format": "filtered_html"},
        "field_count": {"value": 3}}
    revisions = (await client.get(f"/api/v1/items/{item['id']}/revisions")).json()["revisions"]
    assert [r["log"] for r in revisions] == ["count", ""]
    assert set(revisions[0]) == {"id", "created", "author_id", "title", "log"}
    reverted = await client.post(
        f"/api/v1/items/{item['id']}/revisions/{revisions[1]['id']}/revert", headers=headers)
    assert reverted.status_code == 200
    assert reverted.json()["title"] == "Hello"
    assert reverted.json()["fields"]["field_count"] == {"value": 2}
    revisions = (await client.get(f"/api/v1/items/{item['id']}/revisions")).json()["revisions"]
    assert len(revisions) == 3 and revisions[0]["log"].startswith("Reverted")

    assert (await client.delete(f"/api/v1/items/{item['id']}",
                                headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/items/{item['id']}")).status_code == 404


async def test_a_patch_from_an_old_revision_is_refused_naming_the_current_one(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    assert (await client.post("/api/v1/item-types", json=ARTICLE,
                              headers=headers)).status_code == 201
    item = (await client.post("/api/v1/items", json={
        "type": "article", "title": "Start", "fields": {"field_body": {"value": "x"}}},
        headers=headers)).json()
    url = f"/api/v1/items/{item['id']}"
    first = await client.patch(url, json={"title": "First", "revision_id": item["revision_id"]},
                               headers=headers)
    assert first.status_code == 200, first.text
    current = first.json()["revision_id"]
    assert current != item["revision_id"]
    stale = await client.patch(url, json={"title": "Second", "revision_id": item["revision_id"]},
                               headers=headers)
    assert stale.status_code == 409, stale.text
    assert stale.json()["errors"] == {"current_revision": current}
    assert (await client.get(url)).json()["title"] == "First"
    revisions = (await client.get(f"{url}/revisions")).json()["revisions"]
    assert len(revisions) == 2
    # From the current revision it goes through; without one, there is no check.
    assert (await client.patch(url, json={"title": "Third", "revision_id": current},
                               headers=headers)).status_code == 200
    assert (await client.patch(url, json={"title": "Fourth"}, headers=headers)).status_code == 200
    bad = await client.patch(url, json={"revision_id": "not-a-revision"}, headers=headers)
    assert bad.status_code == 422 and "revision_id" in bad.json()["errors"]


async def test_validation_problems(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    bad = await client.post("/api/v1/items", json={
        "type": "article", "title": "x", "status": 1,
        "fields": {"field_count": {"value": 11}, "field_tags": {"value": "a"},
                   "field_x": {"value": 1}}}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"] == {
        "fields.field_body": "is required",
        "fields.field_count": "must be at most 10",
        "fields.field_tags": "must be a list of values (this field takes several)",
        "fields.field_x": "unknown field",
    }
    strict = await client.post("/api/v1/items", json={
        "type": "article", "title": 5, "status": "1", "colour": "red"}, headers=headers)
    assert strict.status_code == 422
    assert set(strict.json()["errors"]) == {"title", "status", "colour"}
    unknown_type = await client.post("/api/v1/items", json={"type": "nope", "title": "x"},
                                     headers=headers)
    assert unknown_type.json()["errors"] == {"type": "unknown item type"}
    assert (await client.get("/api/v1/items/not-a-uuid")).status_code == 404
    assert (await client.get(f"/api/v1/items/{uuid.uuid4()}")).status_code == 404
    listing = await client.get("/api/v1/items?sort=colour&page=x&limit=2")
    assert listing.status_code == 422 and set(listing.json()["errors"]) == {"page"}
    listing = await client.get("/api/v1/items?sort=colour")
    assert listing.status_code == 422 and "created" in listing.json()["errors"]["sort"]
    null_title = await client.patch(f"/api/v1/items/{uuid.uuid4()}", json={"title": None},
                                    headers=headers)
    assert null_title.status_code == 422


async def test_listing(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    await client.post("/api/v1/item-types", json={"type": "page", "label": "Page"},
                      headers=headers)
    alice = await create_account(client, "alice")
    root = (await client.get("/api/v1/users/me")).json()["id"]
    for title in ("b", "c", "a"):
        await _article(client, root, status=1, title=title)
    await _article(client, alice, status=1, title="alice's")
    await _article(client, root, status=0, title="draft")
    await client.post("/api/v1/items", json={"type": "page", "title": "p"}, headers=headers)

    async def titles(query: str) -> tuple[list[str], int]:
        response = await client.get(f"/api/v1/items?{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        return [i["title"] for i in body["items"]], body["total"]

    assert await titles("type=article&sort=title") == (
        ["a", "alice's", "b", "c", "draft"], 5)
    assert await titles("type=article&sort=-title&page=1&limit=2") == (["b", "alice's"], 5)
    assert await titles("status=0") == (["draft"], 1)
    assert await titles(f"author={alice}") == (["alice's"], 1)
    assert (await titles("sort=-created&limit=1"))[0] == ["p"]
    assert (await titles("sort=created&limit=1"))[0] == ["b"]
    too_many = await client.get("/api/v1/items?limit=500")
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == {"limit": "must be an integer from 1 to 100"}
    first = (await client.get("/api/v1/items?sort=title&limit=1")).json()["items"][0]["id"]
    await client.patch(f"/api/v1/items/{first}", json={"promote": True}, headers=headers)
    assert await titles("promote=true") == (["a"], 1)
    assert (await titles("promote=0&type=article"))[1] == 4
    bad = await client.get("/api/v1/items?promote=maybe&sticky=2")
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"promote", "sticky"}
    client.cookies.clear()
    anonymous = await titles("type=article&sort=title")
    assert anonymous == (["a", "alice's", "b", "c"], 4)  # no draft, not even in the total


async def test_full_html_needs_permission(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    await create_account(client, "writer")
    role = (await client.post("/api/v1/roles", json={"name": "writer"}, headers=headers)).json()
    await client.put(f"/api/v1/roles/{role['id']}/permissions", json={"permissions": [
        "access content", "create article content", "edit any article content"]},
        headers=headers)
    me = await login_as(client, "writer")
    writer_id = (await client.get("/api/v1/users/me")).json()["id"]
    headers = await login_as(client, "root")
    await client.put(f"/api/v1/users/{writer_id}/roles", json={"roles": [role["id"]]},
                     headers=headers)
    me = await login_as(client, "writer")
    refused = await client.post("/api/v1/items", json={
        "type": "article", "title": "x",
        "fields": {"field_body": {"value": "<script></script>", "format": "full_html"}}},
        headers=me)
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "fields.field_body": "you may not use the text format 'full_html'"}


# -- the access matrix ------------------------------------------------------------------------

ROLES = ("anonymous", "authenticated", "author", "editor", "admin")
# (role, op, status) → expected HTTP status. Drafts are hidden (404) from those who may not
# see them; anonymous callers are asked to log in (401) when the item is visible to them.
EXPECTED: dict[tuple[str, str, int], int] = {
    ("anonymous", "view", 1): 200, ("anonymous", "view", 0): 404,
    ("anonymous", "update", 1): 401, ("anonymous", "update", 0): 404,
    ("anonymous", "delete", 1): 401, ("anonymous", "delete", 0): 404,
    ("authenticated", "view", 1): 200, ("authenticated", "view", 0): 404,
    ("authenticated", "update", 1): 403, ("authenticated", "update", 0): 404,
    ("authenticated", "delete", 1): 403, ("authenticated", "delete", 0): 404,
    ("author", "view", 1): 200, ("author", "view", 0): 200,
    ("author", "update", 1): 200, ("author", "update", 0): 200,
    ("author", "delete", 1): 204, ("author", "delete", 0): 204,
    ("editor", "view", 1): 200, ("editor", "view", 0): 404,
    ("editor", "update", 1): 200, ("editor", "update", 0): 200,
    ("editor", "delete", 1): 204, ("editor", "delete", 0): 204,
    ("admin", "view", 1): 200, ("admin", "view", 0): 200,
    ("admin", "update", 1): 200, ("admin", "update", 0): 200,
    ("admin", "delete", 1): 204, ("admin", "delete", 0): 204,
}


async def test_access_matrix(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client, "admin")
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    users: dict[str, str] = {}
    for name in ("authenticated", "author", "editor"):
        users[name] = await create_account(client, name)
    for name, permissions in (
        ("authors", ["create article content", "edit own article content",
                     "delete own article content"]),
        ("editors", ["edit any article content", "delete any article content"]),
    ):
        role = (await client.post("/api/v1/roles", json={"name": name},
                                  headers=headers)).json()
        await client.put(f"/api/v1/roles/{role['id']}/permissions",
                         json={"permissions": permissions}, headers=headers)
        member = "author" if name == "authors" else "editor"
        assign = await client.put(f"/api/v1/users/{users[member]}/roles",
                                  json={"roles": [role["id"]]}, headers=headers)
        assert assign.status_code == 204
    seen: dict[tuple[str, str, int], int] = {}
    for role in ROLES:
        client.cookies.clear()
        auth = {} if role == "anonymous" else await login_as(client, role)
        for status in (1, 0):
            for op in ("view", "update", "delete"):
                item_id = await _article(client, users["author"], status=status)
                url = f"/api/v1/items/{item_id}"
                if op == "view":
                    response = await client.get(url)
                elif op == "update":
                    response = await client.patch(url, json={"title": "Changed"},
                                                  headers=auth)
                else:
                    response = await client.delete(url, headers=auth)
                seen[(role, op, status)] = response.status_code
                if response.status_code >= 400:
                    assert response.headers["content-type"].startswith(
                        "application/problem+json")
    assert seen == EXPECTED


async def test_create_access(client: httpx.AsyncClient) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    body = {"type": "article", "title": "x", "fields": {"field_body": {"value": "y"}}}
    await create_account(client, "bob")
    bob = await login_as(client, "bob")
    refused = await client.post("/api/v1/items", json=body, headers=bob)
    assert refused.status_code == 403
    client.cookies.clear()
    assert (await client.post("/api/v1/items", json=body)).status_code == 401


@pytest.mark.parametrize("header", ["X-Trovato-Stage"])
async def test_stage_header_reads_stage_items(client: httpx.AsyncClient,
                                              header: str) -> None:
    client = client
    headers = await admin_headers(client)
    await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    await _kernel(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    staged = await client.post("/api/v1/items", json={
        "type": "article", "title": "staged", "fields": {"field_body": {"value": "y"}}},
        headers={**headers, header: "spring"})
    assert staged.status_code == 201 and staged.json()["stage"] == "spring"
    item_id = staged.json()["id"]
    assert (await client.get(f"/api/v1/items/{item_id}")).status_code == 404
    in_stage = await client.get(f"/api/v1/items/{item_id}", headers={header: "spring"})
    assert in_stage.status_code == 200
    assert (await client.get("/api/v1/items")).json()["total"] == 0
    assert (await client.get("/api/v1/items", headers={header: "spring"})).json()["total"] == 1


async def test_a_save_in_another_process_validates_against_the_changed_type(
    db_url: str, store_backend: str,
) -> None:
    """A save takes its type from the process cache: a type change made in one process
    reaches the other's cache through the shared store's pub/sub (the save's field guard
    refuses, with a 409, one made before the message arrives)."""
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        headers = await admin_headers(a)
        assert (await a.post("/api/v1/item-types", json=ARTICLE,
                             headers=headers)).status_code == 201
        item = await _article(a, str((await a.get("/api/v1/users/me")).json()["id"]),
                              status=1)
        types_b = _kernel(b).content.types
        assert (await types_b.get_cached("article")) is not None
        fewer = [f for f in ARTICLE["fields"] if f["name"] != "field_count"]
        changed = await a.patch("/api/v1/item-types/article", json={"fields": fewer},
                                headers=headers)
        assert changed.status_code == 200, changed.text
        for _ in range(200):
            cached = await types_b.get_cached("article")
            if cached is not None and cached.field("field_count") is None:
                break
            await asyncio.sleep(0.01)
        b_headers = await login_as(b, "root")
        refused = await b.patch(f"/api/v1/items/{item}", headers=b_headers,
                                json={"fields": {"field_count": {"value": 4}}})
        assert refused.status_code == 422, refused.text
        assert "fields.field_count" in refused.json()["errors"]
