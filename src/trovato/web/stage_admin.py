"""Managing stages in the browser: adding a stage, editing one, archiving or deleting one after a
confirmation.

* ``/admin/stages/add`` — the machine name, label, upstream (live or an open stage the user may
  use), visibility and the roles a private stage is shared with; the stages service validates
  them, its refusals are shown next to the input they name with what was typed; success goes
  to the stage's overview (303) with a flash message.
* ``/admin/stages/{id}/edit`` — the label, upstream, visibility and roles (the machine name is
  the stage's identity and does not change).
* ``/admin/stages/{id}/archive`` — the shared confirmation step saying what archiving keeps: an
  open stage is shelved with its changes, takes no more (the stages service refuses writes to
  it) and cannot be published; a session working in it goes back to live. A stage that is not
  open is a 409.
* ``/admin/stages/{id}/delete`` — the shared confirmation step (:mod:`trovato.web.admin._confirm`)
  saying how many changed items are discarded; the service refuses (409) while another stage
  builds on it.

Who may do what is the stages service's rule, through the stage desk, as for the API: adding
needs ``use stages`` (or ``administer stages``); editing, archiving and deleting, the stage's
owner or an administrator of stages. A stage the user may not use is a 404, as on the other
stage pages. Every POST carries the session's CSRF token
(:func:`~trovato.kernel.csrf.form_post`); a stale one shows the form again with what was typed
and changes nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.kernel.access import require_login
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.stages import LIVE
from trovato.stages.desk import StageInfo
from trovato.stages.service import USE_STAGES
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import ANONYMOUS_ROLE
from trovato.web.admin import render_admin
from trovato.web.admin._confirm import Done, act, confirm_tree
from trovato.web.admin.people import csrf_token, refusal, roles_service

ADD_FORM = "admin_stage_add"
EDIT_FORM = "admin_stage_edit"
DELETE_FORM = "admin_stage_delete"
ARCHIVE_FORM = "admin_stage_archive"
# The inputs' titles, by the name the stages service gives a field in its refusals.
LABELS = {"id": "Machine name", "label": "Label", "upstream": "Publishes to",
          "visibility": "Visibility", "roles": "Shared with roles"}
VISIBILITY = {
    "private": "Private: you, administrators of stages and the roles it is shared with",
    "public": "Public: everyone who may use stages",
}


def _may_add(request: Request) -> CurrentUser:
    """The user, who must be allowed to create stages (the service's own rule, asked before
    a form is shown or read)."""
    user = require_login(request)
    if not request_context(request).kernel.stage_desk.may_use(user):
        raise ServiceError(403, f"You need the permission {USE_STAGES!r} to create stages.")
    return user


async def _managed(request: Request, verb: str) -> StageInfo:
    """The stage of the path, which the user must be allowed to manage (404 when they may
    not use it at all, as on every stage page)."""
    desk = request_context(request).kernel.stage_desk
    user = require_login(request)
    stage = await desk.get(user, request.path_params["id"])
    if not desk.may_manage(user, stage):
        raise ServiceError(403, f"Only the stage's owner or an administrator of stages may"
                                f" {verb} it.")
    return stage


async def _upstreams(request: Request, stage: StageInfo | None) -> dict[str, str]:
    """The choices of upstream: live, then the open stages the user may use (never the stage
    itself); an edited stage's current upstream stays a choice even if it is no longer open."""
    ctx = request_context(request)
    choices = {LIVE: "Live"}
    for other in await ctx.kernel.stage_desk.usable(ctx.current_user):
        if (other.open or (stage is not None and other.id == stage.upstream)) \
                and (stage is None or other.id != stage.id):
            choices[other.id] = f"{other.label} ({other.id})"
    return choices


async def _roles(request: Request) -> dict[str, str]:
    """The roles a stage may be shared with: every role but anonymous (whose visitors may not
    use stages)."""
    return {str(role.id): role.name for role in await roles_service(request).all()
            if role.id != ANONYMOUS_ROLE}


