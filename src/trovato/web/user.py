"""Account pages: ``/user/login``, ``/user/logout``, ``/user/{id}``.

The login form is built and shown by the form API like every form (so plugins may alter and
validate it; they never see the password)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED, EXPIRED_STATUS
from trovato.ids import parse_uuid
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render.elements import RenderElement
from trovato.users.accounts import LoginError
from trovato.users.registration import Registration, registration
from trovato.web._page import render_page

LOGIN_FORM = "user_login"
NAME_MAX = 60
REGISTER_LINK = Markup('<p><a href="/user/register">Create new account</a></p>')


def _safe_destination(value: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def _login_tree(destination: str) -> RenderElement:
    action = "/user/login" + (f"?destination={quote(destination, safe='')}" if destination
                              else "")
    return forms.form(LOGIN_FORM, action, {
        "name": {"#type": "textfield", "#name": "name", "#title": "User name",
                 "#required": True, "#maxlength": NAME_MAX, "#autocomplete": "username"},
        "pass": {"#type": "password", "#name": "pass", "#title": "Password",
                 "#required": True, "#autocomplete": "current-password"},
        "actions": {"#type": "actions", "submit": forms.submit("login", title="Log in")},
    })


async def _login_page(request: Request, tree: RenderElement, *,
                      values: forms.FormValues | None = None,
                      errors: dict[str, str] | None = None, status: int = 200,
                      messages: list[tuple[str, str]] | None = None) -> Response:
    ctx = request_context(request)
    assert ctx.session is not None  # the pipeline's session stage ran
    content = ctx.kernel.forms.render(tree, csrf_token=ctx.session.csrf_token(),
                                      values=values, errors=errors)
    if await registration(ctx.kernel.db) is not Registration.ADMINS_ONLY:
        content += REGISTER_LINK  # visitors may register: say where
    return await render_page(request, "form_page.html", {"title": "Log in", "content": content},
                       status_code=status, messages=messages, form=True)


async def login_form(request: Request) -> Response:
    ctx = request_context(request)
    destination = request.query_params.get("destination", "")
    if ctx.current_user.is_authenticated:
        return RedirectResponse(_safe_destination(destination), 303)
    tree = await ctx.kernel.forms.build(_login_tree(destination), user=ctx.current_user)
    return await _login_page(request, tree)


@form_post
async def login_submit(request: Request) -> Response:
    ctx = request_context(request)
    destination = request.query_params.get("destination", "")
    tree = await ctx.kernel.forms.build(_login_tree(destination), user=ctx.current_user)
    values = forms.read(tree, await request.form())
    if ctx.csrf_failed:
        return await _login_page(request, tree, values=values, status=EXPIRED_STATUS,
                                 messages=[("error", EXPIRED)])
    errors = forms.check(tree, values)
    for key, message in (await ctx.kernel.forms.validate(tree, values,
                                                        user=ctx.current_user)).items():
        errors.setdefault(key, message)
    if errors:
        return await _login_page(request, tree, values=values, errors=errors, status=400)
    name, password = str(values["name"]), str(values["pass"])
    try:
        user = await ctx.kernel.accounts.authenticate(name, password, ip=ctx.client_ip)
    except LoginError as exc:
        # Not a conversion: the form is shown again with the refusal's status and message,
        # about the pair (or the account), not one field: said once, above the form.
        return await _login_page(request, tree, values=values, status=exc.status,
                                 messages=[("error", str(exc))])
    assert ctx.session is not None
    ctx.session.login(user.id)
    return RedirectResponse(_safe_destination(destination), status_code=303)


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
    return await render_page(request, "user.html", {"title": row["name"], "account": row})


routes = [
    Route("/user/login", login_form, methods=["GET"]),
    Route("/user/login", login_submit, methods=["POST"]),
    Route("/user/logout", logout, methods=["POST"]),
    Route("/user/{user_id}", profile, methods=["GET"]),
]
