"""Editing items in HTML: ``/item/add`` (choose a type), ``/item/add/{type}``,
``/item/{id}/edit`` (with Preview and "Add another" value) and ``/item/{id}/delete``.

Thin: the form comes from :mod:`trovato.forms.item_form` through the form service (alter,
validate and submit taps, sealed form state, rendering); the content service decides access,
validates and saves, exactly as for the JSON API. A successful add or edit redirects (303) to
the item with a message; a failed one shows the form again with every value as typed and every
error next to its element. An edit carries the revision it started from (in its sealed form
state): when someone else saved the item meanwhile the save is refused as a conflict.

Which forms accept a build id once (:func:`acting`'s ``once``): the add form and the delete
confirmation do (a double-clicked Save or Delete acts once); the edit form does not: its save is
guarded by the revision it started from, so a second identical submission is a 409 conflict and
the edit submission makes no form-state store operation at all. A build id is used by the
submission that acts, not by one shown again with errors: the form corrected and sent from the
page the user went back to still works.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.content.access import item_access
from trovato.content.fields import FieldsResult, validate_fields
from trovato.content.items import Item, ItemError
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.files.service import UploadRules
from trovato.forms import form as forms
from trovato.forms.item_form import (
    ADD_MORE,
    FILE_TYPES,
    ITEM_FORM,
    PREVIEW,
    SAVE,
    ItemInput,
    add_more_buttons,
    file_targets,
    initial_counts,
    item_form,
    labels,
    parse_item,
    rebuilt_region,
    reference_targets,
    remove_buttons,
    sentence,
    stencils,
    value_limit,
    value_names,
    widget_context,
)
from trovato.forms.service import BUILD_ID_FIELD, EXPIRED, EXPIRED_STATUS
from trovato.forms.state import FormState, FormStateError
from trovato.forms.widgets import REMOVE_FILE, WidgetContext, upload_name
from trovato.ids import uuid7
from trovato.kernel.context import RequestContext, request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.web import tag_names
from trovato.web._page import flash, render_page
from trovato.web.form_body import read_form
from trovato.web.item import load_item, local_tasks, viewer

# The rich-text editor (frontend/src/editor.js, built by esbuild), on forms that have one.
EDITOR_SCRIPTS = ("/assets/editor/editor.js",)
TAMPERED = "The form's state does not belong to this form or session; reload the page."
DELETE_FORM = "item_delete_form"


def session_token(ctx: RequestContext) -> str:
    """The session's CSRF token: what form states are bound to."""
    assert ctx.session is not None  # the pipeline's session stage ran
    return ctx.session.csrf_token()


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a submission is shown again without being handled: its message and status."""

    message: str
    status: int


async def load_state(request: Request, form_id: str, submitted: FormData,
                     fresh: Mapping[str, object]) -> tuple[FormState, Refused | None]:
    """The submission's form state, and None when the submission may be handled; or the
    reason it may not: a missing or stale CSRF token (403) or an expired state (400, with a
    new state made of ``fresh``). Either way the form is shown again with the values as
    typed and nothing is saved. A state that is not this form's or this session's is
    refused (400) — unless the CSRF token failed too: then the session itself changed, and
    the form is shown again with a new state. Loading marks nothing: see :func:`acting`."""
    ctx = request_context(request)
    states = ctx.kernel.forms.states
    try:
        state = states.load(submitted.get(BUILD_ID_FIELD), form_id, session_token(ctx))
    except FormStateError as exc:
        if exc.reason == "tampered" and not ctx.csrf_failed:
            raise ServiceError(400, TAMPERED) from None
        state = states.create(form_id, session_token(ctx), fresh)
        if not ctx.csrf_failed:
            return state, Refused(EXPIRED, 400)
    return state, Refused(EXPIRED, EXPIRED_STATUS) if ctx.csrf_failed else None


def acting(request: Request, state: FormState, *, once: bool = True
           ) -> AbstractAsyncContextManager[None]:
    """Where a submission of ``state`` that passed every check makes its change.

    ``once``, each form's explicit choice: True for a form whose repeated submission would
    do harm twice (creating, deleting, enabling a plugin): the build id is marked used right
    before the change, in one atomic store step (:meth:`FormStates.acting`), so of two
    submissions of it (a double click, a replay) one acts and the other raises
    :class:`FormStateError` (``expired``: the caller shows the form again saying so, with a
    new build id); the change refused gives the build id back. False for a form a repeated
    submission cannot harm (an edit guarded by the revision it started from, settings saved
    again as they are): no store operation."""
    if not once:
        return nullcontext()
    return request_context(request).kernel.forms.states.acting(state)


# -- the item form --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Editing:
    """What one item form edits: a new item of ``item_type`` or ``item``."""

    item_type: ItemType
    item: Item | None

    @property
    def action(self) -> str:
        if self.item is None:
            return f"/item/add/{self.item_type.type}"
        return f"/item/{self.item.id}/edit"

    def state(self) -> dict[str, object]:
        item = self.item
        return {"type": self.item_type.type,
                "item_id": str(item.id) if item is not None else None,
                "revision_id": str(item.revision_id) if item and item.revision_id else None,
                "counts": initial_counts(self.item_type, item)}

    def owns(self, state: FormState) -> bool:
        """Whether ``state`` was made for this form (not another type's or item's)."""
        item = self.item
        return (state.data.get("type") == self.item_type.type
                and state.data.get("item_id") == (str(item.id) if item is not None else None))


def _counts(state: FormState) -> dict[str, int]:
    raw = state.data.get("counts")
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int) and v > 0}


async def _widget_context(ctx: RequestContext, editing: Editing,
                          shown: Item | None = None) -> WidgetContext:
    """The editor's widget context, with the titles of the referenced items they may see
    (read through the one item read path: a title they may not see stays an id), the names
    of the referenced tags (the item view's labellers: what the item page shows) and the
    names of the files of ``shown`` (the item as the form shows it; else the edited one)."""
    user, kernel = ctx.current_user, ctx.kernel
    item = shown if shown is not None else editing.item
    targets = reference_targets(editing.item_type, item)
    seen = await kernel.content.query.load_many(user, targets, stage=ctx.stage) \
        if targets else []
    tags = await kernel.views.labels([item], {item.type: editing.item_type}, "full") \
        if item is not None else {}
    files = file_targets(editing.item_type, item)
    tag_labels = {str(key): label.text for key, label in tags.items()}
    return widget_context(user, kernel.theme.formats, bundle=editing.item_type.type,
                          reference_labels={**tag_labels,
                                            **{str(item.id): item.title for item in seen}},
                          file_labels=await kernel.files.names(user, files) if files else {},
                          max_upload=kernel.files.limit_text,
                          tag_tokens=await tag_names.tag_tokens(ctx, editing.item_type, item,
                                                                tag_labels))


def _shown(editing: Editing, data: ItemInput, user_id: uuid.UUID) -> Item:
    """The item as a submission shows it (its values as parsed), to build the form again."""
    base = editing.item or Item(id=uuid7(), type=editing.item_type.type, title=data.title,
                                author_id=user_id)
    return replace(base, fields={k: v for k, v in data.fields.items() if v is not None})


async def _store_uploads(ctx: RequestContext, editing: Editing, submitted: FormData,
                         values: forms.FormValues, counts: Mapping[str, int]
                         ) -> tuple[int, dict[str, str]]:
    """Store each file chosen in the form as a temporary upload of the editor and put its id
    in the value's hidden input, so the form shown again (after any error) keeps it and a
    save makes it permanent; a refused upload is an error next to its field. Returns how
    many were stored, and the errors."""
    errors: dict[str, str] = {}
    stored = 0
    files = ctx.kernel.files
    for definition, name, key in value_names(editing.item_type, counts, FILE_TYPES):
        upload = submitted.get(upload_name(name))
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        rules = UploadRules.of_field(definition.settings, image=definition.type == "image")
        try:
            if upload.size is not None and upload.size > files.max_bytes:
                raise files.too_large()
            record = await files.upload(ctx.current_user, upload.file, upload.filename, rules)
        except ServiceError as exc:
            errors[key] = exc.message
            continue
        values[f"{name}[target_id]"] = str(record.id)
        stored += 1
    return stored, errors


async def _build(request: Request, editing: Editing, state: FormState,
                 shown: Item | None = None, *, context: WidgetContext | None = None
                 ) -> el.RenderElement:
    """The form of ``editing``, showing ``shown``'s values (a submission's) if given, with
    ``context`` if the caller already has the one it needs."""
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    extra: dict[str, el.RenderElement] = {}
    if editing.item is not None and await item_access(user, editing.item, "delete",
                                                      kernel.content.items.hooks):
        extra["delete"] = el.link("Delete", f"/item/{editing.item.id}/delete", weight=10,
                                  attributes={"class": "button button--danger"})
    if context is None:
        context = await _widget_context(ctx, editing, shown)
    tree = item_form(editing.item_type, shown if shown is not None else editing.item,
                     action=editing.action,
                     widgets=kernel.widgets, context=context, counts=_counts(state),
                     extra_actions=extra)
    return await kernel.forms.build(tree, user=user)


async def _page(request: Request, editing: Editing, tree: el.RenderElement, state: FormState,
                *, values: forms.FormValues | None = None,
                errors: Mapping[str, str] | None = None, status: int = 200,
                messages: list[tuple[str, str]] | None = None,
                preview: Markup | None = None, typed_title: str | None = None) -> Response:
    """The form page; a Preview's heading names the item by its ``typed_title``."""
    ctx = request_context(request)
    names = labels(editing.item_type)
    shown = {key: sentence(key, message, names) for key, message in (errors or {}).items()}
    content = ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), state=state,
                                      values=values, errors=shown, labels=names,
                                      stencils=stencils(editing.item_type))
    item = editing.item
    # The item's title quoted: it is text of any kind ("Hello, world"), not the type's name.
    title = (f"Create {editing.item_type.label}" if item is None
             else f"Edit {editing.item_type.label} \u201c{typed_title or item.title}\u201d")
    # An element configuring the rich-text editor was drawn: its attribute is in the HTML
    # (text and attribute values escape '"', so only the attribute itself can match).
    editors = ' data-editor-formats="' in content
    return await render_page(request, "form_page.html", {
        "title": title, "content": content, "preview": preview,
        "tabs": await local_tasks(ctx, item, "edit") if item is not None else [],
    }, status_code=status, messages=messages, form=True,
        scripts=EDITOR_SCRIPTS if editors else ())


