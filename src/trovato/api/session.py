"""``/api/v1/session`` (log in and out with JSON), ``/api/v1/session/stage`` (the stage the
session works in) and ``/api/v1/users/me``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel, StrictModel
from trovato.api.routing import api_routes, operation, read_body
from trovato.errors import ServiceError
from trovato.kernel.access import require_login
from trovato.kernel.context import request_context
from trovato.stages import LIVE, StageError, is_live


class LoginBody(StrictModel):
    name: str = Field(min_length=1, max_length=60)
    # "pass" is a Python keyword; the JSON field keeps Drupal's name.
    password: str = Field(alias="pass", min_length=1, max_length=1024)


class User(ResponseModel):
    """The current user (anonymous: `authenticated` false)."""

    id: uuid.UUID
    name: str
    mail: str
    is_admin: bool
    authenticated: bool
    roles: list[uuid.UUID]
    permissions: list[str]
    created: datetime | None
    timezone: str


class LoginResult(ResponseModel):
    user: User
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` with unsafe requests.")


@operation("POST", "/api/v1/session", operation_id="login", summary="Log in", tag="Users",
           responses={200: LoginResult}, body=LoginBody, problems=(401,),
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


class SessionStageBody(StrictModel):
    stage: str = Field(min_length=1, max_length=64)


class SessionStage(ResponseModel):
    stage: str


@operation("GET", "/api/v1/session/stage", operation_id="sessionStage",
           summary="The stage the session works in", tag="Users",
           responses={200: SessionStage})
async def session_stage(request: Request) -> Response:
    require_login(request)
    session = request_context(request).session
    stage = session.get("stage") if session is not None and session.exists else None
    return JSON({"stage": stage or LIVE})


@operation("PUT", "/api/v1/session/stage", operation_id="switchSessionStage",
           summary="Switch the stage the session works in", tag="Users",
           responses={200: SessionStage}, body=SessionStageBody,
           description="Only a stage the user may use (like `X-Trovato-Stage`). A call with"
                       " an API token has no session: it names its stage per request with"
                       " `X-Trovato-Stage` (403).")
async def switch_session_stage(request: Request) -> Response:
    user = require_login(request)
    ctx = request_context(request)
    if ctx.auth_method != "session" or ctx.session is None:
        raise ServiceError(403, "An API token has no session: send X-Trovato-Stage with each"
                                " request instead.")
    body = await read_body(request, SessionStageBody)
    try:
        stage = await ctx.kernel.stage_desk.choose(user, body.stage)
    except StageError as exc:
        raise ServiceError(exc.status, exc.message, errors={"stage": exc.message}) from None
    if is_live(stage):
        ctx.session.pop("stage")
    else:
        ctx.session.set("stage", stage)
    return JSON({"stage": stage})


@operation("GET", "/api/v1/users/me", operation_id="currentUser",
           summary="The current user", tag="Users", responses={200: User})
async def me(request: Request) -> Response:
    return JSON(request_context(request).current_user.public())


routes = api_routes(login, logout, session_stage, switch_session_stage, me)
