"""The item type screens: ``/admin/structure/types`` (the list), ``.../add``,
``.../{type}`` (edit) and ``.../{type}/delete`` (with the impact stated first).

Thin: the forms go through the form API (:mod:`trovato.web.admin._structure`), and the item
type service (:class:`~trovato.content.type_service.ItemTypes`) validates and saves exactly as for
the JSON API (``/api/v1/item-types``); its refusals are shown next to the input they are about.
Every route needs ``access administration pages`` and ``administer content types``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.types import (
    TYPE_DEFAULTS,
    TYPE_NAME,
    TYPE_NAME_MAX,
    ItemType,
    ItemTypeError,
)
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.forms.state import FormState, FormStateError
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web.admin._confirm import confirm_tree
from trovato.web.admin._structure import (
    TYPES_PATH,
    Received,
    administrator,
    altered,
    cancel_link,
    check,
    content,
    finish,
    item_type,
    once,
    open_form,
    page,
    receive,
    render_form,
    render_tree,
    sentences,
    titles,
    type_path,
)

TYPE_FORM = "item_type_form"
DELETE_FORM = "item_type_delete_form"
SAVE = "save"
_NOT_NAME = re.compile(r"[^a-z0-9]+")
DEFAULT_TITLES = {"status": "Published", "promote": "Promoted to front page",
                  "sticky": "Sticky at top of lists"}


def machine_name(label: str, *, prefix: str = "", limit: int = TYPE_NAME_MAX) -> str:
    """A machine name made from ``label`` ("Blog post" → ``blog_post``): accents dropped,
    every run of other characters an underscore, a letter first; empty when the label has no
    letter or digit to make one from."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    name = _NOT_NAME.sub("_", ascii_text.lower()).strip("_")
    if not name:
        return ""
    if not name[0].isalpha() and not prefix:
        name = f"type_{name}"
    return (prefix + name)[:limit].rstrip("_")


# -- the list -----------------------------------------------------------------------------------


def _operations(item: ItemType) -> RenderElement:
    base = type_path(item)
    return el.container({
        "fields": el.link("Manage fields", f"{base}/fields"),
        "edit": el.link("Edit", base, weight=1),
        "delete": el.link("Delete", f"{base}/delete", weight=2),
    }, tag="span", attributes={"class": "operations"})


async def type_list(request: Request) -> Response:
    administrator(request)
    services = content(request)
    types = sorted(await services.types.all(), key=lambda t: (t.label.lower(), t.type))
    counts = await services.types.item_counts()
    rows: list[list[str | RenderElement]] = [
        [el.link(t.label, f"{type_path(t)}/fields"), t.type, t.description,
         str(len(t.fields)), str(counts.get(t.type, 0)), _operations(t)]
        for t in types
    ]
    table = el.table(["Item type", "Machine name", "Description", "Fields", "Items",
                      "Operations"], rows, empty="There are no item types yet.",
                     attributes={"aria-label": "Item types"})  # the heading: no caption
    add = el.link("Add item type", f"{TYPES_PATH}/add", attributes={"class": "button"})
    return page(request, title="Item types",
                parts=[render_tree(request, add), render_tree(request, table)])


# -- add and edit -------------------------------------------------------------------------------


