"""Route-level access checks shared by the HTML and JSON routes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from trovato.errors import ServiceError
from trovato.files.service import FileError, FileRecord
from trovato.kernel.context import RequestContext, request_context
from trovato.users.accounts import CurrentUser


def require_permission(conn: HTTPConnection, permission: str) -> CurrentUser:
    """The current user if they hold ``permission``; otherwise 403, or 401 for an anonymous
    API caller (HTML pages answer 403 with a login link instead: 401 would need a
    WWW-Authenticate challenge a browser cannot meet)."""
    user = request_context(conn).current_user
    if user.can(permission):
        return user
    if not user.is_authenticated and conn.url.path.startswith("/api/"):
        raise ServiceError(401, "You must log in to do this.")
    raise ServiceError(403, f"You need the permission {permission!r} to do this.")


def require_login(conn: HTTPConnection) -> CurrentUser:
    user = request_context(conn).current_user
    if not user.is_authenticated:
        status = 401 if conn.url.path.startswith("/api/") else 403
        raise ServiceError(status, "You must log in to do this.")
    return user


async def readable_file(ctx: RequestContext, file_id: str) -> FileRecord:
    """The managed file, if the current user may read it (else 404 or 403): the files
    service's rule, with a private file's items read through the one item read path in the
    request's stage."""
    record = await ctx.kernel.files.get(file_id)
    if record is None:
        raise FileError(404, "There is no such file.")

    async def sees_any(item_ids: Sequence[uuid.UUID]) -> bool:
        return bool(item_ids) and bool(await ctx.kernel.content.query.load_many(
            ctx.current_user, item_ids, stage=ctx.stage))

    await ctx.kernel.files.check_read(ctx.current_user, record, sees_any=sees_any)
    return record
