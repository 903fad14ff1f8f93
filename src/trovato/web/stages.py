"""Stage pages: the session's stage switcher and the stage overview with its publish step.

* ``/stage/switch`` — GET shows a form to choose the stage this session works in (live or a
  stage the user may use); POST (with the session's CSRF token, checked by the pipeline)
  stores it in the session. Whether the user may use the stage is decided by the stages
  service's one door (:meth:`StageDesk.choose <trovato.stages.desk.StageDesk.choose>`), the
  same as for every request; only an open stage can be chosen (a published or archived one
  takes no writes).
* ``/admin/stages`` — the stages the user may use, the archived ones in a table of their own
  (and an "Add stage" link for who may add one: :mod:`trovato.web.stage_admin`);
  ``/admin/stages/{id}`` — one stage: what it changes (each item, then field by field against
  its upstream), its conflicts with its upstream, and links to publish and archive it (an
  archived stage says so, and offers neither them nor working in it);
  ``/admin/stages/{id}/publish`` — GET is the confirmation step (a dry run: what publishing
  would do), with a choice per conflicting field (take the stage's value or upstream's, the
  base value shown with both); POST previews the result of those choices (a dry run) or
  publishes with them. Choices naming no conflict are refused (422), nothing published.

A stage the user may not use is a 404 on every page, as everywhere else. The ``/admin/stages``
pages are in the admin layout (:func:`~trovato.web.admin.render_admin`); who may open them is
still the stages service's decision (``use stages``), as for the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.content.view import format_date
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED, EXPIRED_STATUS
from trovato.kernel.access import require_login
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.stages import LIVE, StageError, is_live
from trovato.stages.desk import Change, PublishOutcome, StageInfo
from trovato.web._page import render_page
from trovato.web.admin import render_admin
from trovato.web.item import viewer
from trovato.web.item_edit import session_token
from trovato.web.user import _safe_destination


async def _stage(request: Request) -> StageInfo:
    ctx = request_context(request)
    return await ctx.kernel.stage_desk.get(require_login(request), request.path_params["id"])


# -- the switcher --------------------------------------------------------------------------------


async def _switch_page(
    request: Request,
    chosen: str,
    destination: str,
    *,
    status: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> Response:
    ctx = request_context(request)
    stages = await ctx.kernel.stage_desk.usable(ctx.current_user)
    choices = [(LIVE, "Live"), *((s.id, s.label) for s in stages if s.open)]
    current = (ctx.session.get("stage") if ctx.session is not None else None) or LIVE
    return await render_page(
        request,
        "stage_switch.html",
        {
            "title": "Switch stage",
            "choices": choices,
            "chosen": chosen,
            "current": dict(choices).get(current, current),
            "destination": destination,
        },
        status_code=status,
        messages=messages,
        form=True,
    )


async def switch_form(request: Request) -> Response:
    require_login(request)
    return await _switch_page(
        request,
        request.query_params.get("stage", LIVE),
        _safe_destination(request.query_params.get("destination")),
    )


@form_post
async def switch(request: Request) -> Response:
    ctx = request_context(request)
    user = require_login(request)
    form = await request.form()
    requested = str(form.get("stage") or "")[:100]
    destination = _safe_destination(str(form.get("destination") or "/"))
    if ctx.csrf_failed:
        return await _switch_page(request, requested or LIVE, destination,
                                  status=EXPIRED_STATUS, messages=[("error", EXPIRED)])
    try:
        stage = await ctx.kernel.stage_desk.choose(user, requested or None)
        if not is_live(stage):
            chosen = await ctx.kernel.stage_desk.get(user, stage)
            if not chosen.open:  # the form offers none such: nothing could be saved there
                raise StageError(409, f"The stage {chosen.label} is {chosen.status}: only"
                                      " open stages can be worked in.")
    except StageError as exc:
        return await _switch_page(
            request, LIVE, destination, status=exc.status, messages=[("error", exc.message)]
        )
    assert ctx.session is not None
    if is_live(stage):
        ctx.session.pop("stage")
    else:
        ctx.session.set("stage", stage)
    return RedirectResponse(destination, status_code=303)


# -- stage pages ---------------------------------------------------------------------------------


NO_STAGES = "There are no stages you may use."
# For one who may add them: what a stage is for, so an empty list says where to start.
NO_STAGES_YET = ("There are no stages you may use yet. Add one to prepare changes to several"
                 " items and publish them together.")
ALL_ARCHIVED = "Every stage you may use is archived."
ARCHIVED = "archived"


async def stage_list(request: Request) -> Response:
    ctx = request_context(request)
    user = require_login(request)
    stages = await ctx.kernel.stage_desk.usable(user)
    rows: list[list[str | RenderElement]] = [
        [el.link(s.label, f"/admin/stages/{s.id}"), s.id, s.status, s.upstream]
        for s in stages if s.status != ARCHIVED
    ]
    # Archived stages are shelved: listed apart, so the working ones are not lost among them.
    shelved: list[list[str | RenderElement]] = [
        [el.link(s.label, f"/admin/stages/{s.id}"), s.id, s.upstream]
        for s in stages if s.status == ARCHIVED
    ]
    may_add = ctx.kernel.stage_desk.may_use(user)
    table = el.table(["Stage", "Id", "Status", "Publishes to"], rows,
                     empty=ALL_ARCHIVED if shelved else NO_STAGES_YET if may_add else NO_STAGES)
    render = ctx.kernel.templates.render_tree
    archived = render(el.table(
        ["Stage", "Id", "Publishes to"], shelved, caption="Archived stages")) if shelved else None
    return render_admin(
        request,
        "stages.html",
        {
            "title": "Stages",
            "content": render(table),
            "archived": archived,
            "may_add": may_add,
        },
    )


def _changes_table(request: Request, changes: list[Change]) -> RenderElement:
    reader = viewer(request_context(request))
    rows: list[list[str | RenderElement]] = [
        [
            change.kind,
            el.link(change.title or str(change.item), f"/item/{change.item}"),
            change.type,
            format_date(change.when, reader),
        ]
        for change in changes
    ]
    return el.table(
        ["Change", "Item", "Type", "When"],
        rows,
        caption="Changes",
        empty="This stage changes nothing yet.",
    )


_SHOWN_MAX = 300  # characters of a value shown in a conflict's description


def _shown(value: Any) -> str:
    """A field value as the publisher reads it (a one-value field as that value)."""
    if value is None:
        return "(none)"
    if isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _diff_table(diff: list[dict[str, Any]]) -> RenderElement:
    """Per changed item, each field the stage changes: its value here and upstream."""
    rows: list[list[str | RenderElement]] = [
        [
            el.link(str(entry.get("title") or entry.get("item")), f"/item/{entry.get('item')}"),
            str(entry.get("change", "")),
            str(field.get("field", "")),
            _shown(field.get("stage")),
            _shown(field.get("upstream")),
        ]
        for entry in diff
        for field in entry.get("fields", ())
    ]
    return el.table(
        ["Item", "Change", "Field", "In this stage", "Upstream"],
        rows,
        caption="Field by field",
        empty="No field differs from the upstream stage.",
    )


def _conflicts_table(conflicts: list[dict[str, Any]],
                     titles: Mapping[str, str] | None = None) -> RenderElement:
    """Each field both the stage and its upstream changed: the three values (``titles``
    names the items by their title in the stage)."""
    rows: list[list[str | RenderElement]] = [
        [
            (titles or {}).get(str(c.get("item", "")), str(c.get("item", ""))),
            str(c.get("field", "")),
            _shown(c.get("stage")),
            _shown(c.get("upstream")),
            _shown(c.get("base")),
        ]
        for c in conflicts
    ]
    return el.table(
        ["Item", "Field", "In this stage", "Upstream", "Before either changed it"],
        rows,
        caption="Conflicts",
        empty="No conflicts with the upstream stage.",
    )


async def _conflicts(request: Request, stage: StageInfo) -> tuple[list[dict[str, Any]], str]:
    """The stage's conflicts, or why they cannot be told."""
    ctx = request_context(request)
    try:
        return await ctx.kernel.stage_desk.conflicts(ctx.current_user, stage.id), ""
    except StageError as exc:
        return [], exc.message