async def _creatable(request: Request, type_name: str | None = None) -> ItemType:
    """The item type of the path (or ``type_name``) if the user may create items of it."""
    ctx = request_context(request)
    item_type = await ctx.kernel.content.types.get_cached(
        type_name or request.path_params["type"])
    if item_type is None:
        raise ServiceError(404, "There is no such item type.")
    draft = Item(id=uuid7(), type=item_type.type, title="", author_id=ctx.current_user.id)
    if not await item_access(ctx.current_user, draft, "create", ctx.kernel.content.items.hooks):
        raise ServiceError(403, f"You may not create {item_type.label} content.")
    return item_type


async def _editable(request: Request, op: str = "update", item_id: str | None = None
                    ) -> Editing:
    """The item of the path (or ``item_id``) if the user may ``op`` it, and its type."""
    ctx = request_context(request)
    item = (await load_item(request) if item_id is None else
            await ctx.kernel.content.query.load(ctx.current_user, item_id, stage=ctx.stage))
    await ctx.kernel.content.items.query.require(ctx.current_user, item,
                                                 "update" if op == "update" else "delete")
    item_type = await ctx.kernel.content.types.get_cached(item.type)
    if item_type is None:
        raise ServiceError(404, "There is no such item type.")
    return Editing(item_type, item)


