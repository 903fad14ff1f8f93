"""Submitting an admin form that changes one thing, and the confirmation of a destructive one.

Renaming or deleting a role, deleting a tag, deleting a Gather listing: each screen builds its
form, then every submission goes the same way (:func:`act`): the values are read from the
tree and checked (the input types' checks and ``form_validate``; a missing or stale CSRF
token gets only "the form has expired" and changes nothing); the screen's change runs; a
service's refusal is shown on the form with what was typed, a success tells ``form_submit``,
flashes its message and redirects (303). A destructive change first asks
(:func:`confirm_tree`): what it does, what it removes, the button doing it and a way back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.kernel.context import request_context
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web._page import flash


@dataclass(frozen=True, slots=True)
class Done:
    """What a successful change says (``message``), where it goes next (``location``) and
    what ``form_submit`` hears about it (``result``)."""

    message: str
    location: str
    result: Mapping[str, Any] = field(default_factory=dict)


Change = Callable[[forms.FormValues], Awaitable[Done]]
Show = Callable[[forms.FormValues, forms.FormErrors, int], Awaitable[Response]]
Refusal = Callable[[ServiceError], forms.FormErrors]


def whole_form(exc: ServiceError) -> forms.FormErrors:
    """A refusal about the form as a whole (shown in the summary above it)."""
    return {"form": exc.message}


def confirm_tree(form_id: str, action: str, question: str, button: str, cancel: str, *,
                 consequence: str | None = None) -> RenderElement:
    """A confirmation form: the question, what the change removes, the button doing it and a
    link back."""
    elements: dict[str, RenderElement] = {
        "question": el.markup(question, tag="p", attributes={"class": "confirm__question"}),
        "actions": {"#type": "actions", "#weight": 10,
                    "confirm": forms.submit("confirm", title=button),
                    "cancel": el.link("Cancel", cancel, weight=1,
                                      attributes={"class": "button"})},
    }
    if consequence:
        elements["consequence"] = el.markup(
            consequence, tag="p", weight=1,
            attributes={"class": "confirm__consequence messages warning"})
    return forms.form(form_id, action, elements)


async def checked(request: Request, tree: RenderElement, submitted: FormData
                  ) -> tuple[forms.FormValues, forms.FormErrors]:
    """The values of a submission read from ``tree`` and their errors: every input type's
    own checks, then the plugins' (``form_validate``). A submission whose CSRF token was
    missing or stale (a :func:`~trovato.kernel.csrf.form_post` route) gets only the
    "expired" error: the form is shown again with what was typed and nothing is changed."""
    ctx = request_context(request)
    values = forms.read(tree, submitted)
    if ctx.csrf_failed:
        return values, {"form": EXPIRED}
    errors = forms.check(tree, values)
    for key, message in (await ctx.kernel.forms.validate(
            tree, values, user=ctx.current_user)).items():
        errors.setdefault(key, message)
    return values, errors


async def submitted_ok(request: Request, tree: RenderElement, values: forms.FormValues,
                       result: Mapping[str, Any] | None = None) -> None:
    """After a successful change: tell the plugins (``form_submit``); say which failed."""
    ctx = request_context(request)
    for failure in await ctx.kernel.forms.submitted(tree, values, user=ctx.current_user,
                                                    result=result):
        flash(request, "warning", failure)


async def act(request: Request, tree: RenderElement, change: Change, show: Show, *,
              refused: Refusal = whole_form) -> Response:
    """Handle one submission of ``tree`` (module docstring): ``change`` runs only for a
    submission without errors; ``show`` draws the form again (values, errors, status) when
    it did not succeed. A refusal saying the thing is gone or out of reach (403, 404) is the
    kernel's error page, not a form error."""
    values, errors = await checked(request, tree, await request.form())
    status = 400
    if not errors:
        try:
            done = await change(values)
        except ServiceError as exc:
            if exc.status in (403, 404):
                raise
            errors, status = refused(exc), exc.status
        else:
            await submitted_ok(request, tree, values, done.result)
            flash(request, "status", done.message)
            return RedirectResponse(done.location, status_code=303)
    return await show(values, errors, status)
