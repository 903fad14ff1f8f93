"""The field screens of an item type: ``/admin/structure/types/{type}/fields`` (the fields in
order, and their order as weights), ``.../fields/add`` (:mod:`.field_add`: label, machine name
and field type, then that type's settings), ``.../fields/{field}`` (edit) and
``.../fields/{field}/delete`` (with the data it deletes stated first).

The settings inputs are made from the field type's settings model (:mod:`.field_settings`).
Every change goes through the item type service's one-field operations (add, update, remove,
reorder), under the type's lock, with the same validation as the JSON API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.fields import (
    FieldDefinition,
    UnknownFieldTypeError,
)
from trovato.content.types import ItemType, ItemTypeError
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.forms.state import FormState, FormStateError
from trovato.forms.widgets import UnknownWidgetError
from trovato.kernel.context import request_context
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
)
from trovato.web.admin.field_add import add_form, add_submit
from trovato.web.admin.field_settings import (
    LABELS,
    Targets,
    common_inputs,
    field_types,
    fields_path,
    instance,
    parse_settings,
    settings_fieldset,
    target_errors,
    targets_for,
    text_formats,
    type_label,
    values_label,
)
from trovato.web.admin.search_weights import BASE as SEARCH_WEIGHTS

ORDER_FORM = "field_order_form"
FIELD_FORM = "field_form"
REMOVE_FORM = "field_remove_form"
WEIGHT_RANGE = 1000  # weights offered: -1000 … 1000, enough to place any of 200 fields


def _field(current: ItemType, request: Request) -> FieldDefinition:
    found = current.field(request.path_params["field"])
    if found is None:
        raise ServiceError(404, f"The item type {current.label} has no such field.")
    return found


def _widget_label(request: Request, definition: FieldDefinition) -> str:
    try:
        return request_context(request).kernel.widgets.for_field(definition).label
    except (UnknownWidgetError, UnknownFieldTypeError):
        return "none"


# -- the field list and its order ---------------------------------------------------------------


def _order_form(current: ItemType) -> RenderElement:
    order: RenderElement = {
        "#type": "fieldset", "#title": "Field order", "#weight": 0,
        "#description": "Fields with a lower weight come first.",
        "#attributes": {"class": "field-order", "data-field-order": "weight"}}
    for index, definition in enumerate(current.fields):
        order[definition.name] = {
            "#type": "number", "#name": f"weight[{definition.name}]",
            "#title": f"Weight of {definition.label} ({definition.name})",
            "#step": "1", "#min": -WEIGHT_RANGE, "#max": WEIGHT_RANGE, "#required": True,
            "#default_value": str(index), "#weight": index,
            "#attributes": {"class": "field-order__weight"}}
    return forms.form(ORDER_FORM, fields_path(current), {
        "order": order,
        "actions": {"#type": "actions", "#weight": 10,
                    "save": forms.submit("save", title="Save order")},
    })


def _field_table(request: Request, current: ItemType) -> RenderElement:
    registry = field_types(request)
    base = fields_path(current)
    rows: list[list[str | RenderElement]] = [
        [el.link(d.label, f"{base}/{d.name}"), d.name, type_label(registry, d.type),
         _widget_label(request, d), "Yes" if d.required else "No",
         values_label(d.cardinality),
         el.container({"edit": el.link("Edit", f"{base}/{d.name}"),
                       "remove": el.link("Remove", f"{base}/{d.name}/delete", weight=1)},
                      tag="span", attributes={"class": "operations"})]
        for d in current.fields
    ]
    return el.table(["Label", "Machine name", "Field type", "Widget", "Required", "Values",
                     "Operations"], rows, caption=f"Fields of {current.label}",
                    empty="This type has no fields yet.")


def _fields_page(request: Request, current: ItemType, tree: RenderElement | None,
                 state: FormState | None, *, received: Received | None = None,
                 errors: dict[str, str] | None = None, status: int = 200,
                 messages: list[tuple[str, str]] | None = None) -> Response:
    add = el.link("Add field", f"{fields_path(current)}/add", attributes={"class": "button"})
    # Where a site builder shaping the fields looks for how much each counts in search (the
    # same permission opens it).
    search = el.container({"link": el.link(f"Search weights of {current.label}",
                                           f"{SEARCH_WEIGHTS}/{current.type}")},
                          tag="p")
    parts = [render_tree(request, add), render_tree(request, _field_table(request, current)),
             render_tree(request, search)]
    if tree is not None and state is not None:
        shown = sentences(errors or {}, {**LABELS, **titles(tree)})
        parts.append(render_form(request, tree, state,
                                 values=received.values if received else None,
                                 errors=shown, labels=LABELS))
    return page(request, title=f"Fields of {current.label}", parts=parts,
                about=current, tab="fields", status=status, messages=messages,
                form=tree is not None, field_order=tree is not None)


def _order_state(current: ItemType) -> dict[str, Any]:
    return {"type": current.type, "order": [d.name for d in current.fields]}


async def field_list(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    if len(current.fields) < 2:  # nothing to order
        return _fields_page(request, current, None, None)
    state, tree = await open_form(request, ORDER_FORM, _order_state(current),
                                  lambda _state: altered(request, _order_form(current)))
    return _fields_page(request, current, tree, state)


@form_post
async def order_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    # Not once: saving the same order again changes nothing.
    received = await receive(request, ORDER_FORM, _order_state(current),
                             lambda _state: altered(request, _order_form(current)))
    if received.expired:
        return _fields_page(request, current, received.tree, received.state,
                            received=received, status=received.expired_status,
                            messages=[("error", received.expired)])
    errors = await check(request, received)
    if errors:
        return _fields_page(request, current, received.tree, received.state,
                            received=received, errors=errors, status=400)
    stated = received.state.data.get("order")
    text = forms.text_values(received.values)
    weights = {name: int(float(text.get(f"weight[{name}]", "0") or 0))
               for name in (stated if isinstance(stated, list) else [])}
    # Equal weights keep the order the page showed.
    order = sorted(weights, key=lambda name: (weights[name], list(weights).index(name)))
    try:
        updated = await content(request).types.reorder_fields(current.type, order,
                                                               actor=user.id)
    except ItemTypeError as exc:
        if exc.status == 404:
            raise
        fresh = await item_type(request)
        state, tree = await open_form(request, ORDER_FORM, _order_state(fresh),
                                      lambda _state: altered(request, _order_form(fresh)))
        return _fields_page(request, fresh, tree, state, status=exc.status,
                            messages=[("error", exc.message)])
    return await finish(request, received, location=fields_path(updated),
                        message=f"The order of the fields of “{updated.label}” has been saved.",
                        result={"type": updated.type,
                                "order": [d.name for d in updated.fields]})


# -- editing a field ----------------------------------------------------------------------------


async def _edit_tree(request: Request, current: ItemType, definition: FieldDefinition
                     ) -> RenderElement:
    """The edit form after ``form_alter``, offering the site's image styles."""
    styles = await request_context(request).kernel.files.styles.all()
    registry = field_types(request)
    targets = await targets_for(request, registry.get(definition.type)
                                if definition.type in registry else None)
    return await altered(request, _edit_form(request, current, definition,
                                             {n: s.label for n, s in styles.items()}, targets))


