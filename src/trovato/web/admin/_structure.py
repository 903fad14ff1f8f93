"""What the structure screens (item types and their fields) share: the steps of one admin form
through the form API, the type's tabs, and turning a service refusal into form errors.

Every form of these screens goes the same way as the item form (:mod:`trovato.web.item_edit`):
a GET makes its state and renders it (sealed in the build id: nothing stored); a POST reads
that state (an expired or a foreign one shows the form again with what was typed, saying why,
and saves nothing), rebuilds the tree from the server's data, reads the values from the tree,
checks them (the input types' checks, the screen's own, ``form_validate``), and only then
calls the item-type service, whose refusals are shown next to the inputs they are about. A
success tells ``form_submit``, flashes a message and redirects (303). Each screen says whether
its build id is accepted once: its change runs in :func:`once` (``acting`` of the item form).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trovato.content.services import ContentServices
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.item_form import sentence
from trovato.forms.state import FormState
from trovato.kernel.context import request_context
from trovato.render.elements import RenderElement
from trovato.users.accounts import CurrentUser
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.item_edit import TAMPERED, Refused, acting, load_state, session_token

PERMISSION = "administer content types"
TYPES_PATH = "/admin/structure/types"


def administrator(request: Request) -> CurrentUser:
    """The current user if they may change item types (403 otherwise)."""
    return require_admin(request, PERMISSION)


def content(request: Request) -> ContentServices:
    services: ContentServices = request_context(request).kernel.content
    return services


async def item_type(request: Request) -> ItemType:
    """The type the path names, read now (404 when there is none)."""
    found = await content(request).types.get(request.path_params["type"])
    if found is None:
        raise ServiceError(404, "There is no such item type.")
    return found


def type_path(item_type: ItemType) -> str:
    return f"{TYPES_PATH}/{item_type.type}"


def type_tabs(item_type: ItemType, current: str) -> list[dict[str, Any]]:
    """The tabs of one type's pages: its fields, its settings, deleting it."""
    base = type_path(item_type)
    tabs = [("fields", "Manage fields", f"{base}/fields"), ("edit", "Edit", base),
            ("delete", "Delete", f"{base}/delete")]
    return [{"title": title, "href": href, "current": key == current}
            for key, title, href in tabs]


def page(request: Request, *, title: str, parts: list[Markup],
         about: ItemType | None = None, tab: str = "", status: int = 200,
         messages: list[tuple[str, str]] | None = None, form: bool = False,
         field_order: bool = False) -> Response:
    """A structure page: the admin layout, the tabs of the type it is ``about`` (``tab``
    current), then ``parts`` in order (``field_order``: with the script enhancing the field
    order form). A type a plugin declares says that the plugin's declaration wins."""
    shown = list(messages or [])
    if about is not None and about.plugin:
        shown.append(("warning", f"The plugin {about.plugin} declares this item type: when"
                                 " it is enabled again or updated, its declaration replaces"
                                 " changes made here."))
    return render_admin(request, "admin/structure.html",
                        {"title": title, "parts": parts,
                         "tabs": type_tabs(about, tab) if about is not None else [],
                         "field_order": field_order},
                        status_code=status, messages=shown, form=form)


@dataclass(slots=True)
class Received:
    """A submission of one form: its state, the tree rebuilt from it, the values read from
    the tree, and the message (and status) to show when the submission may not be handled:
    its state expired or was not this form's, or its CSRF token was missing or stale."""

    state: FormState
    tree: RenderElement
    values: forms.FormValues
    expired: str | None
    submitted: Any
    expired_status: int = 400


Build = Callable[[FormState], Awaitable[RenderElement]]


async def open_form(request: Request, form_id: str, data: Mapping[str, Any],
                    build: Build) -> tuple[FormState, RenderElement]:
    """A new state for one rendering of ``form_id`` and its tree (after ``form_alter``)."""
    ctx = request_context(request)
    state = ctx.kernel.forms.states.create(form_id, session_token(ctx), data)
    return state, await build(state)