async def overview(request: Request) -> Response:
    ctx = request_context(request)
    stage = await _stage(request)
    desk = ctx.kernel.stage_desk
    changes = await desk.changes(ctx.current_user, stage.id)
    diff = await desk.diff(ctx.current_user, stage.id)
    conflicts, unavailable = await _conflicts(request, stage)
    render = ctx.kernel.templates.render_tree
    return render_admin(
        request,
        "stage.html",
        {
            "title": f"Stage {stage.label}",
            "stage": stage,
            "changes": render(_changes_table(request, changes)),
            "diff": render(_diff_table(diff)),
            "conflicts": render(_conflicts_table(
                conflicts, {str(c.item): c.title for c in changes})),
            "conflicts_unavailable": unavailable,
            "may_publish": stage.open and desk.may_publish(ctx.current_user),
            "may_manage": desk.may_manage(ctx.current_user, stage),
            "archived": stage.status == ARCHIVED,
            "working_here": ctx.stage == stage.id,
        },
    )


# -- publishing, with the publisher's choice for each conflicting field ---------------------------

PUBLISH_FORM = "stage_publish"
# A conflicting field's choice is submitted as ``resolve:<item id>:<field name>``.
RESOLVE = "resolve:"
_TAKE = {"stage": "Take this stage's value", "upstream": "Take the upstream value"}
def _resolve_name(conflict: Mapping[str, Any]) -> str:
    return f"{RESOLVE}{conflict.get('item', '')}:{conflict.get('field', '')}"


