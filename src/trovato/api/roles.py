"""``/api/v1/permissions``, ``/api/v1/roles`` and ``/api/v1/users/{id}/roles``."""

from __future__ import annotations

import logging
import uuid

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.routing import DOCUMENTED_BY, Param, api_routes, operation, read_body
from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.plugins import PluginUser
from trovato.users.roles import Roles

log = logging.getLogger("trovato.api")


class RoleBody(StrictModel):
    name: str = Field(min_length=1, max_length=64)


class PermissionsBody(StrictModel):
    permissions: list[str] = Field(max_length=1000, json_schema_extra={
        "items": {DOCUMENTED_BY: "PermissionName"}})


class UserRolesBody(StrictModel):
    # Checked as existing role ids by the handler (a strict model takes no string as a UUID).
    roles: list[str] = Field(max_length=100, json_schema_extra={
        "items": {DOCUMENTED_BY: "RoleId"}})


class Role(ResponseModel):
    id: uuid.UUID
    name: str
    weight: int
    builtin: bool
    permissions: list[str]


class RoleList(ResponseModel):
    roles: list[Role]


class Permission(ResponseModel):
    name: str
    title: str
    description: str
    restricted: bool
    provider: str


class PermissionList(ResponseModel):
    permissions: list[Permission]


ROLE_ID = Param("role_id", "path", {"type": "string", "format": "uuid"}, "A role id")
USER_ID = Param("user_id", "path", {"type": "string", "format": "uuid"}, "A user id")


def _roles(request: Request) -> Roles:
    kernel = request_context(request).kernel
    return Roles(kernel.db, kernel.permissions)


def _uuid_param(request: Request, name: str) -> uuid.UUID:
    value = parse_uuid(request.path_params[name])
    if value is None:
        raise ServiceError(404, "Not found.")
    return value


@operation("GET", "/api/v1/permissions", operation_id="listPermissions",
           summary="List permissions", tag="Roles", responses={200: PermissionList})
async def list_permissions(request: Request) -> Response:
    require_permission(request, "administer permissions")
    registry = request_context(request).kernel.registry
    return JSON(
        {
            "permissions": [
                {
                    "name": p.name,
                    "title": p.title,
                    "description": p.description,
                    "restricted": p.restricted,
                    "provider": p.provider,
                }
                for p in registry.all()
            ]
        }
    )


@operation("GET", "/api/v1/roles", operation_id="listRoles", summary="List roles",
           tag="Roles", responses={200: RoleList})
async def list_roles(request: Request) -> Response:
    require_permission(request, "administer permissions")
    return JSON({"roles": [r.public() for r in await _roles(request).all()]})


@operation("POST", "/api/v1/roles", operation_id="createRole", summary="Create a role",
           tag="Roles", responses={201: Role}, body=RoleBody, problems=(409,))
async def create_role(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_body(request, RoleBody)
    role = await _roles(request).create(body.name, actor=user.id)
    return JSON(role.public(), status_code=201)


@operation("DELETE", "/api/v1/roles/{role_id}", operation_id="deleteRole",
           summary="Delete a role", tag="Roles", responses={204: None}, problems=(404, 409),
           params=(ROLE_ID,))
async def delete_role(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    deleted = await _roles(request).delete(_uuid_param(request, "role_id"), actor=user.id)
    if not deleted:
        raise ServiceError(404, "No such role.")
    return Response(status_code=204)


@operation("PUT", "/api/v1/roles/{role_id}/permissions", operation_id="setRolePermissions",
           summary="Set a role's permissions", tag="Roles", responses={200: Role},
           body=PermissionsBody, problems=(404,), params=(ROLE_ID,))
async def set_permissions(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_body(request, PermissionsBody)
    role = await _roles(request).set_permissions(
        _uuid_param(request, "role_id"), body.permissions, actor=user.id
    )
    return JSON(role.public())


@operation("PUT", "/api/v1/users/{user_id}/roles", operation_id="setUserRoles",
           summary="Set a user's roles", tag="Roles", responses={204: None},
           body=UserRolesBody, problems=(404,), params=(USER_ID,))
async def set_user_roles(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_body(request, UserRolesBody)
    role_ids = [parse_uuid(r) for r in body.roles]
    if any(r is None for r in role_ids):
        raise ServiceError(422, "Role ids must be UUIDs.", errors={"roles": "not a UUID"})
    await _roles(request).assign(
        _uuid_param(request, "user_id"),
        [r for r in role_ids if r is not None],
        actor=user.id,
    )
    kernel = request_context(request).kernel
    user_id = _uuid_param(request, "user_id")
    outcome = await kernel.taps.fire("user_update", {"user": {"id": str(user_id)}},
                                     user=PluginUser.from_current_user(user))
    for failure in outcome.failures:
        log.warning("user_update: plugin failed: %s", failure)
    return Response(status_code=204)


routes = api_routes(list_permissions, list_roles, create_role, delete_role, set_permissions,
                    set_user_roles)