def _edit_form(request: Request, current: ItemType, definition: FieldDefinition,
               styles: Mapping[str, str], targets: Targets) -> RenderElement:
    registry = field_types(request)
    elements: dict[str, RenderElement] = {
        "about": {"#type": "markup", "#tag": "p", "#weight": -1,
                  "#value": f"Machine name: {definition.name}. Field type:"
                            f" {type_label(registry, definition.type)}. Widget:"
                            f" {_widget_label(request, definition)}."},
        "label": {"#type": "textfield", "#name": "label", "#title": "Label",
                  "#required": True, "#maxlength": 255, "#weight": 0,
                  "#default_value": definition.label},
        **common_inputs(definition),
    }
    if definition.type in registry:
        fieldset = settings_fieldset(registry.get(definition.type), definition.settings,
                                     text_formats(request), targets)
        if fieldset is not None:
            elements["settings"] = fieldset
        widgets = request_context(request).kernel.widgets
        choices = widgets.choices(definition.type)
        if len(choices) > 1:
            elements["widget"] = {
                "#type": "select", "#name": "widget", "#title": "Widget", "#weight": 30,
                "#options": {name: widgets.get(name).label for name in choices},
                "#required": True,
                "#default_value": definition.widget or choices[0],
                "#description": "How editors enter the values."}
    elements["display"] = _display_inputs(definition, styles)
    return forms.form(FIELD_FORM, f"{fields_path(current)}/{definition.name}", {
        **elements, "actions": {"#type": "actions", "#weight": 100,
                                "save": forms.submit("save", title="Save field"),
                                "cancel": cancel_link(fields_path(current))}})


