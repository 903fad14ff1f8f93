"""Adding a field to an item type, ``/admin/structure/types/{type}/fields/add``: a form in two
steps, as CCK's was.

1. **Basics**: the label, the machine name and the field type ("Continue").
2. **Settings**: the settings of *that* field type and the widgets that can edit it, with the
   inputs every field has; the field type can still be changed there: its settings and widget
   are a dependent region (:mod:`trovato.forms.dependent`) rebuilt for the new type, through
   ``POST /form/ajax`` with JavaScript, by the region's "Update" button without it.
   "Back" returns to the basics, "Save field" adds the field.

Which step the form is at, the field type chosen and everything typed so far (the settings of
each field type tried, so switching back shows them again) live in the form's server-side
state, bound to the form and the session; the browser only ever sends what the user typed, read
from the tree the state rebuilds. A submission whose state expired or was refused shows the
step it came from again, with what was typed and nothing saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from trovato.content.fields import FIELD_NAME, FIELD_NAME_MAX, FieldRegistry
from trovato.content.types import ItemType, ItemTypeError
from trovato.errors import ServiceError
from trovato.forms import dependent
from trovato.forms import form as forms
from trovato.forms.state import FormState
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render.elements import RenderElement
from trovato.web.admin._structure import (
    Received,
    administrator,
    altered,
    cancel_link,
    check,
    content,
    finish,
    item_type,
    open_form,
    page,
    receive,
    render_form,
    sentences,
    titles,
)
from trovato.web.admin.field_settings import (
    LABELS,
    PREFIX,
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
)
from trovato.web.admin.types import machine_name
from trovato.web.item_edit import TAMPERED, session_token

ADD_FORM: Final = "field_add_form"
SETTINGS: Final = "settings"
CONTINUE, UPDATE, BACK, SAVE = "continue", "update", "back", "save"
# The dependent region's error key: a service error about the field type is shown on it.
REGION: Final = "type"
_KEPT_PER_TYPE = ("settings[", "widget")  # inputs that belong to one field type


# -- the state: the step, the field type, what was typed -------------------------------------------


def _at_settings(state: FormState, types: FieldRegistry) -> str | None:
    """The field type whose settings the form shows, or None at the first step (also when
    the type chosen is no longer registered: a plugin's, disabled meanwhile)."""
    chosen = state.data.get("field_type")
    if state.data.get("step") != SETTINGS or not isinstance(chosen, str) or chosen not in types:
        return None
    return chosen


def _per_type(name: str) -> bool:
    return name.startswith(_KEPT_PER_TYPE)


def _remember(state: FormState, values: forms.FormValues) -> None:
    """Keep ``values`` in the state: the inputs every field has as they are, a field type's
    settings and widget under that type (what was typed for another type stays there)."""
    kept = state.data.get("kept")
    kept = dict(kept) if isinstance(kept, dict) else {}
    per_type = state.data.get("per_type")
    per_type = dict(per_type) if isinstance(per_type, dict) else {}
    chosen = state.data.get("field_type")
    kept.update({k: v for k, v in values.items() if not _per_type(k)})
    if isinstance(chosen, str):
        own = per_type.get(chosen)
        per_type[chosen] = {**(own if isinstance(own, dict) else {}),
                            **{k: v for k, v in values.items() if _per_type(k)}}
    state.data["kept"], state.data["per_type"] = kept, per_type


def _shown(state: FormState) -> forms.FormValues:
    """What the form shows at its current step: what was typed, the chosen type's own
    settings and widget among it."""
    kept, per_type = state.data.get("kept"), state.data.get("per_type")
    shown: forms.FormValues = dict(kept) if isinstance(kept, dict) else {}
    chosen = state.data.get("field_type")
    own = per_type.get(chosen) if isinstance(per_type, dict) and isinstance(chosen, str) \
        else None
    if isinstance(own, dict):
        shown.update(own)
    if isinstance(chosen, str):
        shown["field_type"] = chosen
    return shown


def _fresh(current: ItemType, submitted: FormData, types: FieldRegistry) -> dict[str, Any]:
    """A new state for a submission whose own state cannot be used (expired, or another
    session's after a login): at the step the submission came from, so that everything it
    holds is shown again. The field type is what the user chose, one of the registry's."""
    fresh: dict[str, Any] = {"type": current.type}
    sent = submitted.get("field_type")
    if forms.pressed(submitted, [UPDATE, BACK, SAVE]) and isinstance(sent, str) \
            and sent in types:
        fresh.update(step=SETTINGS, field_type=sent)
    return fresh


# -- the trees ------------------------------------------------------------------------------------


def _type_options(types: FieldRegistry) -> dict[str, str]:
    return {t.name: t.label for t in sorted(types.all(), key=lambda t: t.label)}


def _basics(types: FieldRegistry) -> dict[str, RenderElement]:
    return {
        "label": {"#type": "textfield", "#name": "label", "#title": "Label",
                  "#required": True, "#maxlength": 255, "#weight": 0, "#default_value": ""},
        "name": {"#type": "textfield", "#name": "name", "#title": "Machine name",
                 "#maxlength": FIELD_NAME_MAX, "#weight": 1, "#default_value": "",
                 "#description": "Starts with field_, then lowercase letters, digits or"
                                 " underscores; it cannot be changed later. Left empty, it is"
                                 " made from the label. A name other types use keeps its"
                                 " field type."},
        "field_type": {"#type": "select", "#name": "field_type", "#title": "Field type",
                       "#weight": 2, "#required": True, "#empty_option": True,
                       "#default_value": "", "#options": _type_options(types)},
    }


def _region(request: Request, types: FieldRegistry, chosen: str,
            targets: Targets) -> RenderElement:
    """The field type and what depends on it: its widgets and its settings."""
    field_type = types.get(chosen)
    part: RenderElement = {
        "#type": "fieldset", "#title": "Field type and settings", "#weight": 2,
        "#error_key": REGION,
        "field_type": dependent.trigger(
            {"#type": "select", "#name": "field_type", "#title": "Field type", "#weight": 0,
             "#required": True,
             "#default_value": chosen, "#options": _type_options(types),
             "#description": "Changing it shows the settings and widgets of the new type."},
            UPDATE),
        "update": dependent.update_button(UPDATE, "Update", weight=1,
                                          label="Update the settings for this field type"),
    }
    widgets = request_context(request).kernel.widgets
    choices = widgets.choices(chosen)
    if len(choices) > 1:
        part["widget"] = {"#type": "select", "#name": "widget", "#title": "Widget",
                          "#weight": 2,
                          "#options": {name: widgets.get(name).label for name in choices},
                          "#required": True, "#default_value": choices[0],
                          "#description": "How editors enter the values."}
    elif choices:
        part["widget"] = {"#type": "markup", "#tag": "p", "#weight": 2,
                          "#value": f"Widget: {widgets.get(choices[0]).label}"}
    fieldset = settings_fieldset(field_type, {}, text_formats(request), targets)
    if fieldset is not None:
        part["settings"] = {**fieldset, "#weight": 3}
    else:
        part["settings"] = {"#type": "markup", "#tag": "p", "#weight": 3,
                            "#value": f"{field_type.label} fields have no settings."}
    return dependent.region(part)


def _add_form(request: Request, current: ItemType, state: FormState,
              targets: Targets) -> RenderElement:
    types = field_types(request)
    elements = _basics(types)
    chosen = _at_settings(state, types)
    if chosen is not None:
        elements["field_type"] = _region(request, types, chosen, targets)
        elements.update(common_inputs(None))
        actions: RenderElement = {"save": forms.submit(SAVE, title="Save field"),
                                  "back": forms.submit(BACK, title="Back", weight=0.5)}
    else:
        actions = {"continue": forms.submit(CONTINUE, title="Continue")}
    return forms.form(ADD_FORM, f"{fields_path(current)}/add", {
        **elements, "actions": {"#type": "actions", "#weight": 100, **actions,
                                "cancel": cancel_link(fields_path(current))}})


async def _build(request: Request, current: ItemType, state: FormState) -> RenderElement:
    types = field_types(request)
    chosen = _at_settings(state, types)
    targets = await targets_for(request, types.get(chosen) if chosen is not None else None)
    return await altered(request, _add_form(request, current, state, targets))


def _add_page(request: Request, current: ItemType, tree: RenderElement, state: FormState, *,
              values: forms.FormValues | None = None, errors: Mapping[str, str] | None = None,
              status: int = 200, messages: list[tuple[str, str]] | None = None) -> Response:
    shown = sentences(errors or {}, {**LABELS, **titles(tree)})
    form = render_form(request, tree, state, values=values, errors=shown, labels=LABELS)
    at_settings = _at_settings(state, field_types(request)) is not None
    step = "2 of 2: settings" if at_settings else "1 of 2: name and type"
    return page(request, title=f"Add a field to {current.label} (step {step})", parts=[form],
                about=current, tab="fields", status=status, messages=messages, form=True)


# -- the steps ------------------------------------------------------------------------------------


def _field_name(typed: str, label: str) -> str:
    """The machine name typed (``field_`` put in front when missing), or one made from the
    label."""
    typed = typed.strip()
    if typed:
        return typed if typed.startswith(PREFIX) else PREFIX + typed
    return machine_name(label, prefix=PREFIX, limit=FIELD_NAME_MAX)


async def _name_errors(request: Request, current: ItemType, name: str, label: str,
                       chosen: str) -> dict[str, str]:
    """What is wrong with the machine name ``name`` for a field of type ``chosen``: its
    form, a field of this type already, another field type on the other item types."""
    if not label.strip():
        return {}  # "Label is required" says it all
    if not name or len(name) > FIELD_NAME_MAX or not FIELD_NAME.match(name):
        return {"name": f"Machine name must be field_ then lowercase letters, digits or"
                        f" underscores, at most {FIELD_NAME_MAX} characters."}
    if current.field(name) is not None:
        return {"name": f"Machine name {name} is already a field of this type."}
    # The cached types: an early, friendly check; the service checks again under the lock.
    for other in (await content(request).types.cached()).values():
        used = other.field(name)
        if used is not None and chosen and used.type != chosen:
            return {"field_type": f"The field {name} of {other.label} is of the type"
                                  f" {type_label(field_types(request), used.type)}; a field name"
                                  " keeps its field type on every item type."}
    return {}


async def add_form(request: Request) -> Response:
    administrator(request)
    current = await item_type(request)
    state, tree = await open_form(request, ADD_FORM, {"type": current.type},
                                  lambda state: _build(request, current, state))
    return _add_page(request, current, tree, state)


@form_post
async def add_submit(request: Request) -> Response:
    user = administrator(request)
    current = await item_type(request)
    types = field_types(request)
    # Not once: each step of this form is a submission, the browser's Back button sends an
    # earlier step's page again, and the item-type service refuses a second field of the
    # same name.
    received = await receive(request, ADD_FORM,
                             _fresh(current, await request.form(), types),
                             lambda state: _build(request, current, state))
    state, values = received.state, received.values
    if received.expired:
        return _add_page(request, current, received.tree, state, values=values,
                         status=received.expired_status, messages=[("error", received.expired)])
    text = forms.text_values(values)
    name = _field_name(text.get("name", ""), text.get("label", ""))
    chosen = _at_settings(state, types)
    if chosen is None:
        return await _continue(request, current, received, name)
    op = forms.pressed(received.submitted, [SAVE, UPDATE, BACK])
    if op == BACK:
        _remember(state, values)
        state.data["step"] = "basics"
        return _add_page(request, current, await _build(request, current, state), state,
                         values=_shown(state))
    if op is None:
        # A page of the first step sent again (the browser's own Back button, then
        # "Continue"): its label, name and type kept, the second step again, nothing saved.
        basics = {k: v for k, v in values.items() if k in ("label", "name", "field_type")}
        return await _update(request, current, received, basics, changed_on_save=False)
    if op == UPDATE or text.get("field_type") != chosen:
        return await _update(request, current, received, values, changed_on_save=op == SAVE)
    own = {**target_errors(types.get(chosen), values),
           **await _name_errors(request, current, name, text.get("label", ""), chosen)}
    errors = await check(request, received, own)
    if errors:
        return _add_page(request, current, received.tree, state, values=values,
                         errors=errors, status=400)
    document = {"name": name, "type": chosen, **instance(values),
                "settings": parse_settings(types.get(chosen), values)}
    if "widget" in text:
        document["widget"] = text["widget"]
    try:
        updated = await content(request).types.add_field(current.type, document,
                                                         actor=user.id)
    except ItemTypeError as exc:
        if exc.status == 404:
            raise
        return _add_page(request, current, received.tree, state, values=values,
                         errors=exc.errors or {"form": exc.message}, status=exc.status,
                         messages=[("error", exc.message)])
    added = updated.field(name)
    return await finish(request, received, location=fields_path(updated),
                        message=f"The field “{added.label if added else name}” has been added"
                                f" to “{updated.label}”.",
                        result={"type": updated.type, "field": name})


async def _continue(request: Request, current: ItemType, received: Received,
                    name: str) -> Response:
    """Step 1 done: the settings of the chosen field type, with what was typed (also what
    was typed for it before going back)."""
    state, values = received.state, received.values
    text = forms.text_values(values)
    own = await _name_errors(request, current, name, text.get("label", ""),
                             text.get("field_type", ""))
    errors = await check(request, received, own)
    if errors:
        return _add_page(request, current, received.tree, state, values=values,
                         errors=errors, status=400)
    _remember(state, {**values, "name": name})
    state.data.update(step=SETTINGS, field_type=text["field_type"])
    return _add_page(request, current, await _build(request, current, state), state,
                     values=_shown(state))


def _type_error(tree: RenderElement, values: forms.FormValues) -> str | None:
    """What is wrong with the field type chosen in the region (not one of the options)."""
    region = forms.find(tree, REGION)
    select = region.get("field_type") if region is not None else None
    if not isinstance(select, dict):
        return "The form has no field type to choose."
    return forms.check_input(select, values.get("field_type", ""))


async def _rebuild(request: Request, current: ItemType, state: FormState,
                   values: forms.FormValues) -> RenderElement:
    """The form for the field type ``values`` chose: what was typed kept in the state (the
    old type's settings under it), the type changed, the tree built again with what the
    ``form_ajax`` taps add to the region."""
    ctx = request_context(request)
    _remember(state, values)
    state.data["field_type"] = values["field_type"]
    tree = await _build(request, current, state)
    added = await ctx.kernel.forms.ajax(tree, UPDATE, values, user=ctx.current_user)
    region = forms.find(tree, REGION)
    if added is not None and region is not None:
        region["form_ajax"] = {**added, "#weight": 10_000}
    return tree


async def _update(request: Request, current: ItemType, received: Received,
                  values: forms.FormValues, *, changed_on_save: bool) -> Response:
    """The second step again for the field type ``values`` name (its "Update" button, or
    "Save field" after choosing another type without JavaScript), keeping ``values``;
    nothing saved."""
    error = _type_error(received.tree, values)
    if error is not None:
        return _add_page(request, current, received.tree, received.state,
                         values=received.values, errors={"field_type": error}, status=400)
    tree = await _rebuild(request, current, received.state, values)
    messages = [("warning", "The field type was changed, so nothing was saved: check the"
                            " settings of the new type and save again.")] \
        if changed_on_save else None
    return _add_page(request, current, tree, received.state, values=_shown(received.state),
                     messages=messages)


async def ajax_rebuild(request: Request, state: FormState, submitted: FormData) -> Markup:
    """``POST /form/ajax`` for the add form: the field type's region, rebuilt for
    the type chosen (who may change types is checked again, and the state's type must still
    exist)."""
    administrator(request)
    ctx = request_context(request)
    type_name = state.data.get("type")
    if not isinstance(type_name, str):
        raise ServiceError(400, TAMPERED)
    current = await content(request).types.get(type_name)
    if current is None:
        raise ServiceError(404, "There is no such item type.")
    if _at_settings(state, field_types(request)) is None \
            or forms.pressed(submitted, [UPDATE]) is None:
        raise ServiceError(400, "The request names no rebuild button of this form.")
    tree = await _build(request, current, state)
    values = forms.read(tree, submitted)
    error = _type_error(tree, values)
    if error is not None:
        raise ServiceError(400, error)
    tree = await _rebuild(request, current, state, values)
    return ctx.kernel.forms.render_region(tree, REGION, csrf_token=session_token(ctx),
                                          state=state, values=_shown(state))
