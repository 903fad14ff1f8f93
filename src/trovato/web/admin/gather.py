"""``/admin/structure/gather``: the Gather builder, for ``administer gather``.

* ``/admin/structure/gather`` — the listings (label, machine name, base, displays linking to
  their paths, version, operations);
* ``/admin/structure/gather/add`` and ``/{name}/edit`` — the builder (:mod:`.gather_form`):
  "Save" stores the definition through the Gather service, "Preview" shows the first page of
  the unsaved definition in its style (with the exposed filters' and arguments' values typed
  in "Preview with"), the number of matches, the time the reading took, the compiled SQL and
  PostgreSQL's plan of it, and saves nothing; adding or removing a
  filter, a group or a sort rebuilds the form from its sealed state (without JavaScript
  by submitting the form, with it through ``POST /form/ajax``);
* ``/{name}/duplicate`` — the builder for a new listing holding a copy;
* ``/{name}/delete`` — a confirmation naming what goes (its page, feed and JSON display);
* ``/{name}/export`` — the definition as a YAML download; ``/import`` — a pasted YAML
  definition, created (or replacing the listing of the same name, when asked).

Thin: every check is the definition validator's (:mod:`trovato.gather.definition`,
:mod:`trovato.gather.resolution`) and the service's; their error paths (``filters.2.value``)
are shown next to the input they name, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.forms.state import FormState, FormStateError
from trovato.gather import ADMINISTER_GATHER, FRONT_PAGE, GatherError, Stored
from trovato.gather.definition import parse
from trovato.gather.exchange import dump_yaml, load_yaml
from trovato.gather.resolution import resolve
from trovato.gather.results import Preview
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act, confirm_tree
from trovato.web.admin._structure import (
    altered,
    finish,
    once,
    open_form,
    receive,
    render_form,
    sentences,
    titles,
)
from trovato.web.admin.gather_form import (
    EDITOR_FORM,
    PREVIEW,
    PREVIEW_WITH,
    Built,
    Choices,
    Editing,
    NotEditable,
    Rows,
    document_of,
    editor_tree,
    form_of,
)
from trovato.web.gather import render_rows
from trovato.web.item import render_items
from trovato.web.item_edit import TAMPERED, session_token

BASE = "/admin/structure/gather"
IMPORT_FORM = "admin_gather_import"
DELETE_FORM = "admin_gather_delete"
_NEW: dict[str, Any] = {"displays": {}, "access": "access content"}


def _path(name: str, operation: str = "edit") -> str:
    return f"{BASE}/{name}/{operation}"


def _tabs(stored: Stored | None, current: str) -> list[dict[str, Any]]:
    if stored is None:
        return []
    tabs = [("edit", "Edit"), ("duplicate", "Duplicate"), ("export", "Export")]
    if stored.name != FRONT_PAGE:
        tabs.append(("delete", "Delete"))
    return [{"title": title, "href": _path(stored.name, key), "current": key == current}
            for key, title in tabs]


def _page(request: Request, title: str, parts: list[Markup], *, about: Stored | None = None,
          tab: str = "", status: int = 200, actions: list[dict[str, str]] | None = None,
          messages: list[tuple[str, str]] | None = None) -> Response:
    return render_admin(request, "admin/gather.html",
                        {"title": title, "parts": parts, "tabs": _tabs(about, tab),
                         "actions": actions or []},
                        status_code=status, messages=messages, form=True)


def _tree(request: Request, tree: RenderElement) -> Markup:
    return request_context(request).kernel.templates.render_tree(tree)


async def _stored(request: Request) -> Stored:
    ctx = request_context(request)
    return await ctx.kernel.gather.get(ctx.current_user, request.path_params["name"])


def _display_links(stored: Stored) -> RenderElement:
    """Links to a listing's displays (a path with a ``{placeholder}`` is shown, not linked)."""
    displays = stored.definition.displays
    found: dict[str, RenderElement] = {}
    for key in ("page", "feed"):
        shown = getattr(displays, key)
        if shown is not None:
            label = f"{key.capitalize()}: {shown.path}"
            found[key] = el.markup(label, tag="span") if "{" in shown.path \
                else el.link(label, shown.path)
    if displays.json_ is not None:
        found["json"] = el.link("JSON", f"/api/v1/gather/{stored.name}")
    for n, child in enumerate(found.values()):
        child["#weight"] = n
        child["#attributes"] = {**child.get("#attributes", {}), "class": "gather-display"}
    return el.container(found, tag="span", attributes={"class": "gather-displays"})


