"""``/api/v1/permissions``, ``/api/v1/roles`` and ``/api/v1/users/{id}/roles``."""

from __future__ import annotations

import logging
import uuid

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.api._http import JSON, StrictModel, read_json
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.errors import ProblemError
from trovato.plugins import PluginUser
from trovato.users.permissions import UnknownPermissionError
from trovato.users.roles import RoleError, Roles

log = logging.getLogger("trovato.api")


class RoleBody(StrictModel):
    name: str = Field(min_length=1, max_length=64)


class PermissionsBody(StrictModel):
    permissions: list[str] = Field(max_length=1000)


class UserRolesBody(StrictModel):
    roles: list[str] = Field(max_length=100)


def _roles(request: Request) -> Roles:
    kernel = request_context(request).kernel
    return Roles(kernel.db, kernel.permissions)


def _uuid_param(request: Request, name: str) -> uuid.UUID:
    value = parse_uuid(request.path_params[name])
    if value is None:
        raise ProblemError(404, "Not found.")
    return value


def _problem(exc: RoleError) -> ProblemError:
    return ProblemError(exc.status, exc.message, errors={exc.field: exc.message})


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


async def list_roles(request: Request) -> Response:
    require_permission(request, "administer permissions")
    return JSON({"roles": [r.public() for r in await _roles(request).all()]})


async def create_role(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_json(request, RoleBody)
    try:
        role = await _roles(request).create(body.name, actor=user.id)
    except RoleError as exc:
        raise _problem(exc) from None
    return JSON(role.public(), status_code=201)


async def delete_role(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    try:
        deleted = await _roles(request).delete(_uuid_param(request, "role_id"), actor=user.id)
    except RoleError as exc:
        raise _problem(exc) from None
    if not deleted:
        raise ProblemError(404, "No such role.")
    return Response(status_code=204)


async def set_permissions(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_json(request, PermissionsBody)
    try:
        role = await _roles(request).set_permissions(
            _uuid_param(request, "role_id"), body.permissions, actor=user.id
        )
    except RoleError as exc:
        raise _problem(exc) from None
    except UnknownPermissionError as exc:
        raise ProblemError(422, str(exc), errors={"permissions": str(exc)}) from None
    return JSON(role.public())


async def set_user_roles(request: Request) -> Response:
    user = require_permission(request, "administer permissions")
    body = await read_json(request, UserRolesBody)
    role_ids = [parse_uuid(r) for r in body.roles]
    if any(r is None for r in role_ids):
        raise ProblemError(422, "Role ids must be UUIDs.", errors={"roles": "not a UUID"})
    try:
        await _roles(request).assign(
            _uuid_param(request, "user_id"),
            [r for r in role_ids if r is not None],
            actor=user.id,
        )
    except RoleError as exc:
        raise _problem(exc) from None
    kernel = request_context(request).kernel
    user_id = _uuid_param(request, "user_id")
    outcome = await kernel.taps.fire("user_update", {"user": {"id": str(user_id)}},
                                     user=PluginUser.from_current_user(user))
    for failure in outcome.failures:
        log.warning("user_update: plugin failed: %s", failure)
    return Response(status_code=204)


routes = [
    Route("/api/v1/permissions", list_permissions, methods=["GET"]),
    Route("/api/v1/roles", list_roles, methods=["GET"]),
    Route("/api/v1/roles", create_role, methods=["POST"]),
    Route("/api/v1/roles/{role_id}", delete_role, methods=["DELETE"]),
    Route("/api/v1/roles/{role_id}/permissions", set_permissions, methods=["PUT"]),
    Route("/api/v1/users/{user_id}/roles", set_user_roles, methods=["PUT"]),
]