def _type_form(current: ItemType | None) -> RenderElement:
    action = f"{TYPES_PATH}/add" if current is None else type_path(current)
    elements: dict[str, RenderElement] = {
        "label": {"#type": "textfield", "#name": "label", "#title": "Label", "#required": True,
                  "#maxlength": 255, "#weight": 0,
                  "#default_value": current.label if current else "",
                  "#description": "The name of the type as editors see it, e.g. Blog post."},
    }
    if current is None:
        elements["type"] = {
            "#type": "textfield", "#name": "type", "#title": "Machine name", "#weight": 1,
            "#maxlength": TYPE_NAME_MAX, "#default_value": "",
            "#description": "Lowercase letters, digits and underscores, starting with a"
                            " letter; it cannot be changed later. Left empty, it is made from"
                            " the label."}
    else:
        elements["type"] = {"#type": "markup", "#tag": "p", "#weight": 1,
                            "#value": f"Machine name: {current.type} (cannot be changed)"}
    elements.update({
        "description": {"#type": "textarea", "#name": "description", "#title": "Description",
                        "#maxlength": 2000, "#weight": 2,
                        "#default_value": current.description if current else "",
                        "#description": "Shown to editors choosing what to create."},
        "title": {
            "#type": "details", "#title": "Title", "#weight": 3,
            "has_title": {"#type": "checkbox", "#name": "has_title", "#return_value": "1",
                          "#title": "Items of this type have a title",
                          "#default_value": "1" if current is None or current.has_title
                          else ""},
            "title_label": {"#type": "textfield", "#name": "title_label", "#maxlength": 255,
                            "#title": "Label of the title",
                            "#default_value": current.title_label if current else "Title"},
        },
        "defaults": {
            "#type": "details", "#title": "Publishing defaults", "#weight": 4,
            "#description": "What a new item of this type is unless its editor changes it.",
            **{key: {"#type": "checkbox", "#name": f"defaults[{key}]", "#return_value": "1",
                     "#error_key": f"defaults.{key}", "#title": title,
                     "#default_value": "1" if (current.defaults if current
                                              else TYPE_DEFAULTS)[key] else ""}
               for key, title in DEFAULT_TITLES.items()},
        },
        "actions": {"#type": "actions", "#weight": 100,
                    "save": forms.submit(SAVE, title="Save and manage fields" if current is None
                                         else "Save item type"),
                    "cancel": cancel_link(TYPES_PATH)},
    })
    return forms.form(TYPE_FORM, action, elements)


def _document(values: forms.FormValues) -> dict[str, Any]:
    text = forms.text_values(values)
    return {"label": text.get("label", ""), "description": text.get("description", ""),
            "has_title": text.get("has_title") == "1",
            "title_label": text.get("title_label", "") or "Title",
            "defaults": {key: text.get(f"defaults[{key}]") == "1" for key in DEFAULT_TITLES}}


async def add_form(request: Request) -> Response:
    administrator(request)
    state, tree = await open_form(request, TYPE_FORM, {"type": None},
                                  lambda _state: altered(request, _type_form(None)))
    return _type_page(request, None, tree, state)