def _publish_tree(stage: StageInfo, conflicts: list[dict[str, Any]],
                  titles: Mapping[str, str]) -> RenderElement:
    """The publish form: per item in conflict a fieldset, per conflicting field a choice
    between the stage's and upstream's value (the base value shown with both); a button to
    preview the result (a dry run) and one to publish."""
    elements: dict[str, RenderElement] = {"confirm": forms.hidden("confirm", "yes")}
    by_item: dict[str, list[dict[str, Any]]] = {}
    for conflict in conflicts:
        by_item.setdefault(str(conflict.get("item", "")), []).append(conflict)
    for n, (item, fields) in enumerate(by_item.items()):
        group: RenderElement = {
            "#type": "fieldset", "#title": f"{titles.get(item, item)} ({item})",
            "#weight": n,
        }
        for m, conflict in enumerate(fields):
            field = str(conflict.get("field", ""))
            group[f"field_{m}"] = {
                "#type": "radios", "#name": _resolve_name(conflict), "#title": field,
                "#required": True, "#options": dict(_TAKE), "#weight": m,
                "#description": (f"This stage: {_shown(conflict.get('stage'))} · Upstream: "
                                 f"{_shown(conflict.get('upstream'))} · Before either "
                                 f"changed it: {_shown(conflict.get('base'))}"),
            }
        elements[f"item_{n}"] = group
    actions: RenderElement = {"#type": "actions", "#weight": 1000,
                              "publish": forms.submit("publish",
                                                      title=f"Publish stage {stage.label}")}
    if conflicts:
        actions["preview"] = forms.submit("preview", title="Preview the result", weight=-1)
    elements["actions"] = actions
    return forms.form(PUBLISH_FORM, f"/admin/stages/{stage.id}/publish", elements)


def _resolutions(submitted: forms.Submission, names: Iterable[str]) -> list[dict[str, str]]:
    """Every ``resolve:<item>:<field>`` choice submitted (``names``: the inputs sent), the
    form's and any other: the staging service refuses those naming no conflict."""
    found: list[dict[str, str]] = []
    for name in names:
        if not name.startswith(RESOLVE):
            continue
        item, _, field = name[len(RESOLVE):].partition(":")
        take = next((v for v in submitted.getlist(name) if isinstance(v, str)), "")
        found.append({"item": item, "field": field, "take": take})
    return found


def _result_table(resolved: Iterable[Mapping[str, Any]], chosen: Mapping[str, str],
                  titles: Mapping[str, str]) -> RenderElement:
    """What each conflicting field will hold once published, by the side chosen."""
    rows: list[list[str | RenderElement]] = []
    for conflict in resolved:
        take = chosen.get(_resolve_name(conflict), "stage")
        item = str(conflict.get("item", ""))
        rows.append([titles.get(item, item), str(conflict.get("field", "")),
                     "this stage" if take == "stage" else "upstream",
                     _shown(conflict.get(take))])
    return el.table(["Item", "Field", "Taken from", "Value once published"], rows,
                    caption="Your choices")


async def publish_confirm(request: Request) -> Response:
    stage = await _stage(request)
    return await _publish_page(request, stage, None)


@form_post
async def publish(request: Request) -> Response:
    stage = await _stage(request)
    return await _publish_page(request, stage, await request.form(),
                               expired=request_context(request).csrf_failed)


