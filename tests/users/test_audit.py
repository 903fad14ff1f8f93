"""Authentication and permission changes leave entries in the audit log."""

from __future__ import annotations

import httpx

from tests.conftest import api_login, create_account


async def test_logins_failures_and_permission_changes_are_audited(
    client: httpx.AsyncClient,
) -> None:
    await create_account(client, "root", admin=True)
    await client.post("/api/v1/session", json={"name": "root", "pass": "wrong password!"})
    csrf = await api_login(client, "root")
    await client.post("/api/v1/roles", json={"name": "editor"}, headers={"X-CSRF-Token": csrf})
    await client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    rows = await kernel.db.fetch("SELECT type, message, variables FROM watchdog ORDER BY created")
    messages = [r["message"] for r in rows]
    assert "Created account “%(name)s”." in messages
    assert "Login attempt failed for “%(name)s”: %(reason)s." in messages
    assert "Session opened for “%(name)s”." in messages
    assert "Role “%(name)s” created." in messages
    assert "Session closed for “%(name)s”." in messages
