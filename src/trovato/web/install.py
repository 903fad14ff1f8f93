"""``/install``: the first-run wizard that creates the administrator (404 once one exists)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.kernel.context import request_context
from trovato.users.accounts import AccountError
from trovato.web._page import render_page


async def _ensure_open(request: Request) -> None:
    if await request_context(request).kernel.accounts.admin_exists():
        raise ServiceError(404, "The site is already installed.")


def _form(request: Request, values: dict[str, str], errors: dict[str, str],
          status: int = 200) -> Response:
    kernel = request_context(request).kernel
    return render_page(
        request,
        "install.html",
        {
            "title": "Install Trovato",
            "name": values.get("name", ""),
            "mail": values.get("mail", ""),
            "errors": errors,
            "min_length": kernel.settings.password_min_length,
        },
        status_code=status,
        messages=[("error", "Please correct the errors below.")] if errors else [],
        form=True,
    )


async def install_form(request: Request) -> Response:
    await _ensure_open(request)
    return _form(request, {}, {})


async def install_submit(request: Request) -> Response:
    await _ensure_open(request)
    ctx = request_context(request)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "mail", "pass", "pass_confirm")}
    errors: dict[str, str] = {}
    if values["pass"] != values["pass_confirm"]:
        errors["pass_confirm"] = "The passwords do not match."
    if not errors:
        try:
            user_id = await ctx.kernel.accounts.create(
                name=values["name"].strip(),
                mail=values["mail"].strip(),
                password=values["pass"],
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
    return _form(request, values, errors, status=400)


routes = [
    Route("/install", install_form, methods=["GET"]),
    Route("/install", install_submit, methods=["POST"]),
]
