"""``/user/register``: visitors create their own account, when the site lets them.

Who may register is the site's choice (:mod:`trovato.users.registration`, set at
``/admin/people/settings``): administrators only (the page answers 404: registration is
closed), visitors, or visitors with the administrator's approval (the account is created
blocked). The account is created by the accounts service (name and mail free, the password
policy); an active one is logged in at once. Requests are rate-limited by the pipeline, as
every state-changing request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render.elements import RenderElement
from trovato.users.accounts import ACTIVE, BLOCKED
from trovato.users.registration import Registration, registration
from trovato.web._page import flash, render_page
from trovato.web.admin._confirm import checked
from trovato.web.admin.people import ACCOUNT_LABELS, NAME_MAX, csrf_token, refusal

REGISTER_FORM = "user_register"
CLOSED = "Registration is closed: only administrators create accounts on this site."


def _tree() -> RenderElement:
    return forms.form(REGISTER_FORM, "/user/register", {
        "name": {"#type": "textfield", "#name": "name", "#title": "User name",
                 "#required": True, "#maxlength": NAME_MAX, "#autocomplete": "username"},
        "mail": {"#type": "email", "#name": "mail", "#title": "E-mail address",
                 "#required": True, "#maxlength": 254, "#autocomplete": "email"},
        "pass": {"#type": "password", "#name": "pass", "#title": "Password",
                 "#required": True, "#autocomplete": "new-password"},
        "pass_confirm": {"#type": "password", "#name": "pass_confirm",
                         "#title": "Confirm password", "#required": True,
                         "#autocomplete": "new-password"},
        "actions": {"#type": "actions",
                    "register": forms.submit("register", title="Create new account")},
    })


async def _open(request: Request) -> Registration:
    """Who may register; 404 when nobody may (and a logged-in user goes home)."""
    choice = await registration(request_context(request).kernel.db)
    if choice is Registration.ADMINS_ONLY:
        raise ServiceError(404, CLOSED)
    return choice


async def _page(request: Request, tree: RenderElement, choice: Registration, *,
                values: forms.FormValues | None = None, errors: forms.FormErrors | None = None,
                status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors,
        labels=ACCOUNT_LABELS)
    notes = ([("status", "An administrator must approve your account before you can log in.")]
             if choice is Registration.APPROVAL else [])
    return await render_page(request, "form_page.html", {"title": "Create new account",
                                                   "content": content},
                       status_code=status, messages=notes, form=True)


async def register_form(request: Request) -> Response:
    ctx = request_context(request)
    choice = await _open(request)
    if ctx.current_user.is_authenticated:
        return RedirectResponse(f"/user/{ctx.current_user.id}", status_code=303)
    tree = await ctx.kernel.forms.build(_tree(), user=ctx.current_user)
    return await _page(request, tree, choice)


@form_post
async def register_submit(request: Request) -> Response:
    ctx = request_context(request)
    choice = await _open(request)
    if ctx.current_user.is_authenticated:
        return RedirectResponse(f"/user/{ctx.current_user.id}", status_code=303)
    tree = await ctx.kernel.forms.build(_tree(), user=ctx.current_user)
    values, errors = await checked(request, tree, await request.form())
    if values.get("pass") != values.get("pass_confirm"):
        errors.setdefault("pass_confirm", "The two passwords do not match.")
    status = 400
    if not errors:
        active = choice is Registration.VISITORS
        try:
            user_id = await ctx.kernel.accounts.create(
                name=str(values["name"]), mail=str(values["mail"]), password=str(values["pass"]),
                status=ACTIVE if active else BLOCKED)
        except ServiceError as exc:
            errors, status = refusal(exc, ACCOUNT_LABELS), exc.status
        else:
            if active:
                assert ctx.session is not None
                ctx.session.login(user_id)  # first: logging in starts the session afresh
            for failure in await ctx.kernel.forms.submitted(
                    tree, values, user=ctx.current_user, result={"user_id": str(user_id)}):
                flash(request, "warning", failure)
            if not active:
                flash(request, "status", "Thank you for registering. Your account is waiting"
                      " for an administrator's approval; you can log in once it is approved.")
                return RedirectResponse("/", status_code=303)
            flash(request, "status", f"Welcome, {values['name']}: your account has been"
                  " created and you are logged in.")
            return RedirectResponse(f"/user/{user_id}", status_code=303)
    return await _page(request, tree, choice, values=values, errors=errors, status=status)


routes = [
    Route("/user/register", register_form, methods=["GET"]),
    Route("/user/register", register_submit, methods=["POST"]),
]
