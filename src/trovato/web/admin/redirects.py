"""URL redirects (``/admin/config/search/redirect``, as Drupal's Redirect module; permission
``administer redirects``): the redirects by source, 50 to a page, a form adding one, a form
editing each and a confirmed deletion.

Thin: every check (what a source and a destination may be, loops, a source redirected twice)
is the redirect service's (:class:`trovato.routing.Redirects`), whose messages are shown next
to the input they name with what was typed.
"""

from __future__ import annotations

from typing import Final

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.ids import parse_uuid
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.routing import Redirect, Redirects
from trovato.routing.redirects import (
    ADMINISTER_REDIRECTS,
    DEFAULT_STATUS,
    DESTINATION_MAX,
    SOURCE_MAX,
    STATUS_CODES,
)
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act, confirm_tree
from trovato.web.admin.people import csrf_token, refusal

BASE: Final = "/admin/config/search/redirect"
LABELS: Final = {"source": "From", "destination": "To", "status_code": "Redirect status"}
MAX_PAGE: Final = 100_000


def _redirects(request: Request) -> Redirects:
    redirects: Redirects = request_context(request).kernel.redirects
    return redirects


def _form(action: str, redirect: Redirect | None) -> RenderElement:
    return forms.form("redirect_edit" if redirect else "redirect_add", action, {
        "source": {"#type": "textfield", "#name": "source", "#title": LABELS["source"],
                   "#required": True, "#maxlength": SOURCE_MAX,
                   "#default_value": redirect.source if redirect else "",
                   "#description": "The old path of this site, such as /old-page: no query"
                   " string, and none of the site's own addresses (/admin, /api, /user …)."
                   " It redirects only where no page answers."},
        "destination": {"#type": "textfield", "#name": "destination",
                        "#title": LABELS["destination"], "#required": True,
                        "#maxlength": DESTINATION_MAX,
                        "#default_value": redirect.destination if redirect else "",
                        "#description": "A path of this site (/new-page, with a query string"
                        " if needed) or an address starting with http:// or https://."},
        "status_code": {"#type": "select", "#name": "status_code",
                        "#title": LABELS["status_code"], "#required": True,
                        "#options": {str(code): label for code, label in STATUS_CODES.items()},
                        "#default_value": str(redirect.status_code if redirect
                                              else DEFAULT_STATUS),
                        "#description": "301 for an address that moved for good; 302 or 307"
                        " for a while."},
        "actions": {"#type": "actions",
                    "save": forms.submit("save", title="Save redirect")},
    })


def _page(request: Request, title: str, parts: list[Markup], status: int = 200) -> Response:
    return render_admin(request, "admin/layout.html",
                        {"title": title, "content": Markup("").join(parts)},
                        status_code=status, form=True)


def _render(request: Request, tree: RenderElement, values: forms.FormValues | None = None,
            errors: forms.FormErrors | None = None) -> Markup:
    return request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors, labels=LABELS)


def _refused(exc: ServiceError) -> forms.FormErrors:
    return refusal(exc, LABELS)


def _page_number(raw: str | None) -> int:
    """The 0-based page of ``?page=``: anything but a number is the first."""
    if raw is None or not raw.isdigit() or len(raw) > 6:
        return 0
    return min(int(raw), MAX_PAGE)


async def list_redirects(request: Request) -> Response:
    require_admin(request, ADMINISTER_REDIRECTS)
    ctx = request_context(request)
    listing = await _redirects(request).page(_page_number(request.query_params.get("page")))
    rows: list[list[str | RenderElement]] = [
        [redirect.source, redirect.destination, str(redirect.status_code),
         el.container({
             "edit": el.link("Edit", f"{BASE}/{redirect.id}",
                             attributes={"aria-label": f"Edit the redirect from"
                                                       f" {redirect.source}"}),
             "delete": el.link("Delete", f"{BASE}/{redirect.id}/delete", weight=1,
                               attributes={"aria-label": f"Delete the redirect from"
                                                         f" {redirect.source}"})},
             tag="span", attributes={"class": "operations"})]
        for redirect in listing.redirects]
    tree = el.container({
        "add": el.container({"link": el.link("Add redirect", f"{BASE}/add",
                                             attributes={"class": "button"})}, tag="p"),
        "table": el.table(["From", "To", "Status", "Operations"], rows, weight=1,
                          caption=f"Redirects by source ({listing.total} in all)",
                          empty="There are no redirects yet."),
        "pager": el.pager(listing.page, listing.pages, href=BASE, weight=2),
    })
    return _page(request, "URL redirects", [ctx.kernel.templates.render_tree(tree)])