def _display_inputs(definition: FieldDefinition, styles: Mapping[str, str]) -> RenderElement:
    """How the full view shows the field (the teaser shows the item's summary, not fields);
    an image field, in which image style."""
    default = "Hidden" if definition.type == "text_long" else "Above"
    inputs: RenderElement = {
        "#type": "details", "#title": "Display in the full view", "#weight": 40,
        "label": {"#type": "select", "#name": "display[label]", "#error_key": "display.label",
                  "#title": "Label", "#default_value": definition.display.get("label", ""),
                  "#options": {"": f"As the field type shows it ({default})",
                               "above": "Above", "inline": "Inline", "hidden": "Hidden"}},
        "hidden": {"#type": "checkbox", "#name": "display[hidden]", "#return_value": "1",
                   "#error_key": "display.hidden", "#title": "Do not show this field",
                   "#default_value": "1" if definition.display.get("hidden") else ""},
    }
    if definition.type == "image":
        inputs["image_style"] = {
            "#type": "select", "#name": "display[image_style]", "#title": "Image style",
            "#error_key": "display.image_style", "#options": {"": "The original", **styles},
            "#default_value": definition.display.get("image_style", "")}
    return inputs


def _presentation(values: forms.FormValues) -> dict[str, Any]:
    """The widget and display an edit form holds."""
    text = forms.text_values(values)
    display: dict[str, Any] = {"hidden": text.get("display[hidden]") == "1"}
    if text.get("display[label]"):
        display["label"] = text["display[label]"]
    if text.get("display[image_style]"):
        display["image_style"] = text["display[image_style]"]
    changes: dict[str, Any] = {"display": display}
    if "widget" in text:
        changes["widget"] = text["widget"]
    return changes


def _edit_page(request: Request, current: ItemType, definition: FieldDefinition,
               tree: RenderElement, state: FormState, *,
               values: forms.FormValues | None = None, errors: Mapping[str, str] | None = None,
               status: int = 200, messages: list[tuple[str, str]] | None = None) -> Response:
    shown = sentences(errors or {}, {**LABELS, **titles(tree)})
    form = render_form(request, tree, state, values=values, errors=shown, labels=LABELS)
    return page(request, title=f"Edit the field {definition.label} of {current.label}",
                parts=[form], about=current, tab="fields", status=status,
                messages=messages, form=True)


