"""``/api/v1/stages/{id}/preview-links``: who may create, list and revoke a stage's preview
links, and what each answers."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.conftest import create_account
from tests.plugins.conftest import kernel_of

PATH = "/api/v1/stages/spring/preview-links"


async def test_preview_links_of_a_stage(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    created = await client.post(PATH, headers=root, json={"expires_in": 3600})
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["url"].startswith("/?preview=") and link["stage"] == "spring" and link["active"]
    lifetime = (
        datetime.fromisoformat(link["expires"]) - datetime.fromisoformat(link["created"])
    ).total_seconds()
    assert 3590 <= lifetime <= 3610
    default = await client.post(PATH, headers=root)  # no body: seven days
    assert default.status_code == 201
    listed = (await client.get(PATH)).json()["links"]
    assert [item["id"] for item in listed] == [default.json()["id"], link["id"]]
    assert all("url" not in item for item in listed)  # the token is shown once
    revoked = await client.delete(f"{PATH}/{link['id']}", headers=root)
    assert revoked.status_code == 204
    listed = {item["id"]: item for item in (await client.get(PATH)).json()["links"]}
    assert listed[link["id"]]["revoked"] and not listed[link["id"]]["active"]
    assert listed[default.json()["id"]]["active"]


async def test_bad_requests_are_refused_clearly(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    db = kernel_of(client).db
    await db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    await db.execute("INSERT INTO stage (id, label, status) VALUES ('old', 'O', 'published')")
    for body in (
        {"expires_in": 10},
        {"expires_in": 31 * 86400},
        {"expires_in": "60"},
        {"expires": 60},
    ):
        response = await client.post(PATH, headers=root, json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"], body
    for path, status in (
        ("/api/v1/stages/nowhere/preview-links", 404),
        ("/api/v1/stages/live/preview-links", 404),
        ("/api/v1/stages/old/preview-links", 409),
        ("/api/v1/stages/BAD!/preview-links", 404),
    ):
        assert (await client.post(path, headers=root)).status_code == status, path
    for link in ("not-a-uuid", "01890000-0000-7000-8000-000000000000"):
        assert (await client.delete(f"{PATH}/{link}", headers=root)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM stage_preview_link") == 0


async def test_only_users_of_the_stage_share_it(client: httpx.AsyncClient) -> None:
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    assert (await client.post(PATH)).status_code == 401
    assert (await client.get(PATH)).status_code == 401
    await create_account(client, "bob")
    bob = await login_as(client, "bob")
    assert (await client.post(PATH, headers=bob)).status_code == 404  # not even its name
    assert (await client.get(PATH)).status_code == 404
    root = await admin_headers(client)
    link = (await client.post(PATH, headers=root)).json()
    bob = await login_as(client, "bob")
    assert (await client.delete(f"{PATH}/{link['id']}", headers=bob)).status_code == 404
    assert (
        await kernel_of(client).db.fetchval(
            "SELECT count(*) FROM stage_preview_link WHERE revoked IS NULL"
        )
        == 1
    )