async def choose_type(request: Request) -> Response:
    ctx = request_context(request)
    user, hooks = ctx.current_user, ctx.kernel.content.items.hooks
    entries: list[str | el.RenderElement] = []
    for item_type in sorted(await ctx.kernel.content.types.all(), key=lambda t: t.label):
        draft = Item(id=uuid7(), type=item_type.type, title="", author_id=user.id)
        if not await item_access(user, draft, "create", hooks):
            continue
        entries.append(el.container({
            "link": el.link(item_type.label, f"/item/add/{item_type.type}"),
            "description": el.markup(item_type.description, tag="p",
                                     attributes={"class": "description"}),
        }, tag="div"))
    if not entries:
        raise ServiceError(403, "You may not create content of any type.")
    listing = el.item_list(entries, attributes={"class": "item-types"})
    return await render_page(request, "form_page.html", {
        "title": "Create content", "content": ctx.kernel.templates.render_tree(listing)})


async def add_form(request: Request) -> Response:
    ctx = request_context(request)
    editing = Editing(await _creatable(request), None)
    state = ctx.kernel.forms.states.create(ITEM_FORM, session_token(ctx), editing.state())
    return await _page(request, editing, await _build(request, editing, state), state)


async def edit_form(request: Request) -> Response:
    ctx = request_context(request)
    editing = await _editable(request)
    state = ctx.kernel.forms.states.create(ITEM_FORM, session_token(ctx), editing.state())
    return await _page(request, editing, await _build(request, editing, state), state)


