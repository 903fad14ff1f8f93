"""The people pages over HTTP: the account list and its filters, creating, editing, blocking
and deleting accounts, and who may register (``/admin/people...``, ``/user/register``)."""

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
from trovato.users.roles import RoleError, Roles

XSS = "<script>alert(1)</script>"
XSS_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"
NEW_PASSWORD = "a long enough new password"


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with an administrator (root) and a user without any permission (bob), logged
    in as nobody."""
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        await create_account(client, "bob")
        client.cookies.clear()
        yield client


async def _role(client: httpx.AsyncClient, name: str, *permissions: str) -> uuid.UUID:
    kernel = kernel_of(client)
    roles = Roles(kernel.db, kernel.permissions)
    role = await roles.create(name, actor=None)
    await roles.set_permissions(role.id, list(permissions), actor=None)
    return role.id


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, object],
                form: str | None = None) -> httpx.Response:
    token = await form_token(client, form or path)
    return await client.post(path, data={"csrf_token": token, **data})


def _errors(page: httpx.Response) -> str:
    """The error summary of a page shown again."""
    found = re.search(r'<div class="form-errors.*?</div>', page.text, re.S)
    assert found, page.text[:2000]
    return found.group(0)


async def _id_of(client: httpx.AsyncClient, name: str) -> uuid.UUID:
    found = await kernel_of(client).accounts.find(name)
    assert found is not None
    return found


# -- access ---------------------------------------------------------------------------------------

PAGES = ["/admin/people", "/admin/people/create", "/admin/people/settings"]


@pytest.mark.parametrize("path", PAGES)
async def test_people_pages_need_administer_users(client: httpx.AsyncClient,
                                                  path: str) -> None:
    assert (await client.get(path)).status_code == 403  # anonymous
    await login_as(client, "bob")
    assert (await client.get(path)).status_code == 403
    await login_as(client, "root")
    assert (await client.get(path)).status_code == 200


async def test_account_pages_need_administer_users(client: httpx.AsyncClient) -> None:
    bob = await _id_of(client, "bob")
    token = (await login_as(client, "bob"))["X-CSRF-Token"]
    for path in (f"/admin/people/{bob}/edit", f"/admin/people/{bob}/delete"):
        assert (await client.get(path)).status_code == 403
    for path in ("/admin/people/create", f"/admin/people/{bob}/edit",
                 f"/admin/people/{bob}/delete", "/admin/people/settings"):
        refused = await client.post(path, data={"csrf_token": token, "name": "x"})
        assert refused.status_code == 403, path


async def test_posts_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    bob = await _id_of(client, "bob")
    for path in ("/admin/people/create", f"/admin/people/{bob}/edit",
                 f"/admin/people/{bob}/delete", "/admin/people/settings"):
        refused = await client.post(path, data={"name": "mallory", "mail": "m@example.com",
                                                "status": "0", "registration": "visitors"})
        # Shown again with "the form has expired" (tests/web/admin/test_csrf_admin.py), and
        # nothing changed.
        assert refused.status_code == 400 and EXPIRED in refused.text, path
    account = await kernel_of(client).accounts.get(bob)
    assert account is not None and account.active
    assert await kernel_of(client).accounts.find("mallory") is None


# -- the list -----------------------------------------------------------------------------------


async def test_the_list_shows_accounts_with_roles_and_filters_them(
        client: httpx.AsyncClient) -> None:
    editor = await _role(client, f"Editor {XSS}", "access content")
    kernel = kernel_of(client)
    for name in ("ann_1", "ann%2", "carl"):
        await create_account(client, name)
    ann = await _id_of(client, "ann_1")
    await kernel.accounts.update(ann, actor=None, roles=[editor])
    await kernel.accounts.update(await _id_of(client, "carl"), actor=None, status=0)
    await login_as(client, "root")
    page = await client.get("/admin/people")
    assert page.status_code == 200
    assert "Accounts (5)" in page.text
    assert f"Editor {XSS_SHOWN}" in page.text and XSS not in page.text
    assert "Blocked" in page.text and "Never" in page.text
    # "_" and "%" are taken literally, not as LIKE wildcards.
    by_name = await client.get("/admin/people", params={"name": "ann_"})
    assert "Accounts (1)" in by_name.text and "ann_1" in by_name.text
    percent = await client.get("/admin/people", params={"name": "%"})
    assert "Accounts (1)" in percent.text and "ann%2" in percent.text
    by_role = await client.get("/admin/people", params={"role": str(editor)})
    assert "Accounts (1)" in by_role.text and ">ann_1<" in by_role.text
    blocked = await client.get("/admin/people", params={"status": "0"})
    assert "Accounts (1)" in blocked.text and ">carl<" in blocked.text
    # A filter value that is not among the options is an error next to it, not a crash.
    wrong = await client.get("/admin/people", params={"status": "7"})
    assert wrong.status_code == 200 and "Status: the chosen value" in _errors(wrong)
    assert "Accounts (5)" in wrong.text


async def test_the_list_pages(client: httpx.AsyncClient) -> None:
    for n in range(51):
        await kernel_of(client).db.execute(
            "INSERT INTO users (name, name_key, mail) VALUES (%s, %s, %s)",
            (f"user{n:02d}", f"user{n:02d}", f"user{n}@example.com"))
    await login_as(client, "root")
    first = await client.get("/admin/people")
    assert "Accounts (53)" in first.text and 'rel="next"' in first.text
    second = await client.get("/admin/people", params={"page": "1"})
    assert second.text.count("/edit\"") < first.text.count("/edit\"")
    assert 'rel="prev"' in second.text


# -- creating -----------------------------------------------------------------------------------


async def test_creating_an_account_with_a_role(client: httpx.AsyncClient) -> None:
    editor = await _role(client, "editor", "access content")
    await login_as(client, "root")
    form = await client.get("/admin/people/create")
    assert f'name="roles" value="{editor}"' in form.text
    made = await _post(client, "/admin/people/create", {
        "name": f"new {XSS}", "mail": "new@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD, "status": "1", "roles": str(editor)})
    assert made.status_code == 303 and made.headers["location"] == "/admin/people"
    listing = await client.get("/admin/people")
    assert f"The account “new {XSS_SHOWN}” has been created." in listing.text
    assert XSS not in listing.text
    account = await kernel_of(client).accounts.get(await _id_of(client, f"new {XSS}"))
    assert account is not None and account.active and account.roles == (editor,)
    assert account.mail == "new@example.com"
    client.cookies.clear()
    assert (await client.post("/api/v1/session", json={
        "name": f"new {XSS}", "pass": NEW_PASSWORD})).status_code == 200


async def test_invalid_input_keeps_the_values_and_names_each_field(
        client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    refused = await _post(client, "/admin/people/create", {
        "name": "kept name", "mail": "not a mail", "pass": NEW_PASSWORD,
        "pass_confirm": "something else", "status": "1"})
    assert refused.status_code == 400
    summary = _errors(refused)
    assert "E-mail address must be an e-mail address" in summary
    assert "The two passwords do not match." in summary
    assert 'value="kept name"' in refused.text and 'value="not a mail"' in refused.text
    assert NEW_PASSWORD not in refused.text  # passwords are never shown again
    assert 'aria-invalid="true"' in refused.text


async def test_the_services_refusals_show_on_the_form(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    taken = await _post(client, "/admin/people/create", {
        "name": "BOB", "mail": "other@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD, "status": "1"})
    assert taken.status_code == 422 and "User name is already taken" in _errors(taken)
    same_mail = await _post(client, "/admin/people/create", {
        "name": "robert", "mail": "BOB@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD, "status": "1"})
    assert "E-mail address is already used by another account" in _errors(same_mail)
    short = await _post(client, "/admin/people/create", {
        "name": "robert", "mail": "robert@example.com", "pass": "short",
        "pass_confirm": "short", "status": "1"})
    assert short.status_code == 422 and "Password" in _errors(short)
    assert 'value="robert@example.com"' in short.text
    assert await kernel_of(client).accounts.find("robert") is None


async def test_no_privilege_escalation_through_the_people_pages(
        client: httpx.AsyncClient) -> None:
    """A user with "administer users" but not "administer permissions" can neither give nor
    take away a role carrying permissions they lack: a form error, never a 500."""
    kernel = kernel_of(client)
    manager = await _role(client, "manager", "access administration pages",
                          "administer users")
    powerful = await _role(client, "powerful", "administer permissions")
    await create_account(client, "mia")
    await kernel.accounts.update(await _id_of(client, "mia"), actor=None, roles=[manager])
    await login_as(client, "mia")
    form = await client.get("/admin/people/create")
    assert form.status_code == 200 and str(powerful) not in form.text
    escalate = await _post(client, "/admin/people/create", {
        "name": "sock", "mail": "sock@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD, "status": "1", "roles": [str(manager), str(powerful)]})
    assert escalate.status_code == 400
    assert "Roles: a chosen value is not one of the options." in _errors(escalate)
    assert await kernel.accounts.find("sock") is None
    # An account holding the powerful role: mia may not edit it at all (the service says so).
    await create_account(client, "pat")
    pat = await _id_of(client, "pat")
    await kernel.accounts.update(pat, actor=None, roles=[powerful])
    edit = await client.get(f"/admin/people/{pat}/edit")
    assert "powerful (you may not grant it)" in edit.text
    refused = await _post(client, f"/admin/people/{pat}/edit", {
        "mail": "pat@example.com", "status": "0", "roles": []},
        form=f"/admin/people/{pat}/edit")
    assert refused.status_code == 403
    assert "holds rights you do not have (administer permissions)" in _errors(refused)
    account = await kernel.accounts.get(pat)
    assert account is not None and account.active and account.roles == (powerful,)
    # Mia herself holds manager; giving bob the powerful role through a forged option is
    # refused by the form, and the service refuses what the form would let through.
    bob = await _id_of(client, "bob")
    forged = await _post(client, f"/admin/people/{bob}/edit", {
        "mail": "bob@example.com", "status": "1", "roles": [str(powerful)]},
        form=f"/admin/people/{bob}/edit")
    assert forged.status_code == 400 and "Roles:" in _errors(forged)
    with pytest.raises(RoleError) as direct:
        await kernel.accounts.update(bob, actor=await _id_of(client, "mia"),
                                     roles=[powerful])
    assert "administer permissions" in str(direct.value)


# -- editing ------------------------------------------------------------------------------------


async def test_editing_mail_password_status_and_roles(client: httpx.AsyncClient) -> None:
    editor = await _role(client, "editor", "access content")
    bob = await _id_of(client, "bob")
    await login_as(client, "root")
    form = await client.get(f"/admin/people/{bob}/edit")
    assert 'value="bob@example.com"' in form.text
    saved = await _post(client, f"/admin/people/{bob}/edit", {
        "mail": "robert@example.com", "pass": NEW_PASSWORD, "pass_confirm": NEW_PASSWORD,
        "status": "1", "roles": str(editor)})
    assert saved.status_code == 303, saved.text
    account = await kernel_of(client).accounts.get(bob)
    assert account is not None and account.mail == "robert@example.com"
    assert account.roles == (editor,)
    client.cookies.clear()
    assert (await client.post("/api/v1/session", json={
        "name": "bob", "pass": NEW_PASSWORD})).status_code == 200
    # Blocked: bob's session ends and he cannot log in; an empty password keeps his.
    await login_as(client, "root")
    blocked = await _post(client, f"/admin/people/{bob}/edit", {
        "mail": "robert@example.com", "pass": "", "pass_confirm": "", "status": "0"})
    assert blocked.status_code == 303
    account = await kernel_of(client).accounts.get(bob)
    assert account is not None and not account.active and account.roles == ()
    client.cookies.clear()
    assert (await client.post("/api/v1/session", json={
        "name": "bob", "pass": NEW_PASSWORD})).status_code == 401


async def test_an_admin_cannot_block_themselves(client: httpx.AsyncClient) -> None:
    root = await _id_of(client, "root")
    await login_as(client, "root")
    refused = await _post(client, f"/admin/people/{root}/edit", {
        "mail": "root@example.com", "status": "0"})
    assert refused.status_code == 409
    assert "You cannot block your own account." in _errors(refused)


async def test_an_unknown_account_is_404(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    for path in (f"/admin/people/{uuid.uuid4()}/edit", "/admin/people/nope/edit",
                 f"/admin/people/{uuid.UUID(int=0)}/delete"):
        assert (await client.get(path)).status_code == 404, path


# -- deleting -----------------------------------------------------------------------------------


async def test_deleting_asks_first_and_says_what_happens_to_content(
        client: httpx.AsyncClient) -> None:
    bob = await _id_of(client, "bob")
    await login_as(client, "root")
    confirm = await client.get(f"/admin/people/{bob}/delete")
    assert confirm.status_code == 200
    assert "reassigned to Anonymous" in confirm.text
    assert await kernel_of(client).accounts.get(bob) is not None
    deleted = await _post(client, f"/admin/people/{bob}/delete", {"op": "confirm"})
    assert deleted.status_code == 303
    assert await kernel_of(client).accounts.get(bob) is None
    listing = await client.get("/admin/people")
    assert "The account “bob” has been deleted" in listing.text


async def test_deleting_the_last_administrator_is_refused_on_the_page(
        client: httpx.AsyncClient) -> None:
    root = await _id_of(client, "root")
    await login_as(client, "root")
    refused = await _post(client, f"/admin/people/{root}/delete", {"op": "confirm"})
    assert refused.status_code == 409 and "last administrator" in _errors(refused)


# -- registration -------------------------------------------------------------------------------


async def test_registration_is_closed_by_default(client: httpx.AsyncClient) -> None:
    closed = await client.get("/user/register")
    assert closed.status_code == 404 and "Registration is closed" in closed.text
    assert 'href="/user/register"' not in (await client.get("/user/login")).text
    assert (await client.post("/user/register", data={})).status_code in (403, 404)


async def _allow(client: httpx.AsyncClient, choice: str) -> None:
    await login_as(client, "root")
    settings = await client.get("/admin/people/settings")
    assert 'value="admins_only" checked' in settings.text
    saved = await _post(client, "/admin/people/settings", {"registration": choice})
    assert saved.status_code == 303
    assert f'value="{choice}" checked' in (await client.get("/admin/people/settings")).text
    client.cookies.clear()


async def test_visitors_register_and_are_logged_in(client: httpx.AsyncClient) -> None:
    await _allow(client, "visitors")
    # The login page says where to register, now that visitors may.
    assert '<a href="/user/register">Create new account</a>' in (
        await client.get("/user/login")).text
    form = await client.get("/user/register")
    assert form.status_code == 200
    refused = await _post(client, "/user/register", {
        "name": "bob", "mail": "another.bob@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD})
    assert refused.status_code == 422
    assert "User name is already taken" in _errors(refused)
    assert 'value="another.bob@example.com"' in refused.text
    made = await _post(client, "/user/register", {
        "name": "visitor", "mail": "visitor@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD})
    assert made.status_code == 303
    welcome = await client.get(made.headers["location"])
    assert "Welcome, visitor" in welcome.text
    me = await client.get("/api/v1/users/me")
    assert me.json()["name"] == "visitor"


async def test_with_approval_the_account_is_created_blocked(client: httpx.AsyncClient) -> None:
    await _allow(client, "visitors_approval")
    form = await client.get("/user/register")
    assert "must approve your account" in form.text
    made = await _post(client, "/user/register", {
        "name": "waiting", "mail": "waiting@example.com", "pass": NEW_PASSWORD,
        "pass_confirm": NEW_PASSWORD})
    assert made.status_code == 303 and made.headers["location"] == "/"
    assert "waiting for an administrator" in (await client.get("/")).text
    assert (await client.get("/api/v1/users/me")).json()["authenticated"] is False
    account = await kernel_of(client).accounts.get(await _id_of(client, "waiting"))
    assert account is not None and not account.active


async def test_registration_settings_refuse_an_unknown_choice(
        client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    refused = await _post(client, "/admin/people/settings", {"registration": "everyone"})
    assert refused.status_code == 400
    assert "Who may register accounts: the chosen value" in _errors(refused)
