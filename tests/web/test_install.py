"""The first-run wizard: creates the one administrator, then disappears."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN_PASSWORD
from tests.web._forms import form_token


async def test_front_page_sends_a_new_site_to_the_installer(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/install"


async def test_install_creates_admin_logs_in_and_then_is_gone(client: httpx.AsyncClient) -> None:
    token = await form_token(client, "/install")
    response = await client.post(
        "/install",
        data={
            "csrf_token": token,
            "name": "Site Admin",
            "mail": "admin@example.com",
            "pass": ADMIN_PASSWORD,
            "pass_confirm": ADMIN_PASSWORD,
        },
    )
    assert response.status_code == 303
    me = (await client.get("/api/v1/users/me")).json()
    assert me["name"] == "Site Admin" and me["is_admin"] is True
    assert (await client.get("/install")).status_code == 404
    fresh = await form_token(client, "/")  # the login rotated the session and its token
    again = await client.post("/install", data={"csrf_token": fresh, "name": "x"})
    assert again.status_code == 404
    front = await client.get("/")
    assert front.status_code == 200 and "Site Admin" in front.text


async def test_install_reports_each_bad_field_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    token = await form_token(client, "/install")
    response = await client.post(
        "/install",
        data={
            "csrf_token": token,
            "name": "admin",
            "mail": "not-an-address",
            "pass": ADMIN_PASSWORD,
            "pass_confirm": ADMIN_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "E-mail address must be an e-mail address, like ada@example.com." in response.text
    assert 'aria-invalid="true"' in response.text
    mismatch = await client.post(
        "/install",
        data={"csrf_token": token, "name": "admin", "mail": "a@example.com",
              "pass": ADMIN_PASSWORD, "pass_confirm": "something else entirely"},
    )
    assert "passwords do not match" in mismatch.text
    weak = await client.post(
        "/install",
        data={"csrf_token": token, "name": "admin", "mail": "a@example.com",
              "pass": "short", "pass_confirm": "short"},
    )
    assert "The password must be at least 10 characters long." in weak.text
    assert (await client.get("/install")).status_code == 200  # still not installed


async def test_install_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await form_token(client, "/install")  # has a session, but the post omits its token
    response = await client.post(
        "/install",
        data={"name": "admin", "mail": "a@example.com", "pass": ADMIN_PASSWORD,
              "pass_confirm": ADMIN_PASSWORD},
    )
    assert response.status_code == 403
    assert "The form has expired, please submit again." in response.text
    assert (await client.get("/install")).status_code == 200
