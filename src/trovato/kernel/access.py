"""Route-level access checks shared by the HTML and JSON routes."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from trovato.errors import ServiceError
from trovato.kernel.context import request_context
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