async def _publish_page(request: Request, stage: StageInfo,
                        submitted: FormData | None, *, expired: bool = False) -> Response:
    """The confirmation step, the preview of a resolved publish, or publishing itself.

    GET (``submitted`` None) and a POST without the step's ``confirm`` answer show what
    publishing would do, with a choice per conflicting field; "Preview the result" is a dry
    run with the choices made; "Publish" publishes with them. A POST whose CSRF token was
    missing or stale (``expired``) shows the step again with the choices made."""
    ctx = request_context(request)
    desk, user = ctx.kernel.stage_desk, ctx.current_user
    if not desk.may_publish(user):
        raise ServiceError(403, "You may not publish stages.")
    if not stage.open:
        raise ServiceError(409, f"Stage {stage.label} is {stage.status}: it cannot be published.")
    conflicts, unavailable = await _conflicts(request, stage)
    titles = {str(c.item): c.title for c in await desk.changes(user, stage.id)}
    tree = await ctx.kernel.forms.build(_publish_tree(stage, conflicts, titles), user=user)
    values: forms.FormValues | None = None
    resolutions: list[dict[str, str]] = []
    dry_run = True
    if submitted is not None:
        values = forms.read(tree, submitted)
        dry_run = (values.get("confirm") != "yes"
                   or forms.pressed(submitted, ["preview", "publish"]) == "preview")
        resolutions = _resolutions(submitted, submitted.keys())
    page = _PublishPage(request, stage, tree, conflicts, titles, values)
    if expired:
        return page.show(status=EXPIRED_STATUS, messages=[("error", EXPIRED)])
    if unavailable:
        return page.show(status=409, messages=[("error", unavailable)])
    if submitted is not None and values is not None and values.get("confirm") == "yes":
        errors = forms.check(tree, values)
        for key, message in (await ctx.kernel.forms.validate(tree, values, user=user)).items():
            errors.setdefault(key, message)
        if errors:
            return page.show(status=400, errors=errors)
    try:
        outcome = await desk.publish(user, stage.id, dry_run=dry_run, resolutions=resolutions)
    except StageError as exc:
        problems = [f"{where}: {message}" for where, message in exc.errors.items()]
        return page.show(status=exc.status,
                         messages=[("error", " ".join([exc.message, *problems]))])
    if outcome.conflicts:
        message = (f"Stage {stage.label} conflicts with {outcome.upstream} in"
                   f" {len(outcome.conflicts)} field(s): choose, for each, the value to keep.")
        return page.show(status=200 if submitted is None else 409,
                         messages=[("warning", message)])
    if not dry_run:
        return page.done(outcome)
    chosen = {_resolve_name(r): r["take"] for r in resolutions}
    return page.show(outcome=outcome, result=_result_table(outcome.resolved, chosen, titles)
                     if outcome.resolved else None)


class _PublishPage:
    """Draws the publish step: the conflicts' form, the changes and the choices' result."""

    def __init__(self, request: Request, stage: StageInfo, tree: RenderElement,
                 conflicts: list[dict[str, Any]], titles: Mapping[str, str],
                 values: forms.FormValues | None) -> None:
        self.request, self.stage, self.tree = request, stage, tree
        self.conflicts, self.titles, self.values = conflicts, titles, values
        self.ctx = request_context(request)

    def _context(self) -> dict[str, Any]:
        return {"title": f"Publish stage {self.stage.label}", "stage": self.stage}

    def show(self, *, status: int = 200, outcome: PublishOutcome | None = None,
             result: RenderElement | None = None, messages: list[tuple[str, str]] | None = None,
             errors: Mapping[str, str] | None = None) -> Response:
        render = self.ctx.kernel.templates.render_tree
        form = self.ctx.kernel.forms.render(self.tree, csrf_token=session_token(self.ctx),
                                            values=self.values, errors=errors)
        return render_admin(self.request, "stage_publish.html", {
            **self._context(),
            "outcome": outcome,
            "upstream": self.stage.upstream,
            "conflicts": render(_conflicts_table(self.conflicts, self.titles))
            if self.conflicts else None,
            "result": render(result) if result is not None else None,
            "changes": render(_changes_table(self.request, list(outcome.changes)))
            if outcome is not None else None,
            "publish_form": form,
        }, status_code=status, messages=messages, form=True)

    def done(self, outcome: PublishOutcome) -> Response:
        render = self.ctx.kernel.templates.render_tree
        return render_admin(self.request, "stage_publish.html", {
            **self._context(),
            "outcome": outcome,
            "changes": render(_changes_table(self.request, list(outcome.changes))),
        }, messages=[("status", f"Stage “{self.stage.label}” is published.")])


routes = [
    Route("/stage/switch", switch_form, methods=["GET"]),
    Route("/stage/switch", switch, methods=["POST"]),
    Route("/admin/stages", stage_list, methods=["GET"]),
    Route("/admin/stages/{id}", overview, methods=["GET"]),
    Route("/admin/stages/{id}/publish", publish_confirm, methods=["GET"]),
    Route("/admin/stages/{id}/publish", publish, methods=["POST"]),
]