# -- the list ------------------------------------------------------------------------------------


async def listings(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_GATHER)
    found = await request_context(request).kernel.gather.all(user)
    rows: list[list[str | RenderElement]] = []
    for stored in found:
        name = stored.name
        operations = {
            "edit": el.link("Edit", _path(name), attributes={
                "aria-label": f"Edit {stored.definition.label}"}),
            "duplicate": el.link("Duplicate", _path(name, "duplicate"), weight=1, attributes={
                "aria-label": f"Duplicate {stored.definition.label}"}),
            "export": el.link("Export", _path(name, "export"), weight=2, attributes={
                "aria-label": f"Export {stored.definition.label}"}),
        }
        if name != FRONT_PAGE:
            operations["delete"] = el.link("Delete", _path(name, "delete"), weight=3,
                                           attributes={"aria-label":
                                                       f"Delete {stored.definition.label}"})
        rows.append([el.link(stored.definition.label, _path(name)), name,
                     stored.definition.base, _display_links(stored), str(stored.version),
                     el.container(operations, tag="span", attributes={"class": "operations"})])
    table = el.table(["Label", "Machine name", "Base", "Displays", "Version", "Operations"],
                     rows, empty="There are no listings yet.",
                     attributes={"aria-label": "Listings"})  # the heading: no caption
    return _page(request, "Listings", [_tree(request, table)], actions=[
        {"title": "Add listing", "href": f"{BASE}/add"},
        {"title": "Import listing", "href": f"{BASE}/import"}])


# -- the builder ---------------------------------------------------------------------------------


async def _choices(request: Request) -> Choices:
    kernel = request_context(request).kernel
    permissions = [p.name for p in kernel.registry.all()]
    return Choices.of(await kernel.content.types.cached(), permissions)


def _shaping(submitted: FormData) -> dict[str, Any]:
    """What of the submission shapes the rebuilt form: the filters' fields and operators
    (which choose the operators offered and the value widgets) and the chosen columns (shown
    first, in their order). What they name is then checked against the rebuilt form."""
    current: dict[str, Any] = {key: value for key, value in submitted.multi_items()
                               if isinstance(value, str) and key.startswith("filter.")}
    current["fields"] = [v for v in submitted.getlist("fields") if isinstance(v, str)]
    return current


async def _build(request: Request, editing: Editing, state: FormState,
                 current: Mapping[str, Any]) -> RenderElement:
    tree = editor_tree(editing, Rows.of(state.data), await _choices(request), current)
    return await altered(request, tree)


def _editing(stored: Stored | None, document: Mapping[str, Any], kept: Mapping[str, Any]
             ) -> Editing:
    access = document.get("access")
    return Editing(stored.name if stored is not None else None,
                   _path(stored.name) if stored is not None else f"{BASE}/add", kept,
                   access if isinstance(access, str) else "access content")


async def _open(request: Request, stored: Stored | None, document: Mapping[str, Any], *,
                title: str, tab: str) -> Response:
    """A new rendering of the builder showing ``document``."""
    choices = await _choices(request)
    try:
        rows, values, kept = form_of(document, choices)
    except NotEditable as exc:
        return _page(request, title, [], about=stored, tab=tab, messages=[(
            "warning", f"This listing {exc}, which the builder does not show: export it,"
                       " change the YAML and import it again.")])
    editing = _editing(stored, document, kept)
    state, tree = await open_form(
        request, EDITOR_FORM, editing.state(rows),
        lambda state: _build(request, editing, state, values))
    return _page(request, title, [render_form(request, tree, state, values=values)],
                 about=stored, tab=tab)