@form_post
async def add_submit(request: Request) -> Response:
    return await _submit(request, Editing(await _creatable(request), None))


@form_post
async def edit_submit(request: Request) -> Response:
    return await _submit(request, await _editable(request))


async def _submit(request: Request, editing: Editing) -> Response:
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    submitted = await read_form(request)
    state, refused = await load_state(request, ITEM_FORM, submitted, editing.state())
    if not editing.owns(state):
        raise ServiceError(400, TAMPERED)
    context = await _widget_context(ctx, editing)
    tree = await _build(request, editing, state, context=context)
    # Checked now, before uploads and Remove change any value: those only change hidden
    # inputs, which no check looks at; a form built again is checked again.
    values, input_errors = forms.read_and_check(tree, submitted)
    if refused is not None:
        return await _page(request, editing, tree, state, values=values, status=refused.status,
                           messages=[("error", refused.message)])
    item_type = editing.item_type
    counts = _counts(state)
    op = forms.pressed(submitted, [SAVE, PREVIEW, *add_more_buttons(item_type),
                                   *remove_buttons(item_type, counts)])
    stored, upload_errors = await _store_uploads(ctx, editing, submitted, values, counts)
    if op is not None and op.startswith(REMOVE_FILE):
        values[f"{op.removeprefix(REMOVE_FILE)}[target_id]"] = ""
    data, errors = parse_item(item_type, values, widgets=kernel.widgets, context=context,
                              counts=counts)
    # The names typed into tag fields, as tags (or new ones, or why not): before the form
    # is shown again, so that it shows what they resolved to.
    for key, message in (await tag_names.resolve(ctx, item_type, data.fields)).items():
        errors.setdefault(key, message)
    shown = _shown(editing, data, user.id)
    if op is not None and op.startswith(ADD_MORE):
        return await _add_more(request, editing, state, op, values, shown)
    if op is not None and op.startswith(REMOVE_FILE):  # the form again, the file gone
        tree = await _build(request, editing, state, shown)
        return await _page(request, editing, tree, state, values=values)
    # The form shows the submission's files (a link and a Remove button each): those just
    # uploaded and those an earlier submission (a Preview, a refused Save) stored.
    if stored or file_targets(item_type, shown) != file_targets(item_type, editing.item):
        tree = await _build(request, editing, state, shown)
        input_errors = forms.check(tree, values)
    for key, message in upload_errors.items():
        errors.setdefault(key, message)
    for key, message in input_errors.items():
        errors.setdefault(key, message)
    # The field types' own checks (range, required, …) now when anything else already
    # failed or may fail, so every error shows at once; a save that passed every other check
    # leaves them to the content service, which makes the same checks (and shows them the
    # same way when they fail: below).
    checked = None
    if errors or op == PREVIEW or kernel.forms.taps.listens("form_validate"):
        checked = _field_errors(ctx, editing, tree, data, errors)
    for key, message in (await kernel.forms.validate(tree, values, user=user)).items():
        errors.setdefault(key, message)
    if errors:
        return await _page(request, editing, tree, state, values=values, errors=errors,
                           status=400)
    if op == PREVIEW:
        assert checked is not None
        return await _preview(request, editing, tree, state, values, data, checked.values)
    try:
        # Adding: once (a double-clicked Save creates one item); editing: the revision guards
        # it.
        async with acting(request, state, once=editing.item is None):
            saved = await _save(ctx, editing, state, data)
    except FormStateError:
        return await _page(request, editing, tree, state, values=values, status=400,
                           messages=[("error", EXPIRED)])
    except ItemError as exc:
        if checked is None and _field_errors(ctx, editing, tree, data, errors).errors:
            return await _page(request, editing, tree, state, values=values, errors=errors,
                               status=400)
        # Not a conversion: a refused save is shown on the form, filled in again; only an item
        # the user may no longer reach is the error page the kernel's handler makes.
        if exc.status in (403, 404):
            raise
        if exc.status == 409:
            return await _page(request, editing, tree, state, values=values, status=409,
                               messages=[("error", exc.message + " Copy what you changed, "
                                          "reload the form and make your changes again.")])
        return await _page(request, editing, tree, state, values=values,
                           errors=tag_names.field_errors(item_type, exc.errors)
                           or {"form": exc.message}, status=exc.status)
    for failure in await kernel.forms.submitted(tree, values, user=user,
                                                result={"item_id": str(saved.id)}):
        flash(request, "warning", failure)
    verb = "created" if editing.item is None else "updated"
    # The title quoted, as the audit log does: "Blog post Contact us has been updated" read
    # as if the type were "Blog post Contact".
    flash(request, "status", f"{item_type.label} “{saved.title}” has been {verb}.")
    return RedirectResponse(f"/item/{saved.id}", status_code=303)


