"""The people pages: the account list, creating, editing (block, roles, password) and deleting
accounts, and who may register (``/admin/people/...``, permission ``administer users``).

Thin: every form is declared with the form API (server-side checks, inline errors and a
summary, values kept, the plugins' form taps) and every change goes through the accounts
service (:class:`~trovato.users.accounts.Accounts`), which checks the privilege rules
(:mod:`trovato.users.privileges`) — the same calls as the JSON API and the command line. A
refusal of the service is shown on the form next to the input it is about, never as an error
page. The roles and the permission matrix are in :mod:`trovato.web.admin.roles`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.item_form import sentence
from trovato.ids import parse_uuid
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.users.accounts import ACTIVE, BLOCKED, Account, CurrentUser
from trovato.users.permissions import ANONYMOUS_ROLE, AUTHENTICATED_ROLE
from trovato.users.registration import Registration, registration, set_registration
from trovato.users.roles import Role, Roles
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import checked, confirm_tree, submitted_ok

USERS = "administer users"
PERMISSIONS = "administer permissions"
PAGE_SIZE = 50
NAME_MAX = 60

ACCOUNT_FORM = "admin_people_account"
DELETE_FORM = "admin_people_delete"
SETTINGS_FORM = "admin_people_settings"
FILTER_FORM = "admin_people_filter"

STATUS_OPTIONS = {str(ACTIVE): "Active", str(BLOCKED): "Blocked"}
# What each input of the account form is called in a sentence ("User name is already taken").
ACCOUNT_LABELS = {"name": "User name", "mail": "E-mail address", "pass": "Password",
                  "pass_confirm": "Confirm password", "status": "Status", "roles": "Roles"}


# -- shared by the people pages -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tab:
    title: str
    href: str
    current: bool


_TABS = (("Accounts", "/admin/people", USERS), ("Roles", "/admin/people/roles", PERMISSIONS),
         ("Permissions", "/admin/people/permissions", PERMISSIONS),
         ("Registration", "/admin/people/settings", USERS))


def people_tabs(user: CurrentUser, current: str) -> list[Tab]:
    """The people pages ``user`` may open, ``current`` marked."""
    return [Tab(title, href, href == current) for title, href, permission in _TABS
            if user.can(permission)]


def people_page(request: Request, title: str, content: object, *, tab: str,
                status: int = 200, messages: list[tuple[str, str]] | None = None,
                form: bool = False, actions: Sequence[Tab] = ()) -> Response:
    """An admin page of the people section: its tabs, then ``content`` (rendered HTML)."""
    user = request_context(request).current_user
    return render_admin(request, "admin/people.html", {
        "title": title, "content": content, "people_tabs": people_tabs(user, tab),
        "actions": list(actions)}, status_code=status, messages=messages, form=form)


def csrf_token(request: Request) -> str:
    session = request_context(request).session
    assert session is not None  # the pipeline's session stage ran
    return session.csrf_token()


def refusal(exc: ServiceError, labels: Mapping[str, str]) -> forms.FormErrors:
    """A service's refusal as form errors: next to the input it names, else in the summary
    above the form."""
    found = {key: sentence(key, message, labels) for key, message in exc.errors.items()
             if key in labels}
    key = exc.field if exc.field is not None and exc.field in labels else "form"
    found.setdefault(key, sentence(key, exc.message, labels))
    return found


def roles_service(request: Request) -> Roles:
    kernel = request_context(request).kernel
    return Roles(kernel.db, kernel.permissions)


def may_grant(user: CurrentUser, role: Role) -> bool:
    """Whether ``user`` holds every permission of ``role`` (so may give or take it away)."""
    return user.is_admin or set(role.permissions) <= user.permissions


def assignable(roles: Sequence[Role]) -> list[Role]:
    """The roles stored per account (the built-in ones every account has are implied)."""
    return [r for r in roles if r.id not in (ANONYMOUS_ROLE, AUTHENTICATED_ROLE)]


def role_ids(value: forms.FormValue) -> list[uuid.UUID]:
    """The role ids of a checked ``roles`` input (already checked against its options)."""
    chosen = value if isinstance(value, list) else []
    return [r for r in (parse_uuid(v) for v in chosen) if r is not None]


def age(since: datetime, now: datetime | None = None) -> str:
    """How long ago ``since`` was, for people: "5 minutes", "3 days", "2 years"."""
    seconds = max(0.0, ((now or datetime.now(UTC)) - since).total_seconds())
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
                         ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


# -- the account list ---------------------------------------------------------------------------


def _filter_tree(roles: Sequence[Role]) -> RenderElement:
    return forms.form(FILTER_FORM, "/admin/people", {
        "filters": {
            "#type": "container", "#tag": "div", "#attributes": {"class": "admin-filters"},
            "name": {"#type": "textfield", "#name": "name", "#title": "Name contains",
                     "#maxlength": NAME_MAX},
            "role": {"#type": "select", "#name": "role", "#title": "Role",
                     "#options": {"": "Any role", **{str(r.id): r.name for r in roles}}},
            "status": {"#type": "select", "#name": "status", "#title": "Status",
                       "#options": {"": "Any status", **STATUS_OPTIONS}},
            "actions": {"#type": "actions", "filter": forms.submit("filter", title="Filter")},
        },
    }, method="get")


def _account_rows(accounts: Sequence[Account], now: datetime) -> list[list[str | RenderElement]]:
    return [
        [el.link(a.name, f"/admin/people/{a.id}/edit"),
         STATUS_OPTIONS[str(a.status)] if str(a.status) in STATUS_OPTIONS else str(a.status),
         ", ".join(("Administrator", *a.role_names) if a.is_admin else a.role_names),
         age(a.created, now),
         f"{age(a.last_login, now)} ago" if a.last_login is not None else "Never",
         el.link("Edit", f"/admin/people/{a.id}/edit",
                 attributes={"aria-label": f"Edit {a.name}"})]
        for a in accounts
    ]


async def people_list(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    roles = assignable(await roles_service(request).all())
    tree = await ctx.kernel.forms.build(_filter_tree(roles), user=user)
    values = forms.read(tree, request.query_params)
    errors = forms.check(tree, values)
    query = {k: v for k, v in values.items() if isinstance(v, str) and v and k not in errors}
    page_text = request.query_params.get("page", "0")
    page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 0
    found = await ctx.kernel.accounts.listing(
        name_contains=str(query.get("name", "")),
        role=parse_uuid(query["role"]) if "role" in query else None,
        status=int(query["status"]) if "status" in query else None,
        offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    listing = el.container({
        "table": el.table(["Name", "Status", "Roles", "Member for", "Last login",
                           "Operations"], _account_rows(found.accounts, datetime.now(UTC)),
                          caption=f"Accounts ({found.total})",
                          empty="No account matches these filters."),
        "pager": el.pager(min(page, pages - 1), pages, href="/admin/people", query=query),
    })
    content = (ctx.kernel.forms.render(tree, values=values, errors=errors)
               + ctx.kernel.templates.render_tree(listing))
    return people_page(request, "People", content, tab="/admin/people",
                       actions=[Tab("Add account", "/admin/people/create", False)])


# -- creating and editing an account ------------------------------------------------------------


def _role_options(user: CurrentUser, roles: Sequence[Role], held: Sequence[uuid.UUID] = ()
                  ) -> dict[str, str]:
    """The roles ``user`` may give (and those the account already holds, which stay shown
    so that saving keeps them)."""
    return {str(r.id): r.name if may_grant(user, r) else f"{r.name} (you may not grant it)"
            for r in roles if may_grant(user, r) or r.id in held}


def _account_tree(user: CurrentUser, roles: Sequence[Role], account: Account | None
                  ) -> RenderElement:
    editing = account is not None
    elements: dict[str, RenderElement] = {}
    if account is None:
        elements["name"] = {"#type": "textfield", "#name": "name", "#title": "User name",
                            "#required": True, "#maxlength": NAME_MAX,
                            "#autocomplete": "off"}
    elements["mail"] = {"#type": "email", "#name": "mail", "#title": "E-mail address",
                        "#required": True, "#maxlength": 254, "#autocomplete": "off",
                        "#default_value": account.mail if account else ""}
    elements["pass"] = {"#type": "password", "#name": "pass", "#title": "Password",
                        "#required": not editing, "#autocomplete": "new-password",
                        **({"#description": "Leave empty to keep the current password."}
                           if editing else {})}
    elements["pass_confirm"] = {"#type": "password", "#name": "pass_confirm",
                                "#title": "Confirm password", "#required": not editing,
                                "#autocomplete": "new-password"}
    elements["status"] = {"#type": "radios", "#name": "status", "#title": "Status",
                          "#required": True, "#options": dict(STATUS_OPTIONS),
                          "#default_value": str(account.status if account else ACTIVE)}
    options = _role_options(user, roles, account.roles if account else ())
    if options:
        elements["roles"] = {"#type": "checkboxes", "#name": "roles", "#title": "Roles",
                             "#options": options,
                             "#default_value": [str(r) for r in account.roles] if account
                             else []}
    actions: RenderElement = {
        "#type": "actions",
        "save": forms.submit("save", title="Save" if editing else "Create account")}
    if account is not None:
        actions["delete"] = el.link("Delete account", f"/admin/people/{account.id}/delete",
                                    weight=10, attributes={"class": "button button--danger"})
    elements["actions"] = actions
    action = f"/admin/people/{account.id}/edit" if account else "/admin/people/create"
    return forms.form(ACCOUNT_FORM, action, elements)


async def _account(request: Request) -> Account:
    account_id = parse_uuid(request.path_params["id"])
    account = (await request_context(request).kernel.accounts.get(account_id)
               if account_id is not None else None)
    if account is None:
        raise ServiceError(404, "No such user.")
    return account


async def _account_page(request: Request, account: Account | None, tree: RenderElement, *,
                        values: forms.FormValues | None = None,
                        errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    content = ctx.kernel.forms.render(tree, csrf_token=csrf_token(request), values=values,
                                      errors=errors, labels=ACCOUNT_LABELS)
    title = "Add account" if account is None else f"Edit {account.name}"
    return people_page(request, title, content, tab="/admin/people", status=status, form=True)


async def _built_account_tree(request: Request, account: Account | None) -> RenderElement:
    ctx = request_context(request)
    roles = assignable(await roles_service(request).all())
    return await ctx.kernel.forms.build(_account_tree(ctx.current_user, roles, account),
                                        user=ctx.current_user)


async def create_form(request: Request) -> Response:
    require_admin(request, USERS)
    return await _account_page(request, None, await _built_account_tree(request, None))


async def edit_form(request: Request) -> Response:
    require_admin(request, USERS)
    account = await _account(request)
    return await _account_page(request, account, await _built_account_tree(request, account))


def _passwords(values: forms.FormValues, errors: forms.FormErrors) -> str | None:
    """The new password (None: keep it), or an error when the two do not match."""
    password, confirm = str(values.get("pass", "")), str(values.get("pass_confirm", ""))
    if password != confirm and "pass_confirm" not in errors:
        errors["pass_confirm"] = "The two passwords do not match."
    return password or None


@form_post
async def create_submit(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    tree = await _built_account_tree(request, None)
    values, errors = await checked(request, tree, await request.form())
    password = _passwords(values, errors)
    status = 400
    if not errors:
        try:
            created = await ctx.kernel.accounts.create(
                name=str(values["name"]), mail=str(values["mail"]), password=password or "",
                status=int(str(values["status"])), roles=role_ids(values.get("roles", [])),
                actor=user.id)
        except ServiceError as exc:
            errors, status = refusal(exc, ACCOUNT_LABELS), exc.status
        else:
            await submitted_ok(request, tree, values, {"user_id": str(created)})
            flash(request, "status", f"The account “{values['name']}” has been created.")
            return RedirectResponse("/admin/people", status_code=303)
    return await _account_page(request, None, tree, values=values, errors=errors,
                               status=status)


@form_post
async def edit_submit(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    account = await _account(request)
    tree = await _built_account_tree(request, account)
    values, errors = await checked(request, tree, await request.form())
    password = _passwords(values, errors)
    status = 400
    if not errors:
        try:
            await ctx.kernel.accounts.update(
                account.id, actor=user.id, mail=str(values["mail"]), password=password,
                status=int(str(values["status"])),
                roles=role_ids(values["roles"]) if "roles" in values else None)
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors, status = refusal(exc, ACCOUNT_LABELS), exc.status
        else:
            await submitted_ok(request, tree, values, {"user_id": str(account.id)})
            flash(request, "status", f"The changes to “{account.name}” have been saved.")
            return RedirectResponse("/admin/people", status_code=303)
    return await _account_page(request, account, tree, values=values, errors=errors,
                               status=status)


# -- deleting an account ------------------------------------------------------------------------


async def _delete_tree(request: Request, account: Account) -> RenderElement:
    ctx = request_context(request)
    question = (f"Are you sure you want to delete the account {account.name}? Their items and"
                " revisions will be reassigned to Anonymous and their API tokens revoked."
                " This cannot be undone.")
    tree = confirm_tree(DELETE_FORM, f"/admin/people/{account.id}/delete", question,
                        "Delete account", f"/admin/people/{account.id}/edit")
    return await ctx.kernel.forms.build(tree, user=ctx.current_user)


async def _delete_page(request: Request, account: Account, tree: RenderElement, *,
                       errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), errors=errors)
    return people_page(request, f"Delete {account.name}", content, tab="/admin/people",
                       status=status, form=True)


async def delete_form(request: Request) -> Response:
    require_admin(request, USERS)
    account = await _account(request)
    return await _delete_page(request, account, await _delete_tree(request, account))


@form_post
async def delete_submit(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    account = await _account(request)
    tree = await _delete_tree(request, account)
    values, errors = await checked(request, tree, await request.form())
    status = 400
    if not errors:
        try:
            deleted = await ctx.kernel.accounts.delete(account.id, actor=user.id)
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors, status = {"form": exc.message}, exc.status
        else:
            if deleted.reassigned_items:
                await ctx.kernel.page_cache.invalidate(
                    [f"item:{item_id}" for item_id in deleted.reassigned_items])
            await submitted_ok(request, tree, values, {"user_id": str(account.id)})
            flash(request, "status", f"The account “{account.name}” has been deleted;"
                  f" {len(deleted.reassigned_items)} item(s) now belong to Anonymous.")
            return RedirectResponse("/admin/people", status_code=303)
    return await _delete_page(request, account, tree, errors=errors, status=status)


# -- who may register ---------------------------------------------------------------------------


def _settings_tree(current: Registration) -> RenderElement:
    return forms.form(SETTINGS_FORM, "/admin/people/settings", {
        "registration": {"#type": "radios", "#name": "registration",
                         "#title": "Who may register accounts", "#required": True,
                         "#options": {r.value: r.label for r in Registration},
                         "#default_value": current.value,
                         "#description": "Visitors register at /user/register. With approval,"
                                         " their account is created blocked until an"
                                         " administrator unblocks it here."},
        "actions": {"#type": "actions", "save": forms.submit("save", title="Save")},
    })


async def _settings_page(request: Request, tree: RenderElement, *,
                         values: forms.FormValues | None = None,
                         errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors)
    return people_page(request, "Registration", content, tab="/admin/people/settings",
                       status=status, form=True)


async def settings_form(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    tree = await ctx.kernel.forms.build(_settings_tree(await registration(ctx.kernel.db)),
                                        user=user)
    return await _settings_page(request, tree)


@form_post
async def settings_submit(request: Request) -> Response:
    user = require_admin(request, USERS)
    ctx = request_context(request)
    tree = await ctx.kernel.forms.build(_settings_tree(await registration(ctx.kernel.db)),
                                        user=user)
    values, errors = await checked(request, tree, await request.form())
    if errors:
        return await _settings_page(request, tree, values=values, errors=errors, status=400)
    chosen = await set_registration(ctx.kernel.db, str(values["registration"]), actor=user.id)
    await submitted_ok(request, tree, values)
    flash(request, "status", f"Who may register is now: {chosen.label}.")
    return RedirectResponse("/admin/people/settings", status_code=303)


routes = [
    Route("/admin/people", people_list, methods=["GET"]),
    Route("/admin/people/create", create_form, methods=["GET"]),
    Route("/admin/people/create", create_submit, methods=["POST"]),
    Route("/admin/people/settings", settings_form, methods=["GET"]),
    Route("/admin/people/settings", settings_submit, methods=["POST"]),
    Route("/admin/people/{id}/edit", edit_form, methods=["GET"]),
    Route("/admin/people/{id}/edit", edit_submit, methods=["POST"]),
    Route("/admin/people/{id}/delete", delete_form, methods=["GET"]),
    Route("/admin/people/{id}/delete", delete_submit, methods=["POST"]),
]
