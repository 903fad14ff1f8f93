"""The form service: the steps every kernel form goes through, with the plugins' taps.

1. **build** — the form's owner builds its tree (data, :mod:`trovato.forms.form`);
2. ``form_alter`` — plugins patch the tree (merge patches, like every alter tap); a tree any
   plugin changed is sanitized as untrusted output before it goes further;
3. **render** — the kernel adds the session's CSRF token and the build id sealing the form's
   state (:mod:`trovato.forms.state`), the submitted values and the errors, and the theme
   draws it;
4. on submission: the values are read from the (rebuilt and re-altered) tree, checked
   (:func:`~trovato.forms.form.check`), then ``form_validate`` — plugins return errors;
5. after the owner's own submit handler succeeded: ``form_submit``;
6. a **rebuild** — a button that changes the form, not saves it ("Add another value"): the
   owner changes the form's state and builds the tree again, ``form_ajax`` lets plugins add to
   the rebuilt part (:meth:`Forms.ajax`), and the whole form is shown again (without
   JavaScript) or only the rebuilt part is sent back with the new build id of the changed
   state (:meth:`Forms.render_region`, for ``POST /form/ajax``) — the same state and tree
   either way.

A submission whose CSRF token was missing or stale (the kernel lets it reach a form route
marked to handle it) is a refused submission like a failed validation: the form is shown
again with what was typed and :data:`EXPIRED` (status :data:`EXPIRED_STATUS`), and neither
the owner's handler nor any tap runs for it.

The form is rebuilt on every request from the server's data and its state; nothing the browser
sends decides which inputs exist or what their options are.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from trovato.forms.form import (
    FormErrors,
    FormValue,
    find,
    hidden,
    inputs,
    mark_errors,
    prepare,
)
from trovato.forms.state import FormState, FormStates
from trovato.forms.stencil import FormStencils
from trovato.observability.profiler import record_render
from trovato.plugins import PluginUser
from trovato.plugins.errors import PluginError
from trovato.plugins.taps import Taps
from trovato.render.elements import RenderElement
from trovato.render.renderer import ThemeEngine
from trovato.render.sanitize import RenderTreeError, sanitize
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.forms")

CSRF_FIELD = "csrf_token"
EXPIRED = "The form has expired, please submit again."
EXPIRED_STATUS = 403  # a missing or stale CSRF token: refused, the values shown again
BUILD_ID_FIELD = "form_build_id"
# Inputs only the kernel adds: a plugin's input of the same name could shadow them.
_RESERVED_NAMES = frozenset({CSRF_FIELD, BUILD_ID_FIELD})


class Forms:
    """Alters, validates, submits and renders forms; one per kernel."""

    def __init__(self, taps: Taps, states: FormStates, theme: ThemeEngine) -> None:
        self.taps = taps
        self.states = states
        self.theme = theme

    async def build(self, tree: RenderElement, *, user: CurrentUser) -> RenderElement:
        """``tree`` after the ``form_alter`` taps (the tree itself when no plugin changed it)."""
        form_id = str(tree["#form_id"])
        if not self.taps.listens("form_alter"):
            return tree
        outcome = await self.taps.fire("form_alter", {"form": copy.deepcopy(tree),
                                                      "form_id": form_id},
                                       user=PluginUser.from_current_user(user))
        if not any(reply.value for reply in outcome.replies) \
                or not isinstance(outcome.value, dict):
            return tree
        try:
            altered = sanitize(outcome.value, source="plugin:form_alter", trusted=False)
        except RenderTreeError as exc:
            log.warning("form %s: altered tree refused: %s", form_id, exc)
            return tree
        # What the form is and where it goes stay the kernel's.
        for key in ("#type", "#form_id", "#action", "#method"):
            altered[key] = tree[key]
        for element in inputs(altered):
            if element["#name"] in _RESERVED_NAMES:
                element["#type"] = "container"  # no longer an input
                element.pop("#name")
        return altered

    async def validate(self, tree: RenderElement, values: Mapping[str, FormValue], *,
                       user: CurrentUser) -> FormErrors:
        """The ``form_validate`` taps' errors by error key (a plugin error not about one
        input is keyed ``plugin:<name>``). A failing plugin refuses the submission."""
        if not self.taps.listens("form_validate"):
            return {}
        form_id = str(tree["#form_id"])
        try:
            outcome = await self.taps.fire("form_validate",
                                           {"form_id": form_id,
                                            "values": _shareable(tree, values)},
                                           user=PluginUser.from_current_user(user))
        except PluginError as exc:
            return {f"plugin:{exc.plugin}":
                    f"The form could not be checked (the plugin {exc.plugin} failed); "
                    "please try again."}
        errors: FormErrors = {}
        for reply in outcome.replies:
            for entry in reply.value or ():
                field = entry.get("field")
                key = field if isinstance(field, str) and field else f"plugin:{reply.plugin}"
                errors.setdefault(key, str(entry["message"]))
        return errors

    async def submitted(self, tree: RenderElement, values: Mapping[str, FormValue], *,
                        user: CurrentUser, result: Mapping[str, Any] | None = None
                        ) -> list[str]:
        """Tell the plugins a form was submitted and its owner's handler succeeded
        (``form_submit``, with what the handler made in ``result``, e.g. the saved item's
        id). Returns a message per plugin that failed: the submission itself stands."""
        if not self.taps.listens("form_submit"):
            return []
        payload: dict[str, Any] = {"form_id": str(tree["#form_id"]),
                                   "values": _shareable(tree, values)}
        if result:
            payload["result"] = dict(result)
        # Fail open: the owner's handler already saved, so a failing plugin cannot undo it;
        # the user is told and the failure is logged and counted by the dispatcher.
        outcome = await self.taps.fire("form_submit", payload,
                                       user=PluginUser.from_current_user(user))
        return [f"The plugin {failure.plugin} failed to process the submission."
                for failure in outcome.failures]

    async def ajax(self, tree: RenderElement, trigger: str,
                   values: Mapping[str, FormValue], *, user: CurrentUser
                   ) -> RenderElement | None:
        """What ``form_ajax`` adds to the part of the form that ``trigger`` (the button's
        value) rebuilt: the first plugin's render element, sanitized as untrusted; None when
        no plugin answers. A failing plugin adds nothing (the rebuild changes nothing)."""
        if not self.taps.listens("form_ajax"):
            return None
        outcome = await self.taps.fire("form_ajax", {"form_id": str(tree["#form_id"]),
                                                     "trigger": trigger,
                                                     "values": _shareable(tree, values)},
                                       user=PluginUser.from_current_user(user))
        if not isinstance(outcome.value, dict):
            return None
        try:
            added = sanitize(outcome.value, source="plugin:form_ajax", trusted=False)
        except RenderTreeError as exc:
            log.warning("form %s: form_ajax reply refused: %s", tree["#form_id"], exc)
            return None
        for element in inputs(added):  # shown, never read: the rebuilt tree decides inputs
            element["#type"] = "container"
            element.pop("#name")
        return added

    def render_region(self, tree: RenderElement, key: str, *, csrf_token: str,
                      state: FormState, values: Mapping[str, FormValue] | None = None
                      ) -> Markup:
        """The HTML of the element of ``tree`` with error key ``key`` (a rebuilt part), with
        the ids and values the whole form rendered by :meth:`render` gives it, so it can take
        that part's place in the page; then the form's hidden build id input sealing
        ``state`` as the rebuild left it, which the script puts in place of the form's own
        (the next submission carries the changed state). ``KeyError`` when the form has no
        such element."""
        form = self._prepare(tree, csrf_token=csrf_token, state=state, values=values)
        region = find(form, key)
        if region is None:
            raise KeyError(key)
        return self.theme.render(region) + self.theme.render(form[BUILD_ID_FIELD])

    def render(self, tree: RenderElement, *, csrf_token: str | None = None,
               state: FormState | None = None,
               values: Mapping[str, FormValue] | None = None,
               errors: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None,
               stencils: FormStencils | None = None) -> Markup:
        """The form as HTML: with the session's CSRF token and the state's build id (a form
        that changes something has both; a search form sent by GET neither), the submitted
        ``values`` shown again and each of ``errors`` next to its element and in the summary
        at the top (``labels`` name the subjects of errors no element shows).

        ``stencils``: the owner's stencils of this form (:mod:`trovato.forms.stencil`). A
        form shown fresh (no values, no errors) is drawn from one of its shape when there is
        one, and becomes one otherwise — unless a plugin alters forms: the altered trees are
        the renderer's alone."""
        full = self._with_hidden(tree, csrf_token=csrf_token, state=state)
        if values is not None or errors or self.taps.listens("form_alter"):
            stencils = None  # shown again, or altered by a plugin: the renderer's
        if stencils is not None:
            started = time.perf_counter()
            html = stencils.draw(full, self.theme)
            if html is not None:
                record_render(time.perf_counter() - started)
                return Markup(html)  # noqa: S704 - drawn by the twins, values escaped
        form = prepare(full, values)
        mark_errors(form, errors or {}, labels=labels)
        rendered = self.theme.render(form)
        if stencils is not None:
            stencils.learn(full, str(rendered), self.theme)
        return rendered

    def _with_hidden(self, tree: RenderElement, *, csrf_token: str | None,
                     state: FormState | None) -> RenderElement:
        """``tree`` with the kernel's hidden inputs (first: ids are unique across the whole
        form)."""
        extra: RenderElement = {}
        if csrf_token is not None:
            extra["form_token"] = {**hidden(CSRF_FIELD, csrf_token), "#weight": -2000}
        if state is not None:
            extra[BUILD_ID_FIELD] = {**hidden(BUILD_ID_FIELD, self.states.seal(state)),
                                     "#weight": -2000}
        return {**tree, **extra}

    def _prepare(self, tree: RenderElement, *, csrf_token: str | None,
                 state: FormState | None, values: Mapping[str, FormValue] | None
                 ) -> RenderElement:
        return prepare(self._with_hidden(tree, csrf_token=csrf_token, state=state), values)


def _shareable(tree: RenderElement, values: Mapping[str, FormValue]) -> dict[str, FormValue]:
    """``values`` as plugins see them: never a password."""
    secret = {e["#name"] for e in inputs(tree) if e["#type"] == "password"}
    return {name: value for name, value in values.items() if name not in secret}
