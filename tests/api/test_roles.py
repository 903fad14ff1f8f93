"""Roles and permissions through the API, with immediate effect and clear errors."""

from __future__ import annotations

import httpx

from tests.conftest import api_login, create_account

AUTHENTICATED = "00000000-0000-7000-8000-000000000002"


async def test_admin_changes_permissions_and_they_apply_at_once(
    client: httpx.AsyncClient,
) -> None:
    await create_account(client, "root", admin=True)
    await create_account(client, "alice")
    admin_csrf = await api_login(client, "root")
    roles = (await client.get("/api/v1/roles")).json()["roles"]
    assert {r["name"] for r in roles} >= {"anonymous user", "authenticated user"}

    response = await client.put(
        f"/api/v1/roles/{AUTHENTICATED}/permissions",
        json={"permissions": ["access content"]},
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert response.status_code == 200
    assert response.json()["permissions"] == ["access content"]

    client.cookies.clear()
    csrf = await api_login(client, "alice")
    refused = await client.post(
        "/api/v1/tokens", json={"label": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403
    assert "use api tokens" in refused.json()["detail"]


async def test_custom_role_grants_to_its_members(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    alice = await create_account(client, "alice")
    csrf = await api_login(client, "root")
    role = await client.post("/api/v1/roles", json={"name": "auditor"},
                             headers={"X-CSRF-Token": csrf})
    assert role.status_code == 201
    role_id = role.json()["id"]
    duplicate = await client.post("/api/v1/roles", json={"name": "auditor"},
                                  headers={"X-CSRF-Token": csrf})
    assert duplicate.status_code == 409
    await client.put(f"/api/v1/roles/{role_id}/permissions",
                     json={"permissions": ["access site reports"]},
                     headers={"X-CSRF-Token": csrf})
    assign = await client.put(f"/api/v1/users/{alice}/roles", json={"roles": [role_id]},
                              headers={"X-CSRF-Token": csrf})
    assert assign.status_code == 204
    client.cookies.clear()
    await api_login(client, "alice")
    me = (await client.get("/api/v1/users/me")).json()
    assert "access site reports" in me["permissions"]
    assert role_id in me["roles"]


async def test_bad_role_requests(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    csrf = await api_login(client, "root")
    headers = {"X-CSRF-Token": csrf}
    unknown = await client.put(f"/api/v1/roles/{AUTHENTICATED}/permissions",
                               json={"permissions": ["fly"]}, headers=headers)
    assert unknown.status_code == 422 and "fly" in unknown.json()["errors"]["permissions"]
    missing = await client.put("/api/v1/roles/00000000-0000-7000-8000-0000000000ff/permissions",
                               json={"permissions": []}, headers=headers)
    assert missing.status_code == 404
    builtin = await client.delete(f"/api/v1/roles/{AUTHENTICATED}", headers=headers)
    assert builtin.status_code == 409
    bad_user = await client.put("/api/v1/users/not-a-uuid/roles", json={"roles": []},
                                headers=headers)
    assert bad_user.status_code == 404
    bad_role = await client.put("/api/v1/users/00000000-0000-7000-8000-0000000000ff/roles",
                                json={"roles": ["nope"]}, headers=headers)
    assert bad_role.status_code == 422


async def test_non_admin_cannot_manage_roles(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    csrf = await api_login(client, "alice")
    assert (await client.get("/api/v1/roles")).status_code == 403
    response = await client.post("/api/v1/roles", json={"name": "x"},
                                 headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