def _fields(upstreams: dict[str, str], roles: dict[str, str],
            stage: StageInfo | None) -> dict[str, RenderElement]:
    return {
        "label": {"#type": "textfield", "#name": "label", "#title": LABELS["label"],
                  "#required": True, "#maxlength": 255, "#weight": 1,
                  "#default_value": stage.label if stage else ""},
        "upstream": {"#type": "select", "#name": "upstream", "#title": LABELS["upstream"],
                     "#required": True, "#options": upstreams, "#weight": 2,
                     "#default_value": stage.upstream if stage else LIVE,
                     "#description": "The stage this one builds on: publishing it applies"
                                     " its changes there."},
        "visibility": {"#type": "radios", "#name": "visibility", "#title": LABELS["visibility"],
                       "#required": True, "#options": dict(VISIBILITY), "#weight": 3,
                       "#default_value": stage.visibility if stage else "private"},
        "roles": {"#type": "checkboxes", "#name": "roles", "#title": LABELS["roles"],
                  "#options": roles, "#weight": 4,
                  "#default_value": [str(r) for r in stage.roles] if stage else [],
                  "#description": "Holders of these roles who may use stages may use this"
                                  " stage even when it is private."},
    }


def _add_tree(upstreams: dict[str, str], roles: dict[str, str]) -> RenderElement:
    elements = _fields(upstreams, roles, None)
    # After the label (the same weight, added after it), as every admin form asks for one.
    elements["id"] = {"#type": "textfield", "#name": "id", "#title": LABELS["id"],
                      "#required": True, "#maxlength": 64, "#weight": 1,
                      "#description": "Lowercase letters, digits and underscores, starting"
                                      " with a letter, like spring_sale. It cannot be"
                                      " changed later."}
    elements["actions"] = {"#type": "actions", "#weight": 10,
                           "add": forms.submit("add", title="Add stage"),
                           "cancel": el.link("Cancel", "/admin/stages", weight=1,
                                             attributes={"class": "button"})}
    return forms.form(ADD_FORM, "/admin/stages/add", elements)


def _edit_tree(stage: StageInfo, upstreams: dict[str, str],
               roles: dict[str, str]) -> RenderElement:
    elements = _fields(upstreams, roles, stage)
    elements["actions"] = {"#type": "actions", "#weight": 10,
                           "save": forms.submit("save", title="Save"),
                           "cancel": el.link("Cancel", f"/admin/stages/{stage.id}", weight=1,
                                             attributes={"class": "button"})}
    return forms.form(EDIT_FORM, f"/admin/stages/{stage.id}/edit", elements)


def _page(request: Request, title: str, tree: RenderElement, *,
          values: forms.FormValues | None = None, errors: forms.FormErrors | None = None,
          status: int = 200) -> Response:
    content = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors, labels=LABELS)
    return render_admin(request, "admin/layout.html", {"title": title, "content": content},
                        status_code=status, form=True)


def _chosen(values: forms.FormValues) -> list[str]:
    """The roles ticked (the form's check kept only its options)."""
    chosen = values.get("roles")
    return [str(role) for role in chosen] if isinstance(chosen, list) else []


def _refusal(exc: ServiceError) -> forms.FormErrors:
    return refusal(exc, LABELS)


# -- adding ---------------------------------------------------------------------------------------


async def _built_add(request: Request, user: CurrentUser) -> RenderElement:
    tree = _add_tree(await _upstreams(request, None), await _roles(request))
    return await request_context(request).kernel.forms.build(tree, user=user)


async def add_form(request: Request) -> Response:
    user = _may_add(request)
    return _page(request, "Add stage", await _built_add(request, user))


@form_post
async def add_submit(request: Request) -> Response:
    user = _may_add(request)
    ctx = request_context(request)
    tree = await _built_add(request, user)

    async def add(values: forms.FormValues) -> Done:
        stage = await ctx.kernel.stage_desk.create(
            user, str(values["id"]), str(values["label"]), str(values["upstream"]),
            visibility=str(values["visibility"]), roles=_chosen(values))
        return Done(f"The stage “{stage.label}” has been created.", f"/admin/stages/{stage.id}",
                    {"stage": stage.id})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, "Add stage", tree, values=values, errors=errors, status=status)

    return await act(request, tree, add, show, refused=_refusal)


# -- editing --------------------------------------------------------------------------------------


async def _built_edit(request: Request, stage: StageInfo) -> RenderElement:
    tree = _edit_tree(stage, await _upstreams(request, stage), await _roles(request))
    return await request_context(request).kernel.forms.build(tree, user=require_login(request))


async def edit_form(request: Request) -> Response:
    stage = await _managed(request, "edit")
    return _page(request, f"Edit stage {stage.label}", await _built_edit(request, stage))