def _field_errors(ctx: RequestContext, editing: Editing, tree: el.RenderElement,
                  data: ItemInput, errors: dict[str, str]) -> FieldsResult:
    """The field types' checks of ``data``: each error is added to ``errors`` unless an
    error about the same element or one inside it is already there."""
    content = ctx.kernel.content
    checked = validate_fields(content.fields, editing.item_type.fields, data.fields,
                              content.items.env)
    for key, message in checked.errors.items():
        if not forms.keys_within(tree, key) & errors.keys():
            errors[key] = message
    return checked


async def _save(ctx: RequestContext, editing: Editing, state: FormState,
                data: ItemInput) -> Item:
    items = ctx.kernel.content.items
    if editing.item is None:
        return await items.create(ctx.current_user, editing.item_type.type, title=data.title,
                                  status=data.status, promote=data.promote, sticky=data.sticky,
                                  fields=data.fields, log=data.log, stage=ctx.stage)
    started = state.data.get("revision_id")
    return await items.update(ctx.current_user, editing.item, title=data.title,
                              status=data.status, promote=data.promote, sticky=data.sticky,
                              fields=data.fields, replace_fields=True, log=data.log,
                              stage=ctx.stage,
                              expected_revision=uuid.UUID(started) if isinstance(started, str)
                              else None)