async def add_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_GATHER)
    return await _open(request, None, _NEW, title="Add listing", tab="")


async def edit_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_GATHER)
    stored = await _stored(request)
    return await _open(request, stored, stored.definition.document(),
                       title=f"Edit listing {stored.definition.label}", tab="edit")


async def duplicate_form(request: Request) -> Response:
    """The builder for a new listing holding a copy of this one (its display paths moved
    under ``/copy``, since a path belongs to one listing)."""
    require_admin(request, ADMINISTER_GATHER)
    stored = await _stored(request)
    document = stored.definition.document()
    document["name"] = f"{stored.name[:59]}_copy"
    document["label"] = f"Copy of {stored.definition.label}"[:255]
    for key in ("page", "feed"):
        shown = document.get("displays", {}).get(key)
        if isinstance(shown, dict) and isinstance(shown.get("path"), str):
            shown["path"] = shown["path"].rstrip("/") + "/copy"
    return await _open(request, None, document,
                       title=f"Duplicate listing {stored.definition.label}", tab="")


def _errors(exc: ServiceError, built: Built, tree: RenderElement) -> dict[str, str]:
    """The validator's and the service's errors on the form's elements (module docstring)."""
    elements: dict[str, RenderElement] = {}
    for element in forms.walk(tree):
        key = forms.error_key(element)
        if key is not None:
            elements.setdefault(key, element)
    found: dict[str, str] = {}
    for path, message in (exc.problem_errors() or {"form": exc.message}).items():
        key = built.error_key(path, set(elements))
        if key == "form" and path != "form":
            message = f"{path}: {message}"
        elif message.startswith("String should match pattern"):
            # The pattern itself helps nobody: what the input's description says does.
            about = elements[key].get("#description")
            message = "is not in the form it must have" + (
                f" ({str(about)[:1].lower()}{str(about)[1:].rstrip('.')})" if about else "")
        found.setdefault(key, message)
    return sentences(found, titles(tree))


async def _preview(request: Request, preview: Preview) -> Markup:
    """The preview of an unsaved definition: the count and time, its first page in its
    style, and the compiled SQL with its plan."""
    result = preview.result
    definition = result.resolved.definition
    style = definition.displays.page.style if definition.displays.page is not None \
        else "teasers"
    shown = len(result.items)
    summary = f"{preview.total} match{'es' if preview.total != 1 else ''}" \
              f" (the first page shows {shown}), read in {preview.seconds * 1000:.1f} ms."
    parts: list[Markup] = [_tree(request, el.markup("Preview", tag="h2")),
                           _tree(request, el.markup(summary, tag="p",
                                                    attributes={"class": "gather-count"}))]
    if result.items and style in ("teasers", "grid"):
        parts.append(Markup("").join(await render_items(request, result.items, "teaser")))
    elif result.items:
        parts.append(await render_rows(request, result, style))
    elif definition.empty_text:
        parts.append(_tree(request, el.markup(definition.empty_text, tag="p",
                                              attributes={"class": "gather__empty"})))
    for title, text in (("Compiled SQL", preview.sql), ("PostgreSQL's plan", preview.plan)):
        parts.append(_tree(request, {
            "#type": "details", "#title": title,
            "code": el.container({"code": el.markup(text, tag="code")},
                                 attributes={"class": "gather-sql"})}))
    section = Markup('<section class="gather-preview gather--{}" id="gather-preview"'
                     ' aria-label="Preview">{}</section>').format(style, Markup("").join(parts))
    return section