def render_tree(request: Request, tree: RenderElement) -> Markup:
    """A kernel-built tree (a table, a link) as HTML."""
    return request_context(request).kernel.templates.render_tree(tree)


async def altered(request: Request, tree: RenderElement) -> RenderElement:
    """``tree`` after the plugins' ``form_alter``."""
    ctx = request_context(request)
    return await ctx.kernel.forms.build(tree, user=ctx.current_user)


async def receive(request: Request, form_id: str, fresh: Mapping[str, Any],
                  build: Build) -> Received:
    """Load the submission's state (it must be about what ``fresh`` names: the same type and
    field), rebuild the tree and read the values from it. A state that is not this form's
    (another form's, another session's, another type's) is refused like an expired one: the
    form is shown again in a new state made of ``fresh``, with what was typed, saying why."""
    submitted = await request.form()
    try:
        state, refused = await load_state(request, form_id, submitted, fresh)
    except ServiceError as exc:
        if exc.message != TAMPERED:
            raise
        state, refused = None, Refused(TAMPERED, 400)
    if state is None or any(state.data.get(key) != fresh.get(key) for key in ("type", "field")):
        ctx = request_context(request)
        state = ctx.kernel.forms.states.create(form_id, session_token(ctx), fresh)
        refused = Refused(TAMPERED, 400)
    tree = await build(state)
    return Received(state, tree, forms.read(tree, submitted),
                    refused.message if refused else None, submitted,
                    refused.status if refused else 400)


def once(request: Request, received: Received) -> AbstractAsyncContextManager[None]:
    """Where the change of a checked submission of a form accepted once runs: its build id
    is marked used right before, atomically (``expired``, :class:`FormStateError`, when
    another submission did), and given back when the service refuses the change (see
    :func:`~trovato.web.item_edit.acting`)."""
    return acting(request, received.state)


async def check(request: Request, received: Received,
                own: Mapping[str, str] | None = None) -> forms.FormErrors:
    """Every error of the submission: the screen's ``own``, the input types' checks and the
    plugins' ``form_validate``, the first message per input."""
    ctx = request_context(request)
    errors: forms.FormErrors = dict(own or {})
    for key, message in forms.check(received.tree, received.values).items():
        errors.setdefault(key, message)
    for key, message in (await ctx.kernel.forms.validate(
            received.tree, received.values, user=ctx.current_user)).items():
        errors.setdefault(key, message)
    return errors


def render_form(request: Request, tree: RenderElement, state: FormState, *,
                values: forms.FormValues | None = None,
                errors: Mapping[str, str] | None = None,
                labels: Mapping[str, str] | None = None) -> Markup:
    ctx = request_context(request)
    return ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), state=state,
                                   values=values, errors=errors, labels=labels)


def sentences(errors: Mapping[str, str], titles: Mapping[str, str]) -> dict[str, str]:
    """Service messages (``is required``) as sentences naming their input (``Label is
    required.``); messages that are sentences already stay as they are."""
    return {key: sentence(key, message, titles) for key, message in errors.items()}


def titles(tree: RenderElement) -> dict[str, str]:
    """Each input's title by its error key: what a service message is about."""
    found: dict[str, str] = {}
    for element in forms.walk(tree):
        key, title = forms.error_key(element), element.get("#title")
        if key is not None and isinstance(title, str):
            found.setdefault(key, title)
    return found


async def finish(request: Request, received: Received, *, message: str, location: str,
                 result: Mapping[str, Any] | None = None) -> Response:
    """After the service succeeded: tell the plugins, flash ``message`` and redirect to
    ``location``."""
    ctx = request_context(request)
    for failure in await ctx.kernel.forms.submitted(received.tree, received.values,
                                                    user=ctx.current_user, result=result):
        flash(request, "warning", failure)
    flash(request, "status", message)
    return RedirectResponse(location, status_code=303)


def cancel_link(href: str) -> RenderElement:
    """The way back from a form, beside its buttons."""
    return {"#type": "link", "#text": "Cancel", "#href": href, "#weight": 1,
            "#attributes": {"class": "button"}}