async def _add_more(request: Request, editing: Editing, state: FormState, trigger: str,
                    values: forms.FormValues, shown: Item) -> Response:
    """One more value for a multi-value field, without JavaScript: the form again (with the
    values as submitted, uploads kept), nothing saved."""
    tree = await _rebuild(request, editing, state, trigger, values, shown)
    return await _page(request, editing, tree, state, values=values)


async def _rebuild(request: Request, editing: Editing, state: FormState, trigger: str,
                   values: forms.FormValues, shown: Item | None = None) -> el.RenderElement:
    """The form after the rebuild button ``trigger`` ("Add another" of a multi-value field):
    one more value in the form's state (up to the field's cardinality), the tree built again,
    and what the ``form_ajax`` taps add to the rebuilt part. A trigger
    naming no multi-value field of the type is refused (400)."""
    ctx = request_context(request)
    field = trigger.removeprefix(ADD_MORE)
    definition = editing.item_type.field(field)
    if not trigger.startswith(ADD_MORE) or definition is None or not definition.multiple:
        raise ServiceError(400, "The form has no such element to add a value to.")
    counts = _counts(state)
    counts[field] = min(counts.get(field, 1) + 1, value_limit(definition))
    state.data["counts"] = counts  # sealed into the build id the rebuilt form carries
    tree = await _build(request, editing, state, shown)
    added = await ctx.kernel.forms.ajax(tree, trigger, values, user=ctx.current_user)
    region = forms.find(tree, rebuilt_region(trigger))
    if added is not None and region is not None:
        region["form_ajax"] = {**added, "#weight": 10_000}
    return tree


async def ajax_rebuild(request: Request, state: FormState, submitted: FormData) -> Markup:
    """``POST /form/ajax`` for an item form: the rebuilt part only (the fieldset of
    the multi-value field that got one more value), to replace it in the page. Who may edit
    is checked again from the state's item or type, as for the form itself."""
    ctx = request_context(request)
    type_name, item_id = state.data.get("type"), state.data.get("item_id")
    if not isinstance(type_name, str) or not (item_id is None or isinstance(item_id, str)):
        raise ServiceError(400, TAMPERED)
    editing = (await _editable(request, item_id=item_id) if item_id is not None
               else Editing(await _creatable(request, type_name), None))
    if not editing.owns(state):
        raise ServiceError(400, TAMPERED)
    trigger = forms.pressed(submitted, add_more_buttons(editing.item_type))
    if trigger is None:
        raise ServiceError(400, "The request names no rebuild button of this form.")
    values = forms.read(await _build(request, editing, state), submitted)
    tree = await _rebuild(request, editing, state, trigger, values)
    return ctx.kernel.forms.render_region(tree, rebuilt_region(trigger),
                                          csrf_token=session_token(ctx), state=state,
                                          values=values)


async def _preview(request: Request, editing: Editing, tree: el.RenderElement,
                   state: FormState, values: forms.FormValues, data: ItemInput,
                   fields: dict[str, Any]) -> Response:
    """The item as it would look (its checked ``fields``), through the item view service, and
    the form below it."""
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    item_type = editing.item_type
    base = editing.item
    draft = Item(
        id=base.id if base is not None else uuid7(), type=item_type.type, title=data.title,
        author_id=base.author_id if base is not None else user.id, status=data.status,
        promote=data.promote, sticky=data.sticky, created=base.created if base else None,
        stage=ctx.stage, fields=fields,
        author_name=base.author_name if base is not None else user.name)
    built, trusted = await kernel.views.tree(draft, "full", viewer(ctx))
    # Nothing is saved yet, so nobody checked the formats: only a user who may use the
    # restricted ones sees them unfiltered.
    permissions = kernel.theme.formats.permission_map()
    may_restricted = all(user.can(permissions[f]) for f in kernel.theme.formats.restricted()
                         if f in permissions)
    preview = await kernel.theme.render_async(built, source="preview",
                                              trusted=trusted and may_restricted)
    return await _page(request, editing, tree, state, values=values, preview=preview,
                       typed_title=data.title)


# -- deleting -----------------------------------------------------------------------------------


