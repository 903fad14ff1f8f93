"""Deleting an account: refusals, reassignment to Anonymous in one transaction, the audit
entry, and the ``user_delete`` tap of a real compiled plugin (fail-closed: it can refuse, and
a broken plugin rolls the deletion back)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import create_account
from tests.users._warden import kernel_of, warden_site
from trovato.ids import NIL
from trovato.kernel.services import Kernel
from trovato.users.accounts import AccountDeleteError


async def _item(kernel: Kernel, author: str, title: str) -> str:
    """An item with one revision by ``author``, written as the content service stores it."""
    await kernel.db.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')"
                            " ON CONFLICT DO NOTHING")
    row = await kernel.db.fetchrow(
        "INSERT INTO item (type, title, author_id) VALUES ('page', %s, %s) RETURNING id",
        (title, author))
    assert row is not None
    await kernel.db.execute(
        "INSERT INTO item_revision (item_id, author_id, title) VALUES (%s, %s, %s)",
        (row["id"], author, title))
    return str(row["id"])


async def test_delete_reassigns_content_and_revokes_tokens(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    root = uuid.UUID(await create_account(client, "root", admin=True))
    alice = uuid.UUID(await create_account(client, "alice"))
    item = await _item(kernel, str(alice), "Alice's page")
    await kernel.tokens.create(alice, "deploy")
    editor = await kernel.db.fetchval("INSERT INTO role (name) VALUES ('editor') RETURNING id")
    await kernel.db.execute("INSERT INTO users_roles (user_id, role_id) VALUES (%s, %s)",
                            (alice, editor))

    assert await kernel.accounts.find("ALICE") == alice
    assert await kernel.accounts.find(str(alice)) == alice
    deleted = await kernel.accounts.delete(alice, actor=root)

    assert deleted.name == "alice" and deleted.tokens_revoked == 1
    assert [str(i) for i in deleted.reassigned_items] == [item]
    assert await kernel.db.fetchval("SELECT count(*) FROM users WHERE id = %s", (alice,)) == 0
    assert await kernel.db.fetchval("SELECT author_id FROM item WHERE id = %s", (item,)) == NIL
    assert await kernel.db.fetchval(
        "SELECT author_id FROM item_revision WHERE item_id = %s", (item,)) == NIL
    assert await kernel.db.fetchval(
        "SELECT count(*) FROM api_token WHERE user_id = %s", (alice,)) == 0
    assert await kernel.db.fetchval(
        "SELECT count(*) FROM users_roles WHERE user_id = %s", (alice,)) == 0
    entry = await kernel.db.fetchrow(
        "SELECT user_id, variables FROM watchdog WHERE message LIKE 'Deleted account%%'")
    assert entry is not None and entry["user_id"] == root
    assert entry["variables"]["name"] == "alice" and entry["variables"]["items"] == 1
    assert await kernel.accounts.find("alice") is None
    with pytest.raises(AccountDeleteError) as again:
        await kernel.accounts.delete(alice)
    assert again.value.status == 404


async def test_anonymous_and_last_administrator_are_refused(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    with pytest.raises(AccountDeleteError) as anonymous:
        await kernel.accounts.delete(NIL)
    assert anonymous.value.status == 422
    root = uuid.UUID(await create_account(client, "root", admin=True))
    with pytest.raises(AccountDeleteError) as last:
        await kernel.accounts.delete(root)
    assert last.value.status == 409 and "last administrator" in last.value.message
    # A blocked administrator does not count: the site would have nobody to run it.
    second = uuid.UUID(await create_account(client, "second", admin=True))
    await kernel.db.execute("UPDATE users SET status = 0 WHERE id = %s", (second,))
    with pytest.raises(AccountDeleteError):
        await kernel.accounts.delete(root)
    await kernel.db.execute("UPDATE users SET status = 1 WHERE id = %s", (second,))
    await kernel.accounts.delete(root)
    assert await kernel.accounts.find("root") is None


async def test_user_delete_tap_sees_the_user_inside_the_transaction(db_url: str) -> None:
    async with warden_site(db_url) as site:
        kernel = kernel_of(site)
        assert kernel.plugins.dispatcher.implementations("user_delete") == ("warden",)
        alice = uuid.UUID(await create_account(site, "alice"))
        await _item(kernel, str(alice), "kept")
        await kernel.accounts.delete(alice)
        rows = await kernel.db.fetch("SELECT user_id, name, data FROM p_warden__deleted")
        assert [(r["user_id"], r["name"]) for r in rows] == [(str(alice), "alice")]
        payload = rows[0]["data"]
        assert payload["mail"] == "alice@example.com" and payload["reassigned_items"] == 1
        assert payload["roles"] == [] and payload["is_admin"] is False


@pytest.mark.parametrize(("name", "status", "message"), [
    ("keeper", 409, "The plugin warden refused: warden keeps the keeper's account"),
    ("crasher", 500, "The plugin warden failed (exception) in user_delete; nothing was "
                     "deleted."),
])
async def test_a_refusing_or_broken_plugin_rolls_the_deletion_back(
    db_url: str, name: str, status: int, message: str,
) -> None:
    async with warden_site(db_url) as site:
        kernel = kernel_of(site)
        user = uuid.UUID(await create_account(site, name))
        item = await _item(kernel, str(user), "stays")
        await kernel.tokens.create(user, "deploy")
        with pytest.raises(AccountDeleteError) as refused:
            await kernel.accounts.delete(user)
        assert (refused.value.status, refused.value.message) == (status, message)
        # Nothing happened: account, authorship, token, no audit entry.
        assert await kernel.accounts.find(name) == user
        assert await kernel.db.fetchval(
            "SELECT author_id FROM item WHERE id = %s", (item,)) == user
        assert await kernel.db.fetchval(
            "SELECT count(*) FROM item_revision WHERE author_id = %s", (user,)) == 1
        assert await kernel.db.fetchval(
            "SELECT count(*) FROM api_token WHERE user_id = %s", (user,)) == 1
        assert await kernel.db.fetchval(
            "SELECT count(*) FROM watchdog WHERE message LIKE 'Deleted account%%'") == 0