async def _add_tree(request: Request) -> RenderElement:
    ctx = request_context(request)
    return await ctx.kernel.forms.build(_form(f"{BASE}/add", None), user=ctx.current_user)


async def add_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_REDIRECTS)
    return _page(request, "Add redirect", [_render(request, await _add_tree(request))])


@form_post
async def add_redirect(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_REDIRECTS)
    tree = await _add_tree(request)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, "Add redirect", [_render(request, tree, values, errors)], status)

    async def change(values: forms.FormValues) -> Done:
        made = await _redirects(request).create(
            values["source"], values["destination"], values["status_code"], actor=user.id)
        return Done(f"Saved the redirect from {made.source} to {made.destination}.", BASE,
                    {"redirect": str(made.id)})

    return await act(request, tree, change, show, refused=_refused)


async def _redirect_of_path(request: Request) -> Redirect:
    redirect_id = parse_uuid(request.path_params["id"])
    if redirect_id is None:
        raise ServiceError(404, "There is no such redirect.")
    return await _redirects(request).require(redirect_id)


async def _edit(request: Request) -> tuple[Redirect, RenderElement]:
    ctx = request_context(request)
    redirect = await _redirect_of_path(request)
    tree = await ctx.kernel.forms.build(_form(f"{BASE}/{redirect.id}", redirect),
                                        user=ctx.current_user)
    return redirect, tree


def _edit_title(redirect: Redirect) -> str:
    return f"Edit the redirect from {redirect.source}"


async def edit_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_REDIRECTS)
    redirect, tree = await _edit(request)
    return _page(request, _edit_title(redirect), [_render(request, tree)])


@form_post
async def save_redirect(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_REDIRECTS)
    redirect, tree = await _edit(request)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, _edit_title(redirect), [_render(request, tree, values, errors)],
                     status)

    async def change(values: forms.FormValues) -> Done:
        saved = await _redirects(request).update(
            redirect.id, values["source"], values["destination"], values["status_code"],
            actor=user.id)
        return Done(f"Saved the redirect from {saved.source} to {saved.destination}.", BASE,
                    {"redirect": str(saved.id)})

    return await act(request, tree, change, show, refused=_refused)


async def _confirm(request: Request) -> tuple[Redirect, RenderElement]:
    ctx = request_context(request)
    redirect = await _redirect_of_path(request)
    tree = confirm_tree("redirect_delete", f"{BASE}/{redirect.id}/delete",
                        f"Delete the redirect from {redirect.source} to"
                        f" {redirect.destination}?", "Delete", BASE,
                        consequence=f"{redirect.source} is then not found, unless a page"
                                    " answers there.")
    return redirect, await ctx.kernel.forms.build(tree, user=ctx.current_user)


def _delete_title(redirect: Redirect) -> str:
    return f"Delete the redirect from {redirect.source}"


async def confirm_delete(request: Request) -> Response:
    require_admin(request, ADMINISTER_REDIRECTS)
    redirect, tree = await _confirm(request)
    return _page(request, _delete_title(redirect), [_render(request, tree)])


@form_post
async def delete_redirect(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_REDIRECTS)
    redirect, tree = await _confirm(request)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, _delete_title(redirect), [_render(request, tree, values, errors)],
                     status)

    async def change(values: forms.FormValues) -> Done:
        removed = await _redirects(request).delete(redirect.id, actor=user.id)
        return Done(f"Deleted the redirect from {removed.source}.", BASE)

    return await act(request, tree, change, show)


routes = [
    Route(BASE, list_redirects, methods=["GET"]),
    Route(BASE + "/add", add_form, methods=["GET"]),
    Route(BASE + "/add", add_redirect, methods=["POST"]),
    Route(BASE + "/{id}", edit_form, methods=["GET"]),
    Route(BASE + "/{id}", save_redirect, methods=["POST"]),
    Route(BASE + "/{id}/delete", confirm_delete, methods=["GET"]),
    Route(BASE + "/{id}/delete", delete_redirect, methods=["POST"]),
]
