"""HTML login and logout, the account page, and brute-force protection."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, create_account
from tests.web._forms import form_token


async def _login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = await form_token(client, "/user/login")
    return await client.post(
        "/user/login", data={"csrf_token": token, "name": name, "pass": password}
    )


async def test_login_form_logs_in_and_rotates_the_session(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    await form_token(client, "/user/login")
    anonymous_sid = client.cookies["trovato_session"]
    response = await _login(client, "alice", ADMIN_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.cookies["trovato_session"] != anonymous_sid
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = (await client.get("/api/v1/users/me")).json()
    assert me["name"] == "alice" and me["authenticated"]


async def test_login_is_case_insensitive_on_the_name(client: httpx.AsyncClient) -> None:
    await create_account(client, "Alice")
    assert (await _login(client, "ALICE", ADMIN_PASSWORD)).status_code == 303


async def test_wrong_password_is_shown_once_without_revealing_the_account(
    client: httpx.AsyncClient,
) -> None:
    await create_account(client, "alice")
    wrong = await _login(client, "alice", "not the password at all")
    unknown = await _login(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    for page in (wrong, unknown):
        assert page.text.count("Unrecognised user name or password.") == 1
        assert ('<div class="messages error" role="alert">Unrecognised user name or password.'
                in page.text)


async def test_missing_fields_are_named(client: httpx.AsyncClient) -> None:
    response = await _login(client, "", "")
    assert response.status_code == 400
    assert "User name is required." in response.text
    assert "Password is required." in response.text


async def test_login_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    await form_token(client, "/user/login")
    response = await client.post("/user/login", data={"name": "alice", "pass": ADMIN_PASSWORD})
    assert response.status_code == 403
    forged = await client.post(
        "/user/login", data={"csrf_token": "forged", "name": "alice", "pass": ADMIN_PASSWORD}
    )
    assert forged.status_code == 403
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is False


async def test_lockout_after_repeated_bad_passwords(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    for _ in range(5):
        assert (await _login(client, "alice", "wrong password here")).status_code == 401
    locked = await _login(client, "alice", ADMIN_PASSWORD)  # right password, still locked
    assert locked.status_code == 429
    assert "locked after repeated failed logins; try again in 15 minutes" in locked.text
    api = await client.post("/api/v1/session", json={"name": "alice", "pass": ADMIN_PASSWORD})
    assert api.status_code == 429 and "retry-after" in api.headers


async def test_successful_login_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    for _ in range(4):
        await _login(client, "alice", "wrong password here")
    assert (await _login(client, "alice", ADMIN_PASSWORD)).status_code == 303
    client.cookies.clear()
    for _ in range(4):
        assert (await _login(client, "alice", "wrong password here")).status_code == 401
    assert (await _login(client, "alice", ADMIN_PASSWORD)).status_code == 303


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    alice = await create_account(client, "alice")
    await _login(client, "alice", ADMIN_PASSWORD)
    old_sid = client.cookies["trovato_session"]
    token = await form_token(client, f"/user/{alice}")  # the header's logout button
    response = await client.post("/user/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is False
    client.cookies.set("trovato_session", old_sid)  # replaying the old cookie does not work
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is False


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
async def test_open_redirect_is_refused(client: httpx.AsyncClient, evil: str) -> None:
    await create_account(client, "alice")
    token = await form_token(client, "/user/login")
    response = await client.post(
        "/user/login",
        params={"destination": evil},
        data={"csrf_token": token, "name": "alice", "pass": ADMIN_PASSWORD},
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_local_destination_is_followed(client: httpx.AsyncClient) -> None:
    await create_account(client, "alice")
    token = await form_token(client, "/user/login")
    response = await client.post(
        "/user/login",
        params={"destination": "/user/login?x=1"},
        data={"csrf_token": token, "name": "alice", "pass": ADMIN_PASSWORD},
    )
    assert response.headers["location"] == "/user/login?x=1"


async def test_profile_needs_permission_except_for_oneself(client: httpx.AsyncClient) -> None:
    alice = await create_account(client, "alice")
    bob = await create_account(client, "bob")
    assert (await client.get(f"/user/{alice}")).status_code == 403
    await _login(client, "alice", ADMIN_PASSWORD)
    own = await client.get(f"/user/{alice}")
    assert own.status_code == 200 and "alice" in own.text
    assert (await client.get(f"/user/{bob}")).status_code == 403
    assert (await client.get("/user/not-a-uuid")).status_code == 404


async def test_a_refused_page_offers_to_log_in_and_come_back(client: httpx.AsyncClient) -> None:
    """The 403 page's "Log in" returns to the refused page (query kept) once logged in."""
    await create_account(client, "alice")
    refused = await client.get("/admin/content", params={"status": "0"})
    assert refused.status_code == 403
    link = '<a href="/user/login?destination=%2Fadmin%2Fcontent%3Fstatus%3D0">Log in</a>'
    assert link in refused.text
    token = await form_token(client, "/user/login?destination=%2Fadmin%2Fcontent%3Fstatus%3D0")
    response = await client.post(
        "/user/login", params={"destination": "/admin/content?status=0"},
        data={"csrf_token": token, "name": "alice", "pass": ADMIN_PASSWORD})
    assert response.headers["location"] == "/admin/content?status=0"