@form_post
async def edit_submit(request: Request) -> Response:
    stage = await _managed(request, "edit")
    ctx = request_context(request)
    user = require_login(request)
    tree = await _built_edit(request, stage)

    async def save(values: forms.FormValues) -> Done:
        edited = await ctx.kernel.stage_desk.edit(
            user, stage.id, label=str(values["label"]), upstream=str(values["upstream"]),
            visibility=str(values["visibility"]), roles=_chosen(values))
        return Done(f"The stage “{edited.label}” has been saved.", f"/admin/stages/{stage.id}",
                    {"stage": stage.id})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, f"Edit stage {stage.label}", tree, values=values, errors=errors,
                     status=status)

    return await act(request, tree, save, show, refused=_refusal)


# -- archiving ------------------------------------------------------------------------------------


async def _archivable(request: Request) -> StageInfo:
    """The stage of the path, which the user may manage and which must be open (409)."""
    stage = await _managed(request, "archive")
    if not stage.open:
        raise ServiceError(409, f"The stage “{stage.label}” is {stage.status}: only open stages"
                                " can be archived.")
    return stage


async def _archive_tree(request: Request, stage: StageInfo) -> RenderElement:
    ctx = request_context(request)
    changed = len(await ctx.kernel.stage_desk.changes(ctx.current_user, stage.id))
    return await ctx.kernel.forms.build(confirm_tree(
        ARCHIVE_FORM, f"/admin/stages/{stage.id}/archive",
        f"Are you sure you want to archive the stage {stage.label}?", "Archive stage",
        f"/admin/stages/{stage.id}",
        consequence=f"Its {changed} changed item(s) are kept, but it takes no more changes"
                    " and cannot be published; nobody can work in it any more. It can still"
                    " be deleted."),
        user=ctx.current_user)


async def archive_form(request: Request) -> Response:
    stage = await _archivable(request)
    return _page(request, f"Archive stage {stage.label}", await _archive_tree(request, stage))


@form_post
async def archive_submit(request: Request) -> Response:
    stage = await _archivable(request)
    ctx = request_context(request)
    tree = await _archive_tree(request, stage)

    async def archive(values: forms.FormValues) -> Done:
        await ctx.kernel.stage_desk.archive(ctx.current_user, stage.id)
        message = f"The stage “{stage.label}” has been archived."
        # This session can no longer work there: its edits would all be refused.
        if ctx.session is not None and ctx.session.get("stage") == stage.id:
            ctx.session.pop("stage")
            message += " This session works in live again."
        return Done(message, f"/admin/stages/{stage.id}", {"stage": stage.id})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, f"Archive stage {stage.label}", tree, errors=errors,
                     status=status)

    return await act(request, tree, archive, show)


# -- deleting -------------------------------------------------------------------------------------


async def _delete_tree(request: Request, stage: StageInfo) -> RenderElement:
    ctx = request_context(request)
    changed = len(await ctx.kernel.stage_desk.changes(ctx.current_user, stage.id))
    return await ctx.kernel.forms.build(confirm_tree(
        DELETE_FORM, f"/admin/stages/{stage.id}/delete",
        f"Are you sure you want to delete the stage {stage.label}?", "Delete stage",
        f"/admin/stages/{stage.id}",
        consequence=f"Its {changed} changed item(s) are discarded: the items created in it,"
                    f" its edits and its deletions. This cannot be undone."),
        user=ctx.current_user)


async def delete_form(request: Request) -> Response:
    stage = await _managed(request, "delete")
    return _page(request, f"Delete stage {stage.label}", await _delete_tree(request, stage))


@form_post
async def delete_submit(request: Request) -> Response:
    stage = await _managed(request, "delete")
    ctx = request_context(request)
    tree = await _delete_tree(request, stage)

    async def delete(values: forms.FormValues) -> Done:
        await ctx.kernel.stage_desk.delete(ctx.current_user, stage.id)
        return Done(f"The stage “{stage.label}” has been deleted.", "/admin/stages",
                    {"stage": stage.id})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, f"Delete stage {stage.label}", tree, errors=errors,
                     status=status)

    return await act(request, tree, delete, show)


# Before the stage pages' routes, whose /admin/stages/{id} would match /admin/stages/add.
routes = [
    Route("/admin/stages/add", add_form, methods=["GET"]),
    Route("/admin/stages/add", add_submit, methods=["POST"]),
    Route("/admin/stages/{id}/edit", edit_form, methods=["GET"]),
    Route("/admin/stages/{id}/edit", edit_submit, methods=["POST"]),
    Route("/admin/stages/{id}/archive", archive_form, methods=["GET"]),
    Route("/admin/stages/{id}/archive", archive_submit, methods=["POST"]),
    Route("/admin/stages/{id}/delete", delete_form, methods=["GET"]),
    Route("/admin/stages/{id}/delete", delete_submit, methods=["POST"]),
]
