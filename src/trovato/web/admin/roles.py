"""Roles and the permission matrix (``/admin/people/roles``, ``/admin/people/permissions``;
permission ``administer permissions``).

The roles page lists the roles and adds one; each role can be renamed and, unless it is one of
the two built-in roles, deleted after a confirmation. The permission matrix is one form: a
table per provider of permissions (the kernel's "system", content, each plugin), a row per
permission, a column per role, a checkbox per cell with a visually hidden label ("Grant X to
Y"); restricted permissions carry a warning. Saving sets every shown role's permissions in one
transaction of the roles service (all or nothing). ``/admin/people/permissions/{role}`` is one
role's column. A permission the user does not hold is shown but cannot be changed by them: the
service refuses it, and the cell is disabled so the page says so before anyone tries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from itertools import groupby

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.ids import parse_uuid
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import ANONYMOUS_ROLE, AUTHENTICATED_ROLE, Permission
from trovato.users.roles import Role
from trovato.web._page import flash
from trovato.web.admin import require_admin
from trovato.web.admin._confirm import Done, act, checked, confirm_tree, submitted_ok
from trovato.web.admin.people import (
    PERMISSIONS,
    Tab,
    csrf_token,
    people_page,
    refusal,
    roles_service,
)

ROLE_FORM = "admin_role"
RENAME_FORM = "admin_role_rename"
DELETE_FORM = "admin_role_delete"
MATRIX_FORM = "admin_permissions"
ROLE_LABELS = {"name": "Role name"}
RESTRICTED = "Warning: give to trusted roles only."
_BUILTIN = (ANONYMOUS_ROLE, AUTHENTICATED_ROLE)


# -- the roles ----------------------------------------------------------------------------------


def _add_tree() -> RenderElement:
    return forms.form(ROLE_FORM, "/admin/people/roles", {
        "add": {"#type": "fieldset", "#title": "Add a role",
                "name": {"#type": "textfield", "#name": "name", "#title": "Role name",
                         "#required": True, "#maxlength": 64},
                "actions": {"#type": "actions", "add": forms.submit("add", title="Add role")}},
    })


def _roles_table(roles: Sequence[Role]) -> RenderElement:
    rows: list[list[str | RenderElement]] = []
    for role in roles:
        operations: dict[str, RenderElement] = {
            "permissions": el.link("Edit permissions", f"/admin/people/permissions/{role.id}",
                                   attributes={"aria-label": f"Edit permissions of {role.name}"})}
        if role.id not in _BUILTIN:
            operations["rename"] = el.link(
                "Rename", f"/admin/people/roles/{role.id}/edit",
                attributes={"aria-label": f"Rename {role.name}"})
            operations["delete"] = el.link(
                "Delete", f"/admin/people/roles/{role.id}/delete",
                attributes={"aria-label": f"Delete {role.name}"})
        rows.append([role.name, "Built-in" if role.is_builtin else "",
                     str(len(role.permissions)),
                     el.container(operations, tag="span", attributes={"class": "operations"})])
    return el.table(["Role", "Kind", "Permissions", "Operations"], rows,
                    attributes={"aria-label": "Roles"})  # the page's heading: no caption


async def _roles_page(request: Request, tree: RenderElement, *,
                      values: forms.FormValues | None = None,
                      errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    roles = await roles_service(request).all()
    content = (ctx.kernel.templates.render_tree(_roles_table(roles))
               + ctx.kernel.forms.render(tree, csrf_token=csrf_token(request), values=values,
                                         errors=errors, labels=ROLE_LABELS))
    return people_page(request, "Roles", content, tab="/admin/people/roles", status=status,
                       form=True)


async def roles_list(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    tree = await request_context(request).kernel.forms.build(_add_tree(), user=user)
    return await _roles_page(request, tree)


@form_post
async def role_add(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    tree = await request_context(request).kernel.forms.build(_add_tree(), user=user)

    async def add(values: forms.FormValues) -> Done:
        role = await roles_service(request).create(str(values["name"]), actor=user.id)
        return Done(f"The role “{role.name}” has been added.", "/admin/people/roles",
                    {"role_id": str(role.id)})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _roles_page(request, tree, values=values, errors=errors, status=status)

    return await act(request, tree, add, show, refused=_refusal)


def _refusal(exc: ServiceError) -> forms.FormErrors:
    return refusal(exc, ROLE_LABELS)


async def _role(request: Request, *, renamable: bool = True) -> Role:
    role_id = parse_uuid(request.path_params["id"])
    role = await roles_service(request).get(role_id) if role_id is not None else None
    if role is None:
        raise ServiceError(404, "No such role.")
    if renamable and role.id in _BUILTIN:
        raise ServiceError(404, f"The built-in role {role.name} cannot be renamed or deleted.")
    return role


def _rename_tree(role: Role) -> RenderElement:
    return forms.form(RENAME_FORM, f"/admin/people/roles/{role.id}/edit", {
        "name": {"#type": "textfield", "#name": "name", "#title": "Role name",
                 "#required": True, "#maxlength": 64, "#default_value": role.name},
        "actions": {"#type": "actions", "save": forms.submit("save", title="Save"),
                    "cancel": el.link("Cancel", "/admin/people/roles", weight=1,
                                      attributes={"class": "button"})},
    })


async def _rename_page(request: Request, role: Role, tree: RenderElement, *,
                       values: forms.FormValues | None = None,
                       errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors, labels=ROLE_LABELS)
    return people_page(request, f"Rename role {role.name}", content,
                       tab="/admin/people/roles", status=status, form=True)


async def rename_form(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    role = await _role(request)
    tree = await request_context(request).kernel.forms.build(_rename_tree(role), user=user)
    return await _rename_page(request, role, tree)


@form_post
async def rename_submit(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    role = await _role(request)
    tree = await request_context(request).kernel.forms.build(_rename_tree(role), user=user)

    async def rename(values: forms.FormValues) -> Done:
        renamed = await roles_service(request).rename(role.id, str(values["name"]),
                                                      actor=user.id)
        return Done(f"The role “{role.name}” is now called “{renamed.name}”.",
                    "/admin/people/roles", {"role_id": str(role.id)})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _rename_page(request, role, tree, values=values, errors=errors,
                                  status=status)

    return await act(request, tree, rename, show, refused=_refusal)


def _delete_tree(role: Role) -> RenderElement:
    return confirm_tree(
        DELETE_FORM, f"/admin/people/roles/{role.id}/delete",
        f"Are you sure you want to delete the role “{role.name}”? The accounts holding it lose"
        f" its {len(role.permissions)} permission(s). This cannot be undone.",
        "Delete role", "/admin/people/roles")


async def _delete_page(request: Request, role: Role, tree: RenderElement, *,
                       errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), errors=errors)
    return people_page(request, f"Delete role {role.name}", content,
                       tab="/admin/people/roles", status=status, form=True)


async def delete_form(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    role = await _role(request)
    tree = await request_context(request).kernel.forms.build(_delete_tree(role), user=user)
    return await _delete_page(request, role, tree)


@form_post
async def delete_submit(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    role = await _role(request)
    tree = await request_context(request).kernel.forms.build(_delete_tree(role), user=user)

    async def delete(values: forms.FormValues) -> Done:
        if not await roles_service(request).delete(role.id, actor=user.id):
            raise ServiceError(404, "No such role.")
        return Done(f"The role “{role.name}” has been deleted.", "/admin/people/roles",
                    {"role_id": str(role.id)})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _delete_page(request, role, tree, errors=errors, status=status)

    return await act(request, tree, delete, show)


# -- the permission matrix ----------------------------------------------------------------------


def cell_name(role: Role, permission: str) -> str:
    """The input of one cell of the matrix: ``grant[<role id>][<permission>]``."""
    return f"grant[{role.id}][{permission}]"


def provider_label(provider: str) -> str:
    if provider == "system":
        return "System"
    if provider == "content":
        return "Content"
    return f"Plugin {provider}"


def _row(permission: Permission, roles: Sequence[Role], user: CurrentUser,
         weight: int) -> RenderElement:
    about: dict[str, RenderElement] = {
        "title": el.markup(permission.title, tag="span",
                           attributes={"class": "permission__title"}),
        "name": el.markup(permission.name, tag="code", attributes={"class": "permission__name"}),
    }
    if permission.description:
        about["description"] = el.markup(permission.description, tag="small",
                                         attributes={"class": "description"})
    if permission.restricted:
        about["warning"] = el.markup(RESTRICTED, tag="small",
                                     attributes={"class": "permission__warning warning"})
    row: RenderElement = {"#type": "container", "#template": "container--permission_row",
                          "#weight": weight,
                          "about": el.container(about, tag="div")}
    for index, role in enumerate(roles):
        cell: RenderElement = {
            "#type": "checkbox", "#template": "checkbox--permission",
            "#name": cell_name(role, permission.name),
            "#title": f"Grant {permission.title} to {role.name}",
            "#default_value": "1" if permission.name in role.permissions else "",
            "#weight": index + 1,
        }
        if not user.can(permission.name):
            cell["#disabled"] = True  # the roles service refuses it anyway
        row[f"role_{index}"] = cell
    return row


def _matrix_tree(permissions: Sequence[Permission], roles: Sequence[Role], user: CurrentUser,
                 action: str) -> RenderElement:
    elements: dict[str, RenderElement] = {}
    ordered = sorted(permissions, key=lambda p: (
        {"system": 0, "content": 1}.get(p.provider, 2), p.provider, p.name))
    by_provider = groupby(ordered, key=lambda p: p.provider)
    for group, (provider, members) in enumerate(by_provider):
        head: RenderElement = {
            "#type": "container", "#template": "container--permission_head",
            "#weight": -1, "permission": el.markup("Permission")}
        for index, role in enumerate(roles):
            head[f"role_{index}"] = el.markup(role.name, weight=index + 1)
        table: RenderElement = {
            "#type": "container", "#template": "container--permission_table",
            "#title": f"{provider_label(provider)} permissions", "#weight": group,
            "head": head}
        for index, permission in enumerate(members):
            table[f"p{index}"] = _row(permission, roles, user, index)
        elements[f"provider_{group}"] = table
    elements["actions"] = {"#type": "actions", "#weight": 1000,
                           "save": forms.submit("save", title="Save permissions")}
    return forms.form(MATRIX_FORM, action, elements)


def _grants(tree: RenderElement, values: forms.FormValues, roles: Sequence[Role],
            permissions: Sequence[Permission]) -> dict[uuid.UUID, set[str]]:
    """Each role's permissions as the submitted matrix has them: a checked box grants, an
    unchecked one revokes; a disabled cell (the browser sends nothing for it) and a grant the
    matrix does not show (its plugin is disabled) keep what the role has."""
    grants = {role.id: set(role.permissions) for role in roles}
    cells = {cell_name(role, p.name): (role, p.name) for role in roles for p in permissions}
    for element in forms.inputs(tree):
        found = cells.get(element["#name"])
        if found is None or element.get("#disabled"):
            continue
        role, permission = found
        if values.get(element["#name"]) == "1":
            grants[role.id].add(permission)
        else:
            grants[role.id].discard(permission)
    return grants


async def _matrix(request: Request, role_id: str | None
                  ) -> tuple[list[Role], list[Permission], RenderElement, str]:
    """The roles and permissions shown, the built matrix form and the page's path."""
    ctx = request_context(request)
    roles = await roles_service(request).all()
    if role_id is not None:
        wanted = parse_uuid(role_id)
        roles = [r for r in roles if r.id == wanted]
        if not roles:
            raise ServiceError(404, "No such role.")
    path = "/admin/people/permissions" + (f"/{roles[0].id}" if role_id is not None else "")
    permissions = ctx.kernel.registry.all()
    tree = _matrix_tree(permissions, roles, ctx.current_user, path)
    return roles, permissions, await ctx.kernel.forms.build(tree, user=ctx.current_user), path


