"""An item's revisions: ``/item/{id}/revisions`` (the list, with a form to compare any two),
``/item/{id}/revisions/diff?old=…&new=…`` (what changed) and
``/item/{id}/revisions/{rev}/revert`` (confirm, then save that revision's content as a new one).

Access is the content service's: ``view revisions`` (or ``administer content``) and view
access to see them, ``revert revisions`` and update access to revert.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.content.access import ADMINISTER_CONTENT, REVERT_REVISIONS, item_access
from trovato.content.diff import revision_diff
from trovato.content.model import Item, Revision
from trovato.content.view import Viewer, format_date
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.forms.state import FormStateError
from trovato.kernel.context import RequestContext, request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.web._page import flash, render_page
from trovato.web.item import author_names, load_item, local_tasks, viewer
from trovato.web.item_edit import (
    TAMPERED,
    Refused,
    acting,
    confirm_form,
    confirm_page,
    load_state,
    session_token,
)

COMPARE_FORM = "revision_compare"
REVERT_FORM = "revision_revert_form"


async def _revisions(ctx: RequestContext, item: Item) -> list[Revision]:
    return await ctx.kernel.content.items.revisions.history(ctx.current_user, item.id,
                                                            stage=ctx.stage)


async def _may_revert(ctx: RequestContext, item: Item) -> bool:
    user = ctx.current_user
    return (user.can(REVERT_REVISIONS) or user.can(ADMINISTER_CONTENT)) and await item_access(
        user, item, "update", ctx.kernel.content.items.hooks)


def _label(revision: Revision, authors: Mapping[uuid.UUID, str], reader: Viewer) -> str:
    author = authors.get(revision.author_id) or "Anonymous"
    return f"{format_date(revision.created, reader)} by {author}"


async def revisions(request: Request) -> Response:
    ctx = request_context(request)
    item = await load_item(request)  # 404 first: an invisible item's revisions do not exist
    found = await _revisions(ctx, item)
    authors = await author_names(ctx, (r.author_id for r in found))
    reader = viewer(ctx)
    may_revert = await _may_revert(ctx, item)
    rows: list[list[str | el.RenderElement]] = []
    for revision in found:
        current = revision.id == item.revision_id
        operations: str | el.RenderElement = "current" if current else ""
        if may_revert and not current:
            operations = el.link("Revert", f"/item/{item.id}/revisions/{revision.id}/revert")
        rows.append([
            el.markup(format_date(revision.created, reader), tag="span",
                      attributes={"class": "revision__date"}),
            authors.get(revision.author_id) or "Anonymous",
            revision.log or "",
            operations,
        ])
    # The caption says what the heading above does not (it named the item already).
    table = el.table(["Date", "Author", "Log message", "Status"], rows,
                     caption="Newest first", empty="No revisions.")
    parts = [ctx.kernel.templates.render_tree(table)]
    if len(found) > 1:
        options = {str(r.id): _label(r, authors, reader) for r in found}
        # A fieldset of its own: under the table, its inputs read as the table's otherwise.
        compare = forms.form(COMPARE_FORM, f"/item/{item.id}/revisions/diff", {"pair": {
            "#type": "fieldset", "#title": "Compare two revisions",
            "old": {"#type": "select", "#name": "old", "#title": "Older revision",
                    "#options": options, "#default_value": str(found[1].id), "#required": True},
            "new": {"#type": "select", "#name": "new", "#title": "Newer revision",
                    "#options": options, "#default_value": str(found[0].id), "#required": True},
            "actions": {"#type": "actions", "compare": forms.submit("compare", title="Compare")},
        }}, method="get")
        compare = await ctx.kernel.forms.build(compare, user=ctx.current_user)
        parts.append(ctx.kernel.forms.render(compare))
    return await render_page(request, "revisions.html", {
        "title": f"Revisions of {item.title}",
        "item": item,
        "content": Markup("").join(parts),
        "tabs": await local_tasks(ctx, item, "revisions"),
    })


async def diff(request: Request) -> Response:
    ctx = request_context(request)
    item = await load_item(request)
    items = ctx.kernel.content.items
    old, new = await items.revisions.compare(
        ctx.current_user, item.id, request.query_params.get("old", ""),
        request.query_params.get("new", ""), stage=ctx.stage)
    authors = await author_names(ctx, (old.author_id, new.author_id))
    reader = viewer(ctx)
    table = revision_diff(old, new, await items.types.get(item.type),
                          old_label=_label(old, authors, reader),
                          new_label=_label(new, authors, reader))
    return await render_page(request, "revisions.html", {
        "title": f"Changes to {item.title}",
        "item": item,
        "content": ctx.kernel.templates.render_tree(table),
        "tabs": await local_tasks(ctx, item, "revisions"),
    })


async def _revert_target(request: Request) -> tuple[Item, Revision]:
    ctx = request_context(request)
    item = await load_item(request)
    if not await _may_revert(ctx, item):
        raise ServiceError(403, "You may not revert this item's revisions.")
    revision = await ctx.kernel.content.items.revisions.load(
        ctx.current_user, item.id, request.path_params["rev"], stage=ctx.stage)
    return item, revision


async def _revert_tree(ctx: RequestContext, item: Item, revision: Revision) -> el.RenderElement:
    when = format_date(revision.created, viewer(ctx))
    tree = confirm_form(
        REVERT_FORM, f"/item/{item.id}/revisions/{revision.id}/revert",
        f"Are you sure you want to revert {item.title} to the revision of {when}? Its content"
        " is saved as a new revision; no revision is lost.",
        "Revert", f"/item/{item.id}/revisions")
    return await ctx.kernel.forms.build(tree, user=ctx.current_user)


async def revert_form(request: Request) -> Response:
    ctx = request_context(request)
    item, revision = await _revert_target(request)
    state = ctx.kernel.forms.states.create(
        REVERT_FORM, session_token(ctx), {"revision_id": str(revision.id)})
    return await confirm_page(request, await _revert_tree(ctx, item, revision), state,
                              title=f"Revert {item.title}",
                              tabs=await local_tasks(ctx, item, "revisions"))


@form_post
async def revert_submit(request: Request) -> Response:
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    item, revision = await _revert_target(request)
    submitted = await request.form()
    state, refused = await load_state(request, REVERT_FORM, submitted,
                                      {"revision_id": str(revision.id)})
    if state.data.get("revision_id") != str(revision.id):
        raise ServiceError(400, TAMPERED)
    tree = await _revert_tree(ctx, item, revision)
    values = forms.read(tree, submitted)
    errors = {} if refused else await kernel.forms.validate(tree, values, user=user)
    if not refused and not errors:
        try:
            # Once: a second revert would save the same content as yet another revision.
            async with acting(request, state):
                reverted = await kernel.content.items.revisions.revert(
                    user, item.id, revision.id, stage=ctx.stage)
        except FormStateError:
            refused = Refused(EXPIRED, 400)
    if refused or errors:
        return await confirm_page(request, tree, state, title=f"Revert {item.title}",
                                  tabs=await local_tasks(ctx, item, "revisions"),
                                  status=refused.status if refused else 400,
                                  messages=[("error", refused.message)] if refused else None,
                                  errors=errors)
    for failure in await kernel.forms.submitted(tree, values, user=user,
                                                result={"item_id": str(item.id)}):
        flash(request, "warning", failure)
    flash(request, "status", f"“{reverted.title}” has been reverted to the revision of "
                             f"{format_date(revision.created, viewer(ctx))}.")
    return RedirectResponse(f"/item/{item.id}/revisions", status_code=303)


routes = [
    Route("/item/{id}/revisions", revisions, methods=["GET"]),
    Route("/item/{id}/revisions/diff", diff, methods=["GET"]),
    Route("/item/{id}/revisions/{rev}/revert", revert_form, methods=["GET"]),
    Route("/item/{id}/revisions/{rev}/revert", revert_submit, methods=["POST"]),
]