async def edit_form(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    definition = _field(current, request)
    state, tree = await open_form(
        request, FIELD_FORM, {"type": current.type, "field": definition.name},
        lambda _state: _edit_tree(request, current, definition))
    return _edit_page(request, current, definition, tree, state)


@form_post
async def edit_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    definition = _field(current, request)
    # Not once: saving the same settings again changes nothing.
    received = await receive(
        request, FIELD_FORM, {"type": current.type, "field": definition.name},
        lambda _state: _edit_tree(request, current, definition))
    if received.expired:
        return _edit_page(request, current, definition, received.tree, received.state,
                          values=received.values, status=received.expired_status,
                          messages=[("error", received.expired)])
    registry = field_types(request)
    errors = await check(request, received, target_errors(registry.get(definition.type),
                                                          received.values)
                         if definition.type in registry else None)
    if errors:
        return _edit_page(request, current, definition, received.tree, received.state,
                          values=received.values, errors=errors, status=400)
    changes = {**instance(received.values), **_presentation(received.values)}
    if definition.type in field_types(request):
        changes["settings"] = parse_settings(field_types(request).get(definition.type),
                                             received.values)
    try:
        updated = await content(request).types.update_field(current.type, definition.name,
                                                            changes, actor=user.id)
    except ItemTypeError as exc:
        if exc.status == 404:
            raise
        return _edit_page(request, current, definition, received.tree, received.state,
                          values=received.values, errors=exc.errors or {"form": exc.message},
                          status=exc.status, messages=[("error", exc.message)])
    return await finish(request, received, location=fields_path(updated),
                        message=f"The field “{changes['label']}” has been saved.",
                        result={"type": updated.type, "field": definition.name})


# -- removing a field ---------------------------------------------------------------------------


def _impact(count: int) -> str:
    if count == 0:
        return "No item holds a value of this field, so no content will be lost."
    noun = "item holds a value" if count == 1 else "items hold values"
    return (f"{count} {noun} of this field; the values will be deleted from them (earlier"
            " revisions keep theirs). This cannot be undone.")


def _remove_form(current: ItemType, definition: FieldDefinition, count: int
                 ) -> RenderElement:
    return confirm_tree(REMOVE_FORM, f"{fields_path(current)}/{definition.name}/delete",
                        f"Are you sure you want to remove the field “{definition.label}”"
                        f" ({definition.name}) from “{current.label}”?", "Remove field",
                        fields_path(current), consequence=_impact(count))


def _remove_page(request: Request, current: ItemType, definition: FieldDefinition,
                 tree: RenderElement, state: FormState, *, status: int = 200,
                 messages: list[tuple[str, str]] | None = None,
                 errors: dict[str, str] | None = None) -> Response:
    return page(request, title=f"Remove the field {definition.label}",
                parts=[render_form(request, tree, state, errors=errors)],
                about=current, tab="fields", status=status, messages=messages,
                form=True)


async def remove_form(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    definition = _field(current, request)
    count = await content(request).types.field_usage(current.type, definition.name)
    state, tree = await open_form(
        request, REMOVE_FORM, {"type": current.type, "field": definition.name, "count": count},
        lambda _state: altered(request, _remove_form(current, definition, count)))
    return _remove_page(request, current, definition, tree, state)


@form_post
async def remove_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    definition = _field(current, request)
    types = content(request).types
    count = await types.field_usage(current.type, definition.name)
    received = await receive(
        request, REMOVE_FORM, {"type": current.type, "field": definition.name, "count": count},
        lambda _state: altered(request, _remove_form(current, definition, count)))
    if received.expired or received.state.data.get("count") != count:
        # The confirmation stated another number (or expired): ask again with today's (the
        # page shown seals it).
        received.state.data["count"] = count
        message = received.expired or ("The number of items holding a value of this field"
                                       " has changed since the confirmation was shown; check"
                                       " it and confirm again.")
        return _remove_page(request, current, definition, received.tree, received.state,
                            status=(received.expired_status if received.expired else 409),
                            messages=[("error", message)])
    errors = await check(request, received)
    if errors:
        return _remove_page(request, current, definition, received.tree, received.state,
                            status=400, errors=errors)
    try:
        async with once(request, received):  # a double-clicked Remove removes once
            updated = await types.remove_field(current.type, definition.name, actor=user.id)
    except FormStateError:
        return _remove_page(request, current, definition, received.tree, received.state,
                            status=400, messages=[("error", EXPIRED)])
    return await finish(request, received, location=fields_path(updated),
                        message=f"The field “{definition.label}” has been removed from"
                                f" “{updated.label}”.",
                        result={"type": updated.type, "field": definition.name,
                                "items": count})


routes = [
    Route(f"{TYPES_PATH}/{{type}}/fields", field_list, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}/fields", order_submit, methods=["POST"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/add", add_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/add", add_submit, methods=["POST"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/{{field}}", edit_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/{{field}}", edit_submit, methods=["POST"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/{{field}}/delete", remove_form, methods=["GET"]),
    Route(f"{TYPES_PATH}/{{type}}/fields/{{field}}/delete", remove_submit, methods=["POST"]),
]
