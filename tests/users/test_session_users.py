"""The user a session names: kept per process under the users stamp, and read afresh by every
process on its very next request after the account, its roles or a role's permissions change
in another one (two kernels sharing the database and the shared store)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import api_login, create_account, running_app, site_settings
from tests.security._accounts import kernel_of
from trovato.users.accounts import ACTIVE, BLOCKED
from trovato.users.roles import Roles

EDITOR_PERMISSIONS = ["access content", "access administration pages"]


class _Loads:
    """Counts the user rows a kernel reads for sessions."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.count = 0
        accounts = kernel_of(client).accounts
        accounts.load = self._counted(accounts.load)  # type: ignore[method-assign]

    def _counted(self, load: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await load(*args, **kwargs)
        return counted


async def _me(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_change_in_one_kernel_holds_on_the_next_request_of_another(
    db_url: str, store_backend: str,
) -> None:
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await create_account(a, "root", admin=True)
        editor = uuid.UUID(await create_account(a, "editor"))
        roles = Roles(kernel_of(a).db, kernel_of(a).permissions)
        role = await roles.create("editors", actor=None)
        await roles.set_permissions(role.id, EDITOR_PERMISSIONS, actor=None)
        await roles.assign(editor, [role.id], actor=None)
        await api_login(b, "editor")
        loads = _Loads(b)

        assert (await b.get("/admin")).status_code == 200
        assert (await b.get("/admin")).status_code == 200
        assert loads.count <= 1  # kept: read at most once (the login may have read it)

        # A permission revoked in a: b's very next request is refused.
        await roles.set_permissions(role.id, ["access content"], actor=None)
        assert (await b.get("/admin")).status_code == 403
        await roles.set_permissions(role.id, EDITOR_PERMISSIONS, actor=None)
        assert (await b.get("/admin")).status_code == 200

        # The role taken away in a.
        await roles.assign(editor, [], actor=None)
        assert (await b.get("/admin")).status_code == 403
        await roles.assign(editor, [role.id], actor=None)
        assert (await b.get("/admin")).status_code == 200

        # The account blocked in a: b's next request is anonymous, and stays so unblocked.
        await kernel_of(a).accounts.update(editor, actor=None, status=BLOCKED)
        assert (await _me(b))["authenticated"] is False
        await kernel_of(a).accounts.update(editor, actor=None, status=ACTIVE)
        assert (await _me(b))["authenticated"] is False  # the session ended with the block


async def test_an_unchanged_user_is_not_read_again(db_url: str, store_backend: str) -> None:
    """The session's user comes from the process's copy while nothing changed: no user row
    per request; a change anywhere reads it once again."""
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await create_account(a, "root", admin=True)
        await api_login(b, "root")
        await _me(b)
        loads = _Loads(b)
        for _ in range(3):
            assert (await _me(b))["name"] == "root"
        assert loads.count == 0
        editor = uuid.UUID(await create_account(a, "editor"))
        await kernel_of(a).accounts.update(editor, actor=None, mail="ed@example.org")
        await _me(b)
        await _me(b)
        assert loads.count == 1


async def test_a_deleted_account_ends_its_sessions_in_every_kernel(
    db_url: str, store_backend: str,
) -> None:
    settings = site_settings(db_url, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await create_account(a, "root", admin=True)
        editor = uuid.UUID(await create_account(a, "editor"))
        await api_login(b, "editor")
        assert (await _me(b))["authenticated"] is True
        await kernel_of(a).accounts.delete(editor)
        assert (await _me(b))["authenticated"] is False


async def test_an_emptied_store_reads_users_afresh(db_url: str) -> None:
    """Without a stamp (the store was emptied) nothing is kept, and one is made again."""
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        await api_login(client, "root")
        kernel = kernel_of(client)
        await kernel.db.execute("DELETE FROM sessions WHERE sid = ''")
        loads = _Loads(client)
        await _me(client)
        assert loads.count == 1  # no stamp: read, and a new stamp made
        await _me(client)
        await _me(client)
        assert loads.count == 2  # the first under the new stamp; then kept
