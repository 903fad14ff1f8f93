"""Stage pages: the session's stage switcher and the stage overview with its publish step.

* ``/stage/switch`` — GET shows a form to choose the stage this session works in (live or a
  stage the user may use); POST (with the session's CSRF token, checked by the pipeline)
  stores it in the session. Whether the user may use the stage is decided by the stages
  service's one door (:meth:`StageDesk.choose <trovato.stages.desk.StageDesk.choose>`), the
  same as for every request.
* ``/admin/stages`` — the stages the user may use; ``/admin/stages/{id}`` — one stage: what it
  changes, its conflicts with its upstream, and a link to publish it;
  ``/admin/stages/{id}/publish`` — GET is the confirmation step (a dry run: what publishing
  would do, or the conflicts that stop it), POST publishes.

A stage the user may not use is a 404 on every page, as everywhere else. The ``/admin/stages``
pages are in the admin layout (:func:`~trovato.web.admin.render_admin`); who may open them is
still the stages service's decision (``use stages``), as for the API.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.content.view import format_date
from trovato.errors import ServiceError
from trovato.forms.service import EXPIRED, EXPIRED_STATUS
from trovato.kernel.access import require_login
from trovato.kernel.context import request_context
from trovato.kernel.pipeline import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.stages import LIVE, StageError, is_live
from trovato.stages.desk import Change, StageInfo
from trovato.web._page import render_page
from trovato.web.admin import render_admin
from trovato.web.item import viewer
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
    return render_page(
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


async def stage_list(request: Request) -> Response:
    ctx = request_context(request)
    stages = await ctx.kernel.stage_desk.usable(require_login(request))
    rows: list[list[str | RenderElement]] = [
        [el.link(s.label, f"/admin/stages/{s.id}"), s.id, s.status, s.upstream] for s in stages
    ]
    table = el.table(
        ["Stage", "Id", "Status", "Publishes to"], rows, empty="There are no stages you may use."
    )
    return render_admin(
        request,
        "stages.html",
        {
            "title": "Stages",
            "content": ctx.kernel.templates.render_tree(table),
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


def _conflicts_table(conflicts: list[dict[str, Any]]) -> RenderElement:
    rows: list[list[str | RenderElement]] = [
        [
            str(c.get("item", "")),
            str(c.get("field", "")),
            str(c.get("stage", "")),
            str(c.get("upstream", "")),
        ]
        for c in conflicts
    ]
    return el.table(
        ["Item", "Field", "In this stage", "Upstream"],
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
    conflicts, unavailable = await _conflicts(request, stage)
    render = ctx.kernel.templates.render_tree
    return render_admin(
        request,
        "stage.html",
        {
            "title": f"Stage {stage.label}",
            "stage": stage,
            "changes": render(_changes_table(request, changes)),
            "conflicts": render(_conflicts_table(conflicts)),
            "conflicts_unavailable": unavailable,
            "may_publish": stage.open and desk.may_publish(ctx.current_user),
        },
    )


async def publish_confirm(request: Request) -> Response:
    stage = await _stage(request)
    return await _publish_page(request, stage, dry_run=True)


@form_post
async def publish(request: Request) -> Response:
    stage = await _stage(request)
    form = await request.form()
    if request_context(request).csrf_failed:  # the step again, with a fresh token
        return await _publish_page(request, stage, dry_run=True, status=EXPIRED_STATUS,
                                   messages=[("error", EXPIRED)])
    # Without the confirmation step's answer, the form shows the step again.
    return await _publish_page(request, stage, dry_run=form.get("confirm") != "yes")


async def _publish_page(request: Request, stage: StageInfo, *, dry_run: bool,
                        status: int = 200,
                        messages: list[tuple[str, str]] | None = None) -> Response:
    """The confirmation step (``dry_run``) or the outcome of publishing (``messages`` come
    before the outcome's own)."""
    ctx = request_context(request)
    desk = ctx.kernel.stage_desk
    if not desk.may_publish(ctx.current_user):
        raise ServiceError(403, "You may not publish stages.")
    if not stage.open:
        raise ServiceError(409, f"Stage {stage.label} is {stage.status}: it cannot be published.")
    render = ctx.kernel.templates.render_tree
    context: dict[str, Any] = {"title": f"Publish stage {stage.label}", "stage": stage}
    try:
        outcome = await desk.publish(ctx.current_user, stage.id, dry_run=dry_run)
    except StageError as exc:
        return render_admin(
            request,
            "stage_publish.html",
            {**context, "outcome": None},
            status_code=exc.status,
            messages=[("error", exc.message)],
        )
    if outcome.conflicts:
        message = (
            f"Stage {stage.label} cannot be published: it conflicts with"
            f" {outcome.upstream} (below)."
        )
        return render_admin(
            request,
            "stage_publish.html",
            {
                **context,
                "outcome": outcome,
                "conflicts": render(_conflicts_table(list(outcome.conflicts))),
            },
            status_code=409,
            messages=[("error", message)],
        )
    return render_admin(
        request,
        "stage_publish.html",
        {
            **context,
            "outcome": outcome,
            "changes": render(_changes_table(request, list(outcome.changes))),
        },
        status_code=status,
        messages=[*(messages or []),
                  *([] if dry_run else [("status", f"Stage {stage.label} is published.")])],
        form=dry_run,
    )


routes = [
    Route("/stage/switch", switch_form, methods=["GET"]),
    Route("/stage/switch", switch, methods=["POST"]),
    Route("/admin/stages", stage_list, methods=["GET"]),
    Route("/admin/stages/{id}", overview, methods=["GET"]),
    Route("/admin/stages/{id}/publish", publish_confirm, methods=["GET"]),
    Route("/admin/stages/{id}/publish", publish, methods=["POST"]),
]