def confirm_form(form_id: str, action: str, question: str, button: str,
                 cancel: str) -> el.RenderElement:
    """A confirmation: the question, the button doing it and a link back."""
    return forms.form(form_id, action, {
        "question": el.markup(question, tag="p", attributes={"class": "confirm__question"}),
        "actions": {"#type": "actions",
                    "confirm": forms.submit("confirm", title=button),
                    "cancel": el.link("Cancel", cancel, weight=1,
                                      attributes={"class": "button"})},
    })


async def confirm_page(request: Request, tree: el.RenderElement, state: FormState, *,
                       title: str, tabs: list[dict[str, Any]], status: int = 200,
                       messages: list[tuple[str, str]] | None = None,
                       errors: Mapping[str, str] | None = None) -> Response:
    """The page of a confirmation form (delete, revert)."""
    ctx = request_context(request)
    content = ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), state=state,
                                      errors=errors)
    return await render_page(request, "form_page.html", {"title": title, "content": content,
                                                   "tabs": tabs},
                       status_code=status, messages=messages, form=True)


async def _delete_tree(request: Request, item: Item) -> el.RenderElement:
    ctx = request_context(request)
    tree = confirm_form(DELETE_FORM, f"/item/{item.id}/delete",
                         f"Are you sure you want to delete {item.title}? This cannot be undone.",
                         "Delete", f"/item/{item.id}")
    return await ctx.kernel.forms.build(tree, user=ctx.current_user)


async def delete_form(request: Request) -> Response:
    ctx = request_context(request)
    item = (await _editable(request, "delete")).item
    assert item is not None
    state = ctx.kernel.forms.states.create(DELETE_FORM, session_token(ctx),
                                           {"item_id": str(item.id)})
    return await confirm_page(request, await _delete_tree(request, item), state,
                              title=f"Delete {item.title}",
                              tabs=await local_tasks(ctx, item, "delete"))


@form_post
async def delete_submit(request: Request) -> Response:
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    item = (await _editable(request, "delete")).item
    assert item is not None
    submitted = await read_form(request)
    state, refused = await load_state(request, DELETE_FORM, submitted, {"item_id": str(item.id)})
    if state.data.get("item_id") != str(item.id):
        raise ServiceError(400, TAMPERED)
    tree = await _delete_tree(request, item)
    values = forms.read(tree, submitted)
    errors = {} if refused else await kernel.forms.validate(tree, values, user=user)
    if not refused and not errors:
        try:
            async with acting(request, state):  # a double-clicked Delete deletes once
                await kernel.content.items.delete(user, item.id, stage=ctx.stage)
        except FormStateError:
            refused = Refused(EXPIRED, 400)
    if refused or errors:
        return await confirm_page(request, tree, state, title=f"Delete {item.title}",
                                  tabs=await local_tasks(ctx, item, "delete"),
                                  status=refused.status if refused else 400,
                                  messages=[("error", refused.message)] if refused else None,
                                  errors=errors)
    for failure in await kernel.forms.submitted(tree, values, user=user,
                                                result={"item_id": str(item.id)}):
        flash(request, "warning", failure)
    flash(request, "status", f"“{item.title}” has been deleted." if item.title
          else "The item has been deleted.")
    return RedirectResponse("/", status_code=303)


# ``/item/add`` alone could also match the item page's ``/item/{id}``: it is routed before it,
# the other editing routes after it (item pages are most of a site's traffic).
chooser_routes = [Route("/item/add", choose_type, methods=["GET"])]
routes = [
    Route("/item/add/{type}", add_form, methods=["GET"]),
    Route("/item/add/{type}", add_submit, methods=["POST"]),
    Route("/item/{id}/edit", edit_form, methods=["GET"]),
    Route("/item/{id}/edit", edit_submit, methods=["POST"]),
    Route("/item/{id}/delete", delete_form, methods=["GET"]),
    Route("/item/{id}/delete", delete_submit, methods=["POST"]),
]
