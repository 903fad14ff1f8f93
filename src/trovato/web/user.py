"""Account pages: ``/user/login``, ``/user/logout``, ``/user/{id}``."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.users.accounts import LoginError
from trovato.web._page import render_page


def _safe_destination(value: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


async def login_form(request: Request) -> Response:
    ctx = request_context(request)
    if ctx.current_user.is_authenticated:
        return RedirectResponse(_safe_destination(request.query_params.get("destination")), 303)
    return render_page(
        request,
        "login.html",
        {
            "title": "Log in",
            "name": "",
            "errors": {},
            "destination": request.query_params.get("destination", ""),
        },
        form=True,
    )


async def login_submit(request: Request) -> Response:
    ctx = request_context(request)
    form = await request.form()
    name = str(form.get("name") or "")[:60]
    password = str(form.get("pass") or "")
    destination = request.query_params.get("destination", "")
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "User name is required."
    if not password:
        errors["pass"] = "Password is required."
    status = 400
    message = "Please correct the errors below."
    if not errors:
        try:
            user = await ctx.kernel.accounts.authenticate(name, password, ip=ctx.client_ip)
        except LoginError as exc:
            # Not a conversion: the form is shown again with the refusal's status and message,
            # about the pair (or the account), not one field: said once, above the form.
            status, message = exc.status, str(exc)
        else:
            assert ctx.session is not None
            ctx.session.login(user.id)
            return RedirectResponse(_safe_destination(destination), status_code=303)
    return render_page(
        request,
        "login.html",
        {"title": "Log in", "name": name, "errors": errors, "destination": destination},
        status_code=status,
        messages=[("error", message)],
        form=True,
    )


async def logout(request: Request) -> Response:
    ctx = request_context(request)
    if ctx.session is not None and ctx.session.exists:
        if ctx.current_user.is_authenticated:
            await ctx.kernel.accounts.record_logout(ctx.current_user, ip=ctx.client_ip)
        ctx.session.logout()
    return RedirectResponse("/", status_code=303)


async def profile(request: Request) -> Response:
    ctx = request_context(request)
    user_id = parse_uuid(request.path_params["user_id"])
    viewer = ctx.current_user
    if user_id is None:
        raise ServiceError(404, "No such user.")
    if viewer.id != user_id:
        require_permission(request, "access user profiles")
    row = await ctx.kernel.db.fetchrow(
        "SELECT id, name, created, is_admin FROM users"
        " WHERE id = %s AND status = 1 AND name <> ''",
        (user_id,),
    )
    if row is None:
        raise ServiceError(404, "No such user.")
    return render_page(request, "user.html", {"title": row["name"], "account": row})


routes = [
    Route("/user/login", login_form, methods=["GET"]),
    Route("/user/login", login_submit, methods=["POST"]),
    Route("/user/logout", logout, methods=["POST"]),
    Route("/user/{user_id}", profile, methods=["GET"]),
]