async def edit_form(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    state, tree = await open_form(request, TYPE_FORM, {"type": current.type},
                                  lambda _state: altered(request, _type_form(current)))
    return _type_page(request, current, tree, state)


def _type_page(request: Request, current: ItemType | None, tree: RenderElement,
               state: FormState, *, received: Received | None = None,
               errors: dict[str, str] | None = None, status: int = 200,
               messages: list[tuple[str, str]] | None = None) -> Response:
    shown = sentences(errors or {}, titles(tree))
    form = render_form(request, tree, state, values=received.values if received else None,
                       errors=shown)
    if current is None:
        return page(request, title="Add item type", parts=[form], status=status,
                    messages=messages, form=True)
    return page(request, title=f"Edit {current.label}", parts=[form],
                about=current, tab="edit", status=status, messages=messages, form=True)


@form_post
async def add_submit(request: Request) -> Response:
    user = administrator(request)
    received = await receive(request, TYPE_FORM, {"type": None},
                             lambda _state: altered(request, _type_form(None)))
    if received.expired:
        return _type_page(request, None, received.tree, received.state, received=received,
                          status=received.expired_status, messages=[("error", received.expired)])
    document = _document(received.values)
    typed = forms.text_values(received.values).get("type", "").strip()
    name = typed or machine_name(document["label"])
    own: dict[str, str] = {}
    if not name and document["label"].strip():
        own["type"] = ("Machine name cannot be made from this label; type one: a lowercase"
                       " letter, then lowercase letters, digits or underscores.")
    elif name and (len(name) > TYPE_NAME_MAX or not TYPE_NAME.match(name)):
        own["type"] = (f"Machine name must be a lowercase letter, then lowercase letters,"
                       f" digits or underscores, at most {TYPE_NAME_MAX} characters.")
    errors = await check(request, received, own)
    if errors:
        return _type_page(request, None, received.tree, received.state, received=received,
                          errors=errors, status=400)
    try:
        async with once(request, received):  # a double-clicked Save adds one type
            created = await content(request).types.create({**document, "type": name},
                                                          actor=user.id)
    except FormStateError:
        return _type_page(request, None, received.tree, received.state, received=received,
                          status=400, messages=[("error", EXPIRED)])
    except ItemTypeError as exc:
        return _type_page(request, None, received.tree, received.state, received=received,
                          errors=exc.errors or {"form": exc.message}, status=exc.status,
                          messages=[("error", exc.message)])
    return await finish(request, received, location=f"{type_path(created)}/fields",
                        message=f"The item type “{created.label}” has been created; now add"
                                " its fields.", result={"type": created.type})


@form_post
async def edit_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    # Not once: saving the same settings again changes nothing.
    received = await receive(request, TYPE_FORM, {"type": current.type},
                             lambda _state: altered(request, _type_form(current)))
    if received.expired:
        return _type_page(request, current, received.tree, received.state, received=received,
                          status=received.expired_status, messages=[("error", received.expired)])
    errors = await check(request, received)
    if errors:
        return _type_page(request, current, received.tree, received.state, received=received,
                          errors=errors, status=400)
    try:
        updated = await content(request).types.update(
            current.type, _document(received.values), actor=user.id, partial=True)
    except ItemTypeError as exc:
        if exc.status == 404:
            raise
        return _type_page(request, current, received.tree, received.state, received=received,
                          errors=exc.errors or {"form": exc.message}, status=exc.status,
                          messages=[("error", exc.message)])
    return await finish(request, received, location=TYPES_PATH,
                        message=f"The item type “{updated.label}” has been updated.",
                        result={"type": updated.type})


# -- delete -------------------------------------------------------------------------------------


def _impact(count: int) -> str:
    if count == 0:
        return "No item of this type exists, so no content will be deleted."
    noun = "item of this type" if count == 1 else "items of this type"
    return (f"{count} {noun} will be deleted with it, with all their revisions."
            " This cannot be undone.")


def _delete_form(current: ItemType, count: int) -> RenderElement:
    return confirm_tree(DELETE_FORM, f"{type_path(current)}/delete",
                        f"Delete the item type {current.label} ({current.type})?",
                        "Delete item type", TYPES_PATH, consequence=_impact(count))


def _delete_page(request: Request, current: ItemType, tree: RenderElement,
                 state: FormState, *, status: int = 200,
                 messages: list[tuple[str, str]] | None = None,
                 errors: dict[str, str] | None = None) -> Response:
    return page(request, title=f"Delete {current.label}",
                parts=[render_form(request, tree, state, errors=errors)],
                about=current, tab="delete", status=status, messages=messages,
                form=True)


async def delete_form(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    count = (await content(request).types.item_counts()).get(current.type, 0)
    # The state keeps the count the confirmation stated: deleting more is not confirmed.
    state, tree = await open_form(request, DELETE_FORM, {"type": current.type, "count": count},
                                  lambda _state: altered(request, _delete_form(current, count)))
    return _delete_page(request, current, tree, state)


@form_post
async def delete_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    services = content(request)
    count = (await services.types.item_counts()).get(current.type, 0)
    received = await receive(request, DELETE_FORM, {"type": current.type, "count": count},
                             lambda _state: altered(request, _delete_form(current, count)))
    if received.expired or received.state.data.get("count") != count:
        # Expired, or the number of items changed since the confirmation was shown: ask again
        # with the number as it is now (the page shown seals it).
        received.state.data["count"] = count
        message = received.expired or ("The number of items of this type has changed since"
                                       " the confirmation was shown; check it and confirm"
                                       " again.")
        status = received.expired_status if received.expired else 409
        return _delete_page(request, current, received.tree, received.state, status=status,
                            messages=[("error", message)])
    errors = await check(request, received)
    if errors:
        return _delete_page(request, current, received.tree, received.state, status=400,
                            errors=errors)
    try:
        async with once(request, received):  # a double-clicked Delete deletes once
            result = await services.types.delete(current.type, actor=user.id, force=True,
                                                 purge=services.items.purge_type)
    except FormStateError:
        return _delete_page(request, current, received.tree, received.state, status=400,
                            messages=[("error", EXPIRED)])
    return await finish(request, received, location=TYPES_PATH, message=result.message,
                        result={"type": result.type, "deleted_items": result.deleted_items})


routes = [
    Route(TYPES_PATH, type_list, methods=["GET"]),
    Route(f"{TYPES_PATH}/add", add_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/add", add_submit, methods=["POST"]),
    Route(f"{TYPES_PATH}/{{type}}", edit_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}", edit_submit, methods=["POST"]),
    Route(f"{TYPES_PATH}/{{type}}/delete", delete_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}/delete", delete_submit, methods=["POST"]),
]
