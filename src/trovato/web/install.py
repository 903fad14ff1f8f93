"""``/install``: the first-run wizard that creates the administrator (404 once one exists)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED, EXPIRED_STATUS
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.users.accounts import AccountError
from trovato.web._page import render_page

INSTALL_FORM = "install"


async def _ensure_open(request: Request) -> None:
    if await request_context(request).kernel.accounts.admin_exists():
        raise ServiceError(404, "The site is already installed.")


def _install_tree(site_name: str, min_length: int) -> RenderElement:
    return forms.form(INSTALL_FORM, "/install", {
        "welcome": el.markup(f"Welcome to {site_name}. Create the administrator account to"
                             " finish the installation.", tag="p", weight=-10),
        "name": {"#type": "textfield", "#name": "name", "#title": "Administrator name",
                 "#required": True, "#autocomplete": "username"},
        "mail": {"#type": "email", "#name": "mail", "#title": "E-mail address",
                 "#required": True, "#autocomplete": "email"},
        "pass": {"#type": "password", "#name": "pass", "#title": "Password", "#required": True,
                 "#autocomplete": "new-password",
                 "#description": f"At least {min_length} characters; not a common password;"
                                 " not containing the name."},
        "pass_confirm": {"#type": "password", "#name": "pass_confirm",
                         "#title": "Confirm password", "#required": True,
                         "#autocomplete": "new-password"},
        "actions": {"#type": "actions",
                    "submit": forms.submit("install", title="Create administrator")},
    })


async def _page(request: Request, tree: RenderElement, *,
                values: forms.FormValues | None = None, errors: dict[str, str] | None = None,
                status: int = 200, messages: list[tuple[str, str]] | None = None) -> Response:
    ctx = request_context(request)
    assert ctx.session is not None  # the pipeline's session stage ran
    content = ctx.kernel.forms.render(tree, csrf_token=ctx.session.csrf_token(),
                                      values=values, errors=errors)
    return await render_page(request, "form_page.html",
                       {"title": "Install Trovato", "content": content},
                       status_code=status, messages=messages, form=True)


async def _tree(request: Request) -> RenderElement:
    ctx = request_context(request)
    settings = ctx.kernel.settings
    tree = _install_tree(settings.site_name, settings.password_min_length)
    return await ctx.kernel.forms.build(tree, user=ctx.current_user)


async def install_form(request: Request) -> Response:
    await _ensure_open(request)
    return await _page(request, await _tree(request))


@form_post
async def install_submit(request: Request) -> Response:
    await _ensure_open(request)
    ctx = request_context(request)
    tree = await _tree(request)
    values = forms.read(tree, await request.form())
    if ctx.csrf_failed:
        return await _page(request, tree, values=values, status=EXPIRED_STATUS,
                           messages=[("error", EXPIRED)])
    errors = forms.check(tree, values)
    if not errors and values["pass"] != values["pass_confirm"]:
        errors["pass_confirm"] = "The passwords do not match."
    for key, message in (await ctx.kernel.forms.validate(tree, values,
                                                        user=ctx.current_user)).items():
        errors.setdefault(key, message)
    if not errors:
        try:
            user_id = await ctx.kernel.accounts.create(
                name=str(values["name"]).strip(),
                mail=str(values["mail"]).strip(),
                password=str(values["pass"]),
                is_admin=True,
                only_if_no_admin=True,
            )
        except AccountError as exc:
            # Not a conversion: a refused field is shown on the form, filled in again; only
            # a race with another installer is the page's own 404.
            if exc.message == "an administrator already exists":
                raise ServiceError(404, "The site is already installed.") from None
            errors[exc.field] = f"The {'password' if exc.field == 'pass' else exc.field} " \
                f"{exc.message}."
        else:
            assert ctx.session is not None
            ctx.session.login(user_id)
            return RedirectResponse("/", status_code=303)
    return await _page(request, tree, values=values, errors=errors, status=400)


routes = [
    Route("/install", install_form, methods=["GET"]),
    Route("/install", install_submit, methods=["POST"]),
]
