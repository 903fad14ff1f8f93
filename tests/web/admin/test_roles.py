"""Roles and the permission matrix over HTTP (``/admin/people/roles``,
``/admin/people/permissions``): access, adding, renaming and deleting roles, the built-in
roles kept, the matrix as an accessible table saved all or nothing, no escalation."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import login_as
from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from tests.web._forms import form_token
from trovato.forms.service import EXPIRED
from trovato.users.permissions import ANONYMOUS_ROLE, AUTHENTICATED_ROLE
from trovato.users.roles import Role, RoleError, Roles

XSS = "<img src=x onerror=alert(1)>"
XSS_SHOWN = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with an administrator (root) and a user without permissions (bob)."""
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        await create_account(client, "bob")
        client.cookies.clear()
        yield client


def _roles(client: httpx.AsyncClient) -> Roles:
    kernel = kernel_of(client)
    return Roles(kernel.db, kernel.permissions)


async def _role(client: httpx.AsyncClient, name: str, *permissions: str) -> Role:
    role = await _roles(client).create(name, actor=None)
    return await _roles(client).set_permissions(role.id, list(permissions), actor=None)


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, object]
                ) -> httpx.Response:
    token = await form_token(client, path)
    return await client.post(path, data={"csrf_token": token, **data})


def _errors(page: httpx.Response) -> str:
    found = re.search(r'<div class="form-errors.*?</div>', page.text, re.S)
    assert found, page.text[:2000]
    return found.group(0)


def _cell(role: uuid.UUID, permission: str) -> str:
    return f"grant[{role}][{permission}]"


async def _matrix_values(client: httpx.AsyncClient, path: str) -> dict[str, str]:
    """What a browser submits for the matrix as shown: every checked, enabled box."""
    page = await client.get(path)
    assert page.status_code == 200
    values = {}
    for tag in re.findall(r"<input [^>]*>", page.text):
        name = re.search(r'name="([^"]*)"', tag)
        if name and name.group(1).startswith("grant[") and " checked" in tag \
                and " disabled" not in tag:
            values[name.group(1).replace("&#39;", "'")] = "1"
    return values


PAGES = ["/admin/people/roles", "/admin/people/permissions",
         f"/admin/people/permissions/{AUTHENTICATED_ROLE}"]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_need_administer_permissions(client: httpx.AsyncClient, path: str) -> None:
    users_only = await _role(client, "users only", "access administration pages",
                             "administer users")
    await kernel_of(client).accounts.update(
        (await kernel_of(client).accounts.find("bob")) or uuid.uuid4(), actor=None,
        roles=[users_only.id])
    assert (await client.get(path)).status_code == 403
    token = (await login_as(client, "bob"))["X-CSRF-Token"]
    assert (await client.get(path)).status_code == 403
    assert (await client.post(path, data={"csrf_token": token, "name": "x"})).status_code == 403
    await login_as(client, "root")
    assert (await client.get(path)).status_code == 200


async def test_posts_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    role = await _role(client, "editor")
    await login_as(client, "root")
    for path, data in (("/admin/people/roles", {"name": "sneaky"}),
                       (f"/admin/people/roles/{role.id}/edit", {"name": "renamed"}),
                       (f"/admin/people/roles/{role.id}/delete", {"op": "confirm"}),
                       ("/admin/people/permissions",
                        {_cell(role.id, "administer users"): "1"})):
        # Shown again with "the form has expired" (tests/web/admin/test_csrf_admin.py), and
        # nothing changed.
        refused = await client.post(path, data=data)
        assert refused.status_code == 400 and EXPIRED in refused.text, path
    assert [r.name for r in await _roles(client).all()] == [
        "anonymous user", "authenticated user", "editor"]
    assert (await _roles(client).get(role.id)) == role


