"""``DELETE /api/v1/users/{user_id}``: delete an account (content reassigned to Anonymous)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from trovato.api.routing import Param, api_routes, operation
from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context


@operation("DELETE", "/api/v1/users/{user_id}", operation_id="deleteUser",
           summary="Delete a user", tag="Users", responses={204: None},
           problems=(404, 409, 422),
           params=(Param("user_id", "path", {"type": "string", "format": "uuid"}, "A user id"),),
           description="Needs `administer users`. The user's items and revisions are"
                       " reassigned to the anonymous user and their API tokens revoked. 422:"
                       " the anonymous user; 409: the last administrator, or a plugin refused"
                       " (`user_delete`).")
async def delete_user(request: Request) -> Response:
    actor = require_permission(request, "administer users")
    user_id = parse_uuid(request.path_params["user_id"])
    if user_id is None:
        raise ServiceError(404, "No such user.")
    kernel = request_context(request).kernel
    deleted = await kernel.accounts.delete(user_id, actor=actor.id)
    if deleted.reassigned_items:
        await kernel.page_cache.invalidate(
            [f"item:{item_id}" for item_id in deleted.reassigned_items])
    return Response(status_code=204)


routes = api_routes(delete_user)
