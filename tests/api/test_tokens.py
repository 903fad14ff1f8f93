"""API tokens: shown once, used as Bearer credentials without CSRF, listed and revoked."""

from __future__ import annotations

import httpx

from tests.conftest import api_login, create_account


async def test_token_lifecycle(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    csrf = await api_login(client, "alice")
    created = await client.post(
        "/api/v1/tokens", json={"label": "deploy"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("trv_")
    listed = (await client.get("/api/v1/tokens")).json()["tokens"]
    assert [t["label"] for t in listed] == ["deploy"]
    assert "token" not in listed[0]  # the secret is never shown again

    bearer = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    headers = {"Authorization": f"Bearer {secret}"}
    me = await bearer.get("/api/v1/users/me", headers=headers)
    assert me.json()["name"] == "alice"
    # No CSRF token is needed with a Bearer token: there is no ambient credential to abuse.
    second = await bearer.post("/api/v1/tokens", json={"label": "ci"}, headers=headers)
    assert second.status_code == 201

    token_id = listed[0]["id"]
    revoked = await client.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 204
    after = await bearer.get("/api/v1/users/me", headers=headers)
    assert after.status_code == 401
    assert after.headers["content-type"] == "application/problem+json"
    assert (await client.delete(f"/api/v1/tokens/{token_id}",
                                headers={"X-CSRF-Token": csrf})).status_code == 404
    await bearer.aclose()


async def test_garbage_bearer_tokens_are_401(client: httpx.AsyncClient) -> None:
    for value in ("Bearer ", "Bearer trv_nothing", "Basic YWxpY2U6eA==", "Bearer " + "x" * 5000):
        response = await client.get("/api/v1/users/me", headers={"Authorization": value})
        assert response.status_code == 401


async def test_anonymous_cannot_create_tokens(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/tokens", json={"label": "x"})
    assert response.status_code == 401


async def test_cannot_revoke_someone_elses_token(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    await create_account(client, "bob")
    csrf = await api_login(client, "alice")
    created = await client.post(
        "/api/v1/tokens", json={"label": "mine"}, headers={"X-CSRF-Token": csrf}
    )
    token_id = created.json()["id"]
    client.cookies.clear()
    bob_csrf = await api_login(client, "bob")
    response = await client.delete(f"/api/v1/tokens/{token_id}",
                                   headers={"X-CSRF-Token": bob_csrf})
    assert response.status_code == 404
