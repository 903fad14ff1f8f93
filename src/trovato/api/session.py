"""``/api/v1/session`` (log in and out with JSON) and ``/api/v1/users/me``."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, StrictModel
from trovato.api.routing import api_routes, operation, read_body
from trovato.kernel.context import request_context


class LoginBody(StrictModel):
    name: str = Field(min_length=1, max_length=60)
    # "pass" is a Python keyword; the JSON field keeps Drupal's name.
    password: str = Field(alias="pass", min_length=1, max_length=1024)


@operation("POST", "/api/v1/session", operation_id="login", summary="Log in", tag="Users",
           responses={200: "LoginResult"}, body=LoginBody, problems=(401,),
           description="Needs no CSRF token. Later unsafe calls with the session cookie send"
                       " `csrf_token` as `X-CSRF-Token`.")
async def login(request: Request) -> Response:
    body = await read_body(request, LoginBody)
    ctx = request_context(request)
    user = await ctx.kernel.accounts.authenticate(body.name, body.password, ip=ctx.client_ip)
    assert ctx.session is not None
    ctx.session.login(user.id)
    return JSON({"user": user.public(), "csrf_token": ctx.session.csrf_token()})


@operation("DELETE", "/api/v1/session", operation_id="logout", summary="Log out",
           tag="Users", responses={204: None})
async def logout(request: Request) -> Response:
    ctx = request_context(request)
    if ctx.session is not None and ctx.session.exists:
        if ctx.current_user.is_authenticated:
            await ctx.kernel.accounts.record_logout(ctx.current_user, ip=ctx.client_ip)
        ctx.session.logout()
    return Response(status_code=204)


@operation("GET", "/api/v1/users/me", operation_id="currentUser",
           summary="The current user", tag="Users", responses={200: "User"})
async def me(request: Request) -> Response:
    return JSON(request_context(request).current_user.public())


routes = api_routes(login, logout, me)
