"""``DELETE /api/v1/users/{id}``: permission, CSRF, problem+json refusals, sessions and tokens
of the deleted user stop working, and a plugin's refusal reaches the caller."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import admin_headers, login_as
from tests.conftest import api_login, create_account
from tests.users._warden import kernel_of, warden_site

ANONYMOUS = "00000000-0000-0000-0000-000000000000"


def _other(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second browser on the same running app (its own cookie jar)."""
    return httpx.AsyncClient(transport=client._transport, base_url="http://testserver")


async def test_delete_user(client: httpx.AsyncClient) -> None:
    alice = await create_account(client, "alice")
    bob = await create_account(client, "bob")
    kernel = kernel_of(client)
    _, secret = await kernel.tokens.create(uuid.UUID(alice), "deploy")

    # Alice is logged in elsewhere, with a session and with a token.
    browser = _other(client)
    csrf_alice = await api_login(browser, "alice")
    assert (await browser.get("/api/v1/users/me")).json()["name"] == "alice"
    bearer = {"Authorization": f"Bearer {secret}"}

    # Without the permission: 401 anonymous, 403 logged in (bob), problem+json both.
    anonymous = await _other(client).delete(f"/api/v1/users/{alice}")
    assert anonymous.status_code in (401, 403)
    bob_headers = await login_as(client, "bob")
    forbidden = await client.delete(f"/api/v1/users/{alice}", headers=bob_headers)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"
    assert "administer users" in forbidden.json()["detail"]
    # Alice may not delete bob either (no permission), even with her CSRF token.
    assert (await browser.delete(f"/api/v1/users/{bob}",
                                 headers={"X-CSRF-Token": csrf_alice})).status_code == 403

    headers = await admin_headers(client)
    # CSRF as for every unsafe call with a session cookie.
    no_csrf = await client.delete(f"/api/v1/users/{alice}")
    assert no_csrf.status_code == 403
    for unknown in ("0190a0b0-0000-7000-8000-0000000000ee", "not-a-uuid"):
        missing = await client.delete(f"/api/v1/users/{unknown}", headers=headers)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
    anon = await client.delete(f"/api/v1/users/{ANONYMOUS}", headers=headers)
    assert anon.status_code == 422 and "anonymous" in anon.json()["detail"]
    root = (await client.get("/api/v1/users/me")).json()["id"]
    last = await client.delete(f"/api/v1/users/{root}", headers=headers)
    assert last.status_code == 409 and "last administrator" in last.json()["detail"]

    deleted = await client.delete(f"/api/v1/users/{alice}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert (await client.delete(f"/api/v1/users/{alice}", headers=headers)).status_code == 404

    # Her session is over (the next request finds no account and drops it) and her token too.
    me = await browser.get("/api/v1/users/me")
    assert me.json()["authenticated"] is False
    assert (await _other(client).get("/api/v1/users/me", headers=bearer)).status_code == 401
    await browser.aclose()


async def test_openapi_documents_the_endpoint(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/users/{user_id}"]["delete"]
    assert operation["operationId"] == "deleteUser"
    assert {"204", "403", "404", "409", "422"} <= set(operation["responses"])


async def test_a_plugin_refusal_is_a_409_problem(db_url: str) -> None:
    async with warden_site(db_url) as site:
        keeper = await create_account(site, "keeper")
        headers = await admin_headers(site)
        refused = await site.delete(f"/api/v1/users/{keeper}", headers=headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == (
            "The plugin warden refused: warden keeps the keeper's account")
        assert await kernel_of(site).accounts.find("keeper") is not None
