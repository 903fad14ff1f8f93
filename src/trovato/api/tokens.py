"""``/api/v1/tokens``: a user's own API tokens (create shows the secret once; list; revoke)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.routing import Param, api_routes, operation, read_body
from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context


class TokenBody(StrictModel):
    label: str = Field(min_length=1, max_length=100)


class Token(ResponseModel):
    id: uuid.UUID
    label: str
    prefix: str
    created: datetime
    last_used: datetime | None


class TokenCreated(Token):
    token: str = Field(description="The secret; shown only once.")


class TokenList(ResponseModel):
    tokens: list[Token]


@operation("POST", "/api/v1/tokens", operation_id="createToken",
           summary="Create an API token", tag="Tokens", responses={201: TokenCreated},
           body=TokenBody, problems=(409,))
async def create_token(request: Request) -> Response:
    user = require_permission(request, "use api tokens")
    body = await read_body(request, TokenBody)
    info, secret = await request_context(request).kernel.tokens.create(user.id, body.label)
    return JSON({**info.public(), "token": secret}, status_code=201)


@operation("GET", "/api/v1/tokens", operation_id="listTokens",
           summary="List own API tokens", tag="Tokens", responses={200: TokenList})
async def list_tokens(request: Request) -> Response:
    user = require_permission(request, "use api tokens")
    tokens = await request_context(request).kernel.tokens.for_user(user.id)
    return JSON({"tokens": [t.public() for t in tokens]})


@operation("DELETE", "/api/v1/tokens/{token_id}", operation_id="revokeToken",
           summary="Revoke an API token", tag="Tokens", responses={204: None},
           problems=(404,),
           params=(Param("token_id", "path", {"type": "string", "format": "uuid"},
                         "A token id"),))
async def revoke_token(request: Request) -> Response:
    user = require_permission(request, "use api tokens")
    token_id = parse_uuid(request.path_params["token_id"])
    if token_id is None or not await request_context(request).kernel.tokens.revoke(
        user.id, token_id
    ):
        raise ServiceError(404, "No such token.")
    return Response(status_code=204)


routes = api_routes(list_tokens, create_token, revoke_token)
