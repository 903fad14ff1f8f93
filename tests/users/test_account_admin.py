"""The account and role services behind the people pages: listing, editing and blocking
accounts, renaming roles, saving every role's permissions at once, and who may register."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.errors import ServiceError
from trovato.users.accounts import BLOCKED, AccountError
from trovato.users.permissions import ANONYMOUS_ROLE, AUTHENTICATED_ROLE, Permission
from trovato.users.registration import (
    REGISTRATION_VARIABLE,
    Registration,
    registration,
    set_registration,
)
from trovato.users.roles import RoleError, Roles


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(site_settings(db_url)) as client:
        yield client


def _roles(client: httpx.AsyncClient) -> Roles:
    kernel = kernel_of(client)
    return Roles(kernel.db, kernel.permissions)


async def test_the_last_active_administrator_cannot_be_blocked(
        client: httpx.AsyncClient) -> None:
    accounts = kernel_of(client).accounts
    root = await accounts.find(await create_account(client, "root", admin=True))
    assert root is not None
    with pytest.raises(ServiceError) as refused:
        await accounts.update(root, actor=None, status=BLOCKED)
    assert refused.value.status == 409 and refused.value.field == "status"
    boss = await accounts.find(await create_account(client, "boss", admin=True))
    assert boss is not None
    blocked = await accounts.update(root, actor=boss, status=BLOCKED)
    assert not blocked.active
    assert await accounts.load(root) is None  # a blocked account's sessions end


async def test_an_edit_checks_mail_and_password_before_writing(
        client: httpx.AsyncClient) -> None:
    accounts = kernel_of(client).accounts
    await create_account(client, "ann")
    bob = await accounts.find(await create_account(client, "bob"))
    assert bob is not None
    with pytest.raises(AccountError) as taken:
        await accounts.update(bob, actor=None, mail="ANN@example.com")
    assert taken.value.field == "mail"
    with pytest.raises(AccountError) as weak:
        await accounts.update(bob, actor=None, mail="new@example.com", password="bob")
    assert weak.value.field == "pass"
    account = await accounts.get(bob)
    assert account is not None and account.mail == "bob@example.com"


async def test_creating_with_roles_is_one_transaction(client: httpx.AsyncClient) -> None:
    accounts = kernel_of(client).accounts
    with pytest.raises(RoleError) as unknown:
        await accounts.create(name="carl", mail="carl@example.com",
                              password="a long enough password", roles=[uuid.uuid4()])
    assert unknown.value.field == "roles"
    assert await accounts.find("carl") is None  # the account was not left behind


async def test_roles_are_renamed_but_not_the_built_in_ones(client: httpx.AsyncClient) -> None:
    roles = _roles(client)
    editor = await roles.create("editor", actor=None)
    await roles.create("writer", actor=None)
    assert (await roles.rename(editor.id, "Chief editor", actor=None)).name == "Chief editor"
    with pytest.raises(RoleError) as taken:
        await roles.rename(editor.id, "WRITER", actor=None)
    assert taken.value.status == 409
    for builtin in (ANONYMOUS_ROLE, AUTHENTICATED_ROLE):
        with pytest.raises(RoleError):
            await roles.rename(builtin, "mine", actor=None)


async def test_a_role_weight_places_it_among_the_others(client: httpx.AsyncClient) -> None:
    roles = _roles(client)
    editor = await roles.create("editor", actor=None)
    await roles.create("writer", actor=None)
    assert [r.name for r in await roles.all()][-2:] == ["editor", "writer"]  # new ones last
    assert (await roles.set_weight(editor.id, -1, actor=None)).weight == -1
    assert (await roles.all())[0].name == "editor"
    await roles.set_weight(ANONYMOUS_ROLE, 5, actor=None)  # the built-in ones too
    assert [r.name for r in await roles.all()][-1] == "anonymous user"
    for bad in ("heavy", 1.5, True, 2**31):
        with pytest.raises(RoleError) as refused:
            await roles.set_weight(editor.id, bad, actor=None)  # type: ignore[arg-type]
        assert refused.value.field == "weight"
    with pytest.raises(RoleError) as missing:
        await roles.set_weight(uuid.uuid4(), 1, actor=None)
    assert missing.value.status == 404
    assert (await roles.get(editor.id)).weight == -1  # type: ignore[union-attr]
    logged = await kernel_of(client).db.fetchval(
        "SELECT count(*) FROM watchdog WHERE type = 'permission'"
        " AND message LIKE 'Weight of role%%'")
    assert logged == 2


async def test_a_grant_whose_provider_left_is_kept_but_never_given(
        client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    roles = _roles(client)
    kernel.registry.add(Permission("use the gadget", "Use the gadget", provider="gadget"))
    editor = await roles.create("editor", actor=None)
    writer = await roles.create("writer", actor=None)
    await roles.set_permissions(editor.id, ["use the gadget"], actor=None)
    kernel.registry.remove_provider("gadget")  # the plugin was disabled
    await roles.set_all_permissions({editor.id: ["use the gadget", "access content"],
                                     writer.id: []}, actor=None)
    assert (await roles.get(editor.id)).permissions == (  # type: ignore[union-attr]
        "access content", "use the gadget")
    with pytest.raises(ServiceError) as unknown:
        await roles.set_all_permissions({writer.id: ["use the gadget"]}, actor=None)
    assert unknown.value.status == 422


async def test_registration_is_closed_unless_the_site_opens_it(
        client: httpx.AsyncClient) -> None:
    db = kernel_of(client).db
    assert await registration(db) is Registration.ADMINS_ONLY
    await set_registration(db, "visitors_approval", actor=None)
    assert await registration(db) is Registration.APPROVAL
    with pytest.raises(ServiceError) as refused:
        await set_registration(db, "everyone", actor=None)
    assert refused.value.field == "registration"
    # A value no version knows reads as closed.
    await db.execute("UPDATE variable SET value = '\"anyone\"' WHERE name = %s",
                     (REGISTRATION_VARIABLE,))
    assert await registration(db) is Registration.ADMINS_ONLY