async def _submit(request: Request, stored: Stored | None) -> Response:
    user = require_admin(request, ADMINISTER_GATHER)
    ctx = request_context(request)
    submitted = await request.form()
    current = _shaping(submitted)
    document = stored.definition.document() if stored is not None else _NEW
    choices = await _choices(request)
    try:
        rows, _, kept = form_of(document, choices)
    except NotEditable as exc:
        raise ServiceError(409, f"This listing {exc}, which the builder does not edit:"
                                " import its YAML instead.") from None
    fresh = _editing(stored, document, kept)
    title = f"Edit listing {stored.definition.label}" if stored is not None else "Add listing"
    tab = "edit" if stored is not None else ""
    received = await receive(request, EDITOR_FORM, fresh.state(rows),
                             lambda state: _build(request, fresh, state, current))
    state = received.state
    if state.data.get("listing") != fresh.listing:
        raise ServiceError(400, TAMPERED)
    editing = Editing.of_state(state.data, fresh.action)
    values = received.values

    def page(tree: RenderElement, *, errors: Mapping[str, str] | None = None,
             status: int = 200, preview: Markup | None = None,
             messages: list[tuple[str, str]] | None = None) -> Response:
        form = render_form(request, tree, state, values=values, errors=errors)
        return _page(request, title, [*([preview] if preview else []), form], about=stored,
                     tab=tab, status=status, messages=messages)

    if received.expired is not None:
        return page(received.tree, status=received.expired_status,
                    messages=[("error", received.expired)])
    rows = Rows.of(state.data)
    op = forms.pressed(submitted, rows.buttons())
    rebuilt = await _rebuild(request, editing, state, op, values, current)
    if rebuilt is not None:
        return page(rebuilt[0])
    built = document_of(values, rows, editing, choices)
    errors = await _check(request, received.tree, values)
    if errors:
        # Every error at once: the validator's too, where no input check spoke first.
        try:
            resolve(parse(built.document), await ctx.kernel.content.types.cached())
        except GatherError as exc:
            for key, message in _errors(exc, built, received.tree).items():
                errors.setdefault(key, message)
        return page(received.tree, errors=errors, status=400)
    gather = ctx.kernel.gather
    try:
        if op == PREVIEW:
            try:
                given = dict(parse_qsl(str(values.get(PREVIEW_WITH, "")), max_num_fields=50))
            except ValueError:
                return page(received.tree, status=400,
                            errors={PREVIEW_WITH: "Preview with: at most 50 values."})
            try:
                preview = await gather.preview(user, built.document, stage=ctx.stage,
                                               given=given)
            except GatherError as exc:
                if exc.status not in (400, 404):
                    raise
                # A value the preview was given does not fit: said next to where it was typed.
                return page(received.tree, status=400, errors={PREVIEW_WITH: exc.message})
        elif stored is None:
            # Once (a double-clicked Save adds one listing); an edit saved again changes
            # nothing.
            async with once(request, received):
                saved = await gather.create(user, built.document)
        else:
            saved = await gather.put(user, stored.name, built.document)
    except FormStateError:
        return page(received.tree, status=400, messages=[("error", EXPIRED)])
    except GatherError as exc:
        if exc.status == 403:
            raise
        return page(received.tree, errors=_errors(exc, built, received.tree),
                    status=exc.status if exc.status in (409, 422) else 400)
    if op == PREVIEW:
        return page(received.tree, preview=await _preview(request, preview))
    verb = "added" if stored is None else "saved"
    return await finish(request, received, location=_path(saved.name),
                        message=f"The listing “{saved.definition.label}” has been {verb}"
                                f" (version {saved.version}).",
                        result={"listing": saved.name, "version": saved.version})


async def _check(request: Request, tree: RenderElement, values: forms.FormValues
                 ) -> dict[str, str]:
    ctx = request_context(request)
    errors = forms.check(tree, values)
    for key, message in (await ctx.kernel.forms.validate(tree, values,
                                                        user=ctx.current_user)).items():
        errors.setdefault(key, message)
    return errors