async def _matrix_page(request: Request, roles: Sequence[Role], tree: RenderElement, *,
                       single: bool, values: forms.FormValues | None = None,
                       errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors)
    title = f"Permissions of {roles[0].name}" if single else "Permissions"
    actions = [Tab("All roles", "/admin/people/permissions", False)] if single else []
    return people_page(request, title, content, tab="/admin/people/permissions",
                       status=status, form=True, actions=actions)


async def matrix_form(request: Request) -> Response:
    require_admin(request, PERMISSIONS)
    role_id = request.path_params.get("role")
    roles, _, tree, _ = await _matrix(request, role_id)
    return await _matrix_page(request, roles, tree, single=role_id is not None)


@form_post
async def matrix_submit(request: Request) -> Response:
    user = require_admin(request, PERMISSIONS)
    role_id = request.path_params.get("role")
    roles, permissions, tree, path = await _matrix(request, role_id)
    values, errors = await checked(request, tree, await request.form())
    status = 400
    if not errors:
        try:
            await roles_service(request).set_all_permissions(
                _grants(tree, values, roles, permissions), actor=user.id)
        except ServiceError as exc:
            errors, status = {"form": exc.message}, exc.status
        else:
            await submitted_ok(request, tree, values)
            flash(request, "status", "The permissions have been saved.")
            return RedirectResponse(path, status_code=303)
    return await _matrix_page(request, roles, tree, single=role_id is not None,
                              values=values, errors=errors, status=status)


routes = [
    Route("/admin/people/roles", roles_list, methods=["GET"]),
    Route("/admin/people/roles", role_add, methods=["POST"]),
    Route("/admin/people/roles/{id}/edit", rename_form, methods=["GET"]),
    Route("/admin/people/roles/{id}/edit", rename_submit, methods=["POST"]),
    Route("/admin/people/roles/{id}/delete", delete_form, methods=["GET"]),
    Route("/admin/people/roles/{id}/delete", delete_submit, methods=["POST"]),
    Route("/admin/people/permissions", matrix_form, methods=["GET"]),
    Route("/admin/people/permissions", matrix_submit, methods=["POST"]),
    Route("/admin/people/permissions/{role}", matrix_form, methods=["GET"]),
    Route("/admin/people/permissions/{role}", matrix_submit, methods=["POST"]),
]