async def test_adding_renaming_and_deleting_a_role(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    added = await _post(client, "/admin/people/roles", {"name": f"Editor {XSS}"})
    assert added.status_code == 303
    page = await client.get("/admin/people/roles")
    assert f"The role “Editor {XSS_SHOWN}” has been added." in page.text
    assert XSS not in page.text
    role = next(r for r in await _roles(client).all() if r.name.startswith("Editor"))
    taken = await _post(client, "/admin/people/roles", {"name": "EDITOR " + XSS})
    assert taken.status_code == 409 and "Role name is already taken" in _errors(taken)
    assert f'value="EDITOR {XSS_SHOWN}"' in taken.text
    empty = await _post(client, "/admin/people/roles", {"name": ""})
    assert empty.status_code == 400 and "Role name is required." in _errors(empty)
    renamed = await _post(client, f"/admin/people/roles/{role.id}/edit", {"name": "Writer"})
    assert renamed.status_code == 303
    assert (await _roles(client).get(role.id)).name == "Writer"  # type: ignore[union-attr]
    assert (f"The role “Editor {XSS_SHOWN}” is now called “Writer”."
            in (await client.get(renamed.headers["location"])).text)
    confirm = await client.get(f"/admin/people/roles/{role.id}/delete")
    assert "Are you sure you want to delete the role “Writer”?" in confirm.text
    deleted = await _post(client, f"/admin/people/roles/{role.id}/delete", {"op": "confirm"})
    assert deleted.status_code == 303
    assert await _roles(client).get(role.id) is None


async def test_the_built_in_roles_cannot_be_renamed_or_deleted(
        client: httpx.AsyncClient) -> None:
    token = (await login_as(client, "root"))["X-CSRF-Token"]
    page = await client.get("/admin/people/roles")
    for role in (ANONYMOUS_ROLE, AUTHENTICATED_ROLE):
        assert f"/admin/people/roles/{role}/delete" not in page.text
        assert f"/admin/people/permissions/{role}" in page.text
        for path in (f"/admin/people/roles/{role}/edit", f"/admin/people/roles/{role}/delete"):
            assert (await client.get(path)).status_code == 404
            posted = await client.post(path, data={"csrf_token": token, "name": "x"})
            assert posted.status_code == 404
    assert {r.id for r in await _roles(client).all()} >= {ANONYMOUS_ROLE, AUTHENTICATED_ROLE}


async def test_the_matrix_is_an_accessible_table(client: httpx.AsyncClient) -> None:
    role = await _role(client, f"Editor {XSS}", "access content")
    await login_as(client, "root")
    page = await client.get("/admin/people/permissions")
    text = page.text
    assert "<caption>System permissions</caption>" in text
    assert "<caption>Content permissions</caption>" in text
    assert f'<th scope="col">Editor {XSS_SHOWN}</th>' in text and XSS not in text
    assert '<th scope="row">' in text
    cell = re.search(rf'<input type="checkbox" id="([^"]+)" name="grant\[{role.id}\]'
                     r'\[access content\]"[^>]*>', text)
    assert cell and " checked" in cell.group(0)
    assert (f'<label class="visually-hidden" for="{cell.group(1)}">Grant View published'
            f' content to Editor {XSS_SHOWN}</label>') in text
    # Restricted permissions say so in their row.
    row = re.search(r"<tr><th scope=\"row\">.{0,400}?administer permissions.*?</tr>", text,
                    re.S)
    assert row and "Warning: give to trusted roles only" in row.group(0)
    single = await client.get(f"/admin/people/permissions/{role.id}")
    assert f"Permissions of Editor {XSS_SHOWN}" in single.text
    assert f"grant[{AUTHENTICATED_ROLE}]" not in single.text


async def test_one_post_saves_every_role(client: httpx.AsyncClient) -> None:
    editor = await _role(client, "editor", "access content")
    writer = await _role(client, "writer")
    await login_as(client, "root")
    values = await _matrix_values(client, "/admin/people/permissions")
    assert values[_cell(editor.id, "access content")] == "1"
    del values[_cell(editor.id, "access content")]
    values[_cell(writer.id, "access user profiles")] = "1"
    values[_cell(writer.id, "use api tokens")] = "1"
    saved = await _post(client, "/admin/people/permissions", values)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/people/permissions"
    assert "The permissions have been saved." in (await client.get(saved.headers["location"])).text
    assert (await _roles(client).get(editor.id)).permissions == ()  # type: ignore[union-attr]
    assert (await _roles(client).get(writer.id)).permissions == (  # type: ignore[union-attr]
        "access user profiles", "use api tokens")
    # One role's column changes only that role.
    one = await _post(client, f"/admin/people/permissions/{editor.id}",
                      {_cell(editor.id, "access content"): "1",
                       _cell(writer.id, "access content"): "1"})
    assert one.status_code == 303
    assert (await _roles(client).get(editor.id)).permissions == (  # type: ignore[union-attr]
        "access content",)
    assert "access content" not in (await _roles(client).get(writer.id)).permissions  # type: ignore[union-attr]


async def test_the_matrix_refuses_escalation_all_or_nothing(client: httpx.AsyncClient) -> None:
    """A user with "administer permissions" but not "administer users" cannot grant it: the
    cell is disabled, a forged value for it is not read, and the service refuses the whole
    save when any role's change involves a permission the user lacks."""
    manager = await _role(client, "manager", "access administration pages",
                          "administer permissions", "access content")
    other = await _role(client, "other")
    kernel = kernel_of(client)
    bob = await kernel.accounts.find("bob")
    assert bob is not None
    await kernel.accounts.update(bob, actor=None, roles=[manager.id])
    await login_as(client, "bob")
    page = await client.get("/admin/people/permissions")
    tag = re.search(rf'<input [^>]*name="grant\[{other.id}\]\[administer users\]"[^>]*>',
                    page.text)
    assert tag and " disabled" in tag.group(0)
    values = await _matrix_values(client, "/admin/people/permissions")
    values[_cell(other.id, "access content")] = "1"  # allowed on its own ...
    refused = await _post(client, "/admin/people/permissions", values)
    assert refused.status_code == 303  # ... and saved
    assert (await _roles(client).get(other.id)).permissions == (  # type: ignore[union-attr]
        "access content",)
    # A forged grant of a disabled cell is not read: the role keeps what it has.
    values = await _matrix_values(client, "/admin/people/permissions")
    forged = await _post(client, f"/admin/people/permissions/{other.id}", {
        **{k: v for k, v in values.items() if str(other.id) in k},
        _cell(other.id, "administer users"): "1"})
    assert forged.status_code == 303
    assert (await _roles(client).get(other.id)).permissions == (  # type: ignore[union-attr]
        "access content",)
    # The service the matrix saves through is all or nothing: an allowed change to one role
    # and a refused one to another change neither.
    with pytest.raises(RoleError) as refused_all:
        await _roles(client).set_all_permissions(
            {other.id: ["access content", "administer users"], manager.id: []}, actor=bob)
    assert refused_all.value.status == 403
    assert (await _roles(client).get(manager.id)).permissions == (  # type: ignore[union-attr]
        "access administration pages", "access content", "administer permissions")