@form_post
async def add_submit(request: Request) -> Response:
    return await _submit(request, None)


@form_post
async def edit_submit(request: Request) -> Response:
    require_admin(request, ADMINISTER_GATHER)
    return await _submit(request, await _stored(request))


async def ajax_rebuild(request: Request, state: FormState, submitted: FormData) -> Markup:
    """``POST /form/ajax`` for the builder: the filters or the sorts, rebuilt
    after "Add a filter" or "Remove" (who may use the builder is checked again, and the
    state must be of a listing that still exists)."""
    user = require_admin(request, ADMINISTER_GATHER)
    ctx = request_context(request)
    listing = state.data.get("listing")
    if listing is not None and not isinstance(listing, str):
        raise ServiceError(400, TAMPERED)
    if listing is not None:
        await ctx.kernel.gather.get(user, listing)
    editing = Editing.of_state(state.data, _path(listing) if listing else f"{BASE}/add")
    current = _shaping(submitted)
    values = forms.read(await _build(request, editing, state, current), submitted)
    op = forms.pressed(submitted, Rows.of(state.data).buttons())
    rebuilt = await _rebuild(request, editing, state, op, values, current)
    if rebuilt is None:
        raise ServiceError(400, "The request names no rebuild button of this form.")
    tree, region = rebuilt
    return ctx.kernel.forms.render_region(tree, region, csrf_token=session_token(ctx),
                                          state=state, values=values)


async def _rebuild(request: Request, editing: Editing, state: FormState, op: str | None,
                   values: forms.FormValues, current: Mapping[str, Any]
                   ) -> tuple[RenderElement, str] | None:
    """The form after the rebuild button ``op`` ("Add a filter", "Remove"): its rows
    changed in the state, the tree built again with what ``form_ajax`` adds to the rebuilt
    part, and that part's error key; None when ``op`` is not a rebuild button."""
    ctx = request_context(request)
    rows = Rows.of(state.data)
    region = rows.rebuild(op) if op is not None else None
    if op is None or region is None:
        return None
    state.data.update(rows.data())
    tree = await _build(request, editing, state, current)
    added = await ctx.kernel.forms.ajax(tree, op, values, user=ctx.current_user)
    part = forms.find(tree, region)
    if added is not None and part is not None:
        part["form_ajax"] = {**added, "#weight": 10_000}
    return tree, region


# -- deleting ------------------------------------------------------------------------------------


def _removes(stored: Stored) -> str:
    displays = stored.definition.displays
    parts = [f"its page at {displays.page.path}" if displays.page else "",
             f"its feed at {displays.feed.path}" if displays.feed else "",
             f"its JSON display at /api/v1/gather/{stored.name}" if displays.json_ else ""]
    shown = [p for p in parts if p]
    what = ", ".join(shown) if shown else "no display"
    return f"Deleting the listing removes its definition (version {stored.version}) and" \
           f" {what}; those addresses will answer 404. Items are not touched." \
           " This cannot be undone."


async def _delete_tree(request: Request, stored: Stored) -> RenderElement:
    ctx = request_context(request)
    return await ctx.kernel.forms.build(confirm_tree(
        DELETE_FORM, _path(stored.name, "delete"),
        f"Are you sure you want to delete the listing “{stored.definition.label}”?",
        "Delete listing", _path(stored.name), consequence=_removes(stored)),
        user=ctx.current_user)


def _delete_page(request: Request, stored: Stored, tree: RenderElement,
                 errors: Mapping[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    content = ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), errors=errors)
    return _page(request, f"Delete listing {stored.definition.label}", [content],
                 about=stored, tab="delete", status=status)


async def delete_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_GATHER)
    stored = await _stored(request)
    return _delete_page(request, stored, await _delete_tree(request, stored))


