"""JSON log in and out, ``/users/me``, and strict request parsing."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, api_login, create_account


async def test_login_returns_user_and_csrf_token_and_sets_cookie(
    client: httpx.AsyncClient,
) -> None:
    await create_account(client, "alice")
    response = await client.post("/api/v1/session", json={"name": "alice", "pass": ADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "alice"
    assert "access content" in body["user"]["permissions"]
    assert len(body["csrf_token"]) >= 32
    assert "trovato_session" in client.cookies


async def test_me_is_anonymous_without_a_session(client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/v1/users/me")).json()
    assert me["authenticated"] is False
    assert me["id"] == "00000000-0000-0000-0000-000000000000"
    assert "access content" in me["permissions"]
    assert "set-cookie" not in (await client.get("/api/v1/users/me")).headers


async def test_wrong_password_is_problem_json(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    response = await client.post("/api/v1/session", json={"name": "alice", "pass": "nope nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 401 and problem["title"] and problem["detail"]


async def test_logout_needs_the_csrf_header(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    token = await api_login(client, "alice")
    refused = await client.delete("/api/v1/session")
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    wrong = await client.delete("/api/v1/session", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    ok = await client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
    assert ok.status_code == 204
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is False


@pytest.mark.parametrize(
    ("content", "headers", "status", "fragment"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "not valid JSON"),
        (b"name=alice", {"content-type": "application/x-www-form-urlencoded"}, 415, "JSON"),
        (b"[1, 2]", {"content-type": "application/json"}, 422, "JSON object"),
        (b'{"name": "alice"}', {"content-type": "application/json"}, 422, "invalid"),
    ],
)
async def test_bad_bodies_get_clear_errors(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str], status: int,
    fragment: str,
) -> None:
    response = await client.post("/api/v1/session", content=content, headers=headers)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


async def test_unknown_and_mistyped_fields_are_named(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/session", json={"name": "alice", "pass": 12345, "remember": True}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["remember"] == "unknown field"
    assert "pass" in errors


async def test_oversized_body_is_refused_before_reading(client: httpx.AsyncClient) -> None:
    huge = b'{"name": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/session", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]


async def test_oversized_streamed_body_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 100_000

    response = await client.post(
        "/api/v1/session", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