@form_post
async def delete_submit(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_GATHER)
    stored = await _stored(request)
    tree = await _delete_tree(request, stored)

    async def delete(values: forms.FormValues) -> Done:
        await request_context(request).kernel.gather.delete(user, stored.name)
        return Done(f"The listing “{stored.definition.label}” has been deleted.", BASE,
                    {"listing": stored.name})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _delete_page(request, stored, tree, errors, status)

    return await act(request, tree, delete, show)


# -- export and import ---------------------------------------------------------------------------


async def export(request: Request) -> Response:
    require_admin(request, ADMINISTER_GATHER)
    stored = await _stored(request)
    return Response(dump_yaml(stored.definition), media_type="application/yaml", headers={
        "content-disposition": f'attachment; filename="{stored.name}.yaml"',
        "cache-control": "private, no-store"})


def _import_tree() -> RenderElement:
    return forms.form(IMPORT_FORM, f"{BASE}/import", {
        "yaml": {"#type": "textarea", "#name": "yaml", "#title": "Definition (YAML)",
                 "#required": True, "#maxlength": 256 * 1024,
                 "#description": "A definition as exported (or as `trovato gather export`"
                                 " writes it)."},
        "replace": {"#type": "checkbox", "#name": "replace", "#return_value": "1",
                    "#title": "Replace the listing of the same name if there is one"},
        "actions": {"#type": "actions", "import": forms.submit("import", title="Import")},
    })


def _import_errors(exc: ServiceError) -> forms.FormErrors:
    """The YAML's problems: the refusal next to the text, each part it names in the
    summary (the part's path as its label)."""
    errors = {"yaml": exc.message}
    errors.update({path: message for path, message in exc.problem_errors().items()
                   if path != "yaml"})
    return errors


def _import_page(request: Request, tree: RenderElement, values: forms.FormValues | None = None,
                 errors: Mapping[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    labels = {key: f"Part {key}" for key in errors or {} if key not in ("yaml", "form")}
    content = ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), values=values,
                                      errors=errors, labels=labels)
    return _page(request, "Import listing", [content], status=status)


async def import_form(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_GATHER)
    tree = await request_context(request).kernel.forms.build(_import_tree(), user=user)
    return _import_page(request, tree)


@form_post
async def import_submit(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_GATHER)
    gather = request_context(request).kernel.gather
    tree = await request_context(request).kernel.forms.build(_import_tree(), user=user)

    async def save(values: forms.FormValues) -> Done:
        document = load_yaml(str(values["yaml"]))
        if values.get("replace") == "1":
            saved = await gather.put(user, document["name"], document)
        else:
            saved = await gather.create(user, document)
        return Done(f"The listing “{saved.definition.label}” has been imported"
                    f" (version {saved.version}).", _path(saved.name),
                    {"listing": saved.name, "version": saved.version})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _import_page(request, tree, values, errors, status)

    return await act(request, tree, save, show, refused=_import_errors)


routes = [
    Route(BASE, listings, methods=["GET"]),
    Route(f"{BASE}/add", add_form, methods=["GET"]),
    Route(f"{BASE}/add", add_submit, methods=["POST"]),
    Route(f"{BASE}/import", import_form, methods=["GET"]),
    Route(f"{BASE}/import", import_submit, methods=["POST"]),
    Route(f"{BASE}/{{name}}/edit", edit_form, methods=["GET"]),
    Route(f"{BASE}/{{name}}/edit", edit_submit, methods=["POST"]),
    Route(f"{BASE}/{{name}}/duplicate", duplicate_form, methods=["GET"]),
    Route(f"{BASE}/{{name}}/delete", delete_form, methods=["GET"]),
    Route(f"{BASE}/{{name}}/delete", delete_submit, methods=["POST"]),
    Route(f"{BASE}/{{name}}/export", export, methods=["GET"]),
]
