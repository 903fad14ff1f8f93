"""The item add/edit form, generated from an item type's fields and their widgets.

:func:`item_form` builds the tree: the title, each field through its field type's widget (a
multi-value field shows as many values as its form state says, with an "Add another" button
while its cardinality allows), the publishing options, the revision log message and the
Save / Preview buttons. :func:`parse_item` reads a submission of that tree back into what the
content service saves; its errors, like the service's own (``title``, ``fields.<name>``,
``fields.<name>.<delta>``), are the error keys the tree's elements show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from trovato.content.fields import (
    UNLIMITED_MAX_VALUES,
    FieldDefinition,
    FieldValueError,
)
from trovato.content.items import LOG_MAX, TITLE_MAX, Item
from trovato.content.types import ItemType, display_order
from trovato.forms.form import FormErrors, FormValues, form, inputs, submit
from trovato.forms.stencil import FormStencils
from trovato.forms.widgets import (
    REMOVE_FILE,
    AllValuesWidget,
    Widget,
    WidgetContext,
    Widgets,
)
from trovato.render.elements import FORM_INPUT_TYPES, RenderElement
from trovato.render.formats import FormatRegistry
from trovato.users.accounts import CurrentUser

ITEM_FORM: Final = "item_form"
SAVE, PREVIEW = "save", "preview"
ADD_MORE = "add_more:"  # + field name: the "Add another" button of a multi-value field
LOG_LABEL = "Revision log message"


FILE_TYPES: Final = ("file", "image")


@dataclass(frozen=True, slots=True)
class _Offered:
    """What the widgets show of a format registry, whoever edits: each format's name and the
    permission using it needs (None: anyone), in name order; the labels; the tags an HTML
    editor may write per HTML format (None: any)."""

    names: tuple[tuple[str, str | None], ...]
    labels: Mapping[str, str]
    editor: Mapping[str, Sequence[str] | None]


_OFFERED: dict[tuple[int, int], _Offered] = {}


def _offered_formats(formats: FormatRegistry) -> _Offered:
    """:class:`_Offered` of ``formats``, worked out once per registry and generation."""
    key = (id(formats), formats.generation)
    found = _OFFERED.get(key)
    if found is None:
        if len(_OFFERED) >= 64:
            _OFFERED.clear()
        permissions = formats.permission_map()
        editor: dict[str, Sequence[str] | None] = {}
        for text_format in formats.all():
            if text_format.takes_html:
                tags = text_format.allowed_tags()
                editor[text_format.name] = None if tags is None else sorted(tags)
        # Read-only: every request's widget context shares them.
        found = _OFFERED[key] = _Offered(
            tuple((name, permissions.get(name)) for name in sorted(formats.names())),
            MappingProxyType({f.name: f.label for f in formats.all()}),
            MappingProxyType(editor))
    return found


def widget_context(user: CurrentUser, formats: FormatRegistry, *, bundle: str = "",
                   reference_labels: Mapping[str, str] | None = None,
                   file_labels: Mapping[str, str] | None = None,
                   max_upload: str = "",
                   tag_tokens: Mapping[str, str] | None = None) -> WidgetContext:
    """The user's time zone and the text formats they may use; the item type edited, the
    labels of the records its references point at (:func:`reference_targets`) and the names
    of its files (:func:`file_targets`); the upload limit as shown; what tag fields show for
    their tags (``tag_tokens``)."""
    offered = _offered_formats(formats)
    allowed = [name for name, permission in offered.names
               if permission is None or user.can(permission)]
    return WidgetContext(timezone=user.timezone or "UTC", formats=tuple(allowed),
                         format_labels=offered.labels, bundle=bundle,
                         reference_labels=dict(reference_labels or {}),
                         editor_formats=offered.editor,
                         file_labels=dict(file_labels or {}), max_upload=max_upload,
                         tag_tokens=dict(tag_tokens or {}))


def reference_targets(item_type: ItemType, item: Item | None) -> list[str]:
    """The ids of the items ``item``'s reference fields point at (to show their titles)."""
    found: list[str] = []
    for definition in item_type.fields:
        if definition.type != "reference":
            continue
        for value in _values(item, definition):
            if value.get("target_type", "item") == "item" and value.get("target_id"):
                found.append(str(value["target_id"]))
    return found


def file_targets(item_type: ItemType, item: Item | None) -> list[str]:
    """The ids of the files ``item``'s file and image fields hold (to show their names)."""
    return [str(value["target_id"]) for definition in item_type.fields
            if definition.type in FILE_TYPES
            for value in _values(item, definition) if value.get("target_id")]


def value_names(item_type: ItemType, counts: Mapping[str, int], types: Sequence[str]
                ) -> list[tuple[FieldDefinition, str, str]]:
    """(field, input name, error key) of each value the form shows of the fields of
    ``types``."""
    found = []
    for definition in item_type.fields:
        if definition.type not in types:
            continue
        base, key = f"fields[{definition.name}]", f"fields.{definition.name}"
        if definition.multiple:
            found += [(definition, f"{base}[{d}]", f"{key}.{d}")
                      for d in range(counts.get(definition.name, 1))]
        else:
            found.append((definition, base, key))
    return found


def remove_buttons(item_type: ItemType, counts: Mapping[str, int]) -> list[str]:
    """The values of every file value's Remove button the form may have."""
    return [f"{REMOVE_FILE}{name}" for _d, name, _k in value_names(item_type, counts,
                                                                  FILE_TYPES)]


def value_limit(definition: FieldDefinition) -> int:
    """How many values a field may hold."""
    return definition.cardinality if definition.cardinality > 0 else UNLIMITED_MAX_VALUES


def _values(item: Item | None, definition: FieldDefinition) -> list[Mapping[str, Any]]:
    stored = item.fields.get(definition.name) if item is not None else None
    if stored is None:
        return []
    if type(stored) is dict:  # one value, as most fields hold: no list to walk
        return [stored]
    return [v for v in (stored if isinstance(stored, list) else [stored]) if isinstance(v, dict)]


def initial_counts(item_type: ItemType, item: Item | None) -> dict[str, int]:
    """How many values each multi-value field shows at first: its values, at least one."""
    return {d.name: max(len(_values(item, d)), 1) for d in _type_form(item_type).multiple}


# A field, its widget and the widget that one hands it to (Widget.all_values): told apart
# once per type form, so the form and its parsing ask no widget which it is.
_Editors = tuple[FieldDefinition, Widget, AllValuesWidget | None]


@dataclass(slots=True)
class _TypeForm:
    """What the item form of one item type is, whoever edits what: worked out once per type
    object (the cached types are new objects when a type changes) and widget registry."""

    item_type: ItemType
    labels: Mapping[str, str]
    multiple: tuple[FieldDefinition, ...]  # the multi-value fields
    add_more: tuple[str, ...]
    multipart: bool
    widgets_key: tuple[int, int] = (0, -1)
    # The fields' editors in declaration order and in display order.
    declared: tuple[_Editors, ...] = ()
    shown: tuple[_Editors, ...] = ()
    # The form's HTML by shape (:mod:`trovato.forms.stencil`): a changed type is a new object,
    # and so gets new stencils.
    stencils: FormStencils = field(default_factory=FormStencils)


_TYPE_FORMS: dict[int, _TypeForm] = {}


def _type_form(item_type: ItemType, widgets: Widgets | None = None) -> _TypeForm:
    found = _TYPE_FORMS.get(id(item_type))
    if found is None or found.item_type is not item_type:  # an id can be reused
        if len(_TYPE_FORMS) >= 256:
            _TYPE_FORMS.clear()
        names = {"title": item_type.title_label, "log": LOG_LABEL, "status": "Published",
                 "promote": "Promoted to front page", "sticky": "Sticky at top of lists"}
        for definition in item_type.fields:
            names[f"fields.{definition.name}"] = definition.label
        multiple = tuple(d for d in item_type.fields if d.multiple)
        found = _TYPE_FORMS[id(item_type)] = _TypeForm(
            item_type, names, multiple, tuple(f"{ADD_MORE}{d.name}" for d in multiple),
            any(d.type in FILE_TYPES for d in item_type.fields))
    if widgets is not None and found.widgets_key != (id(widgets), widgets.version):
        chosen: dict[str, _Editors] = {}
        for definition in item_type.fields:
            widget = widgets.for_field(definition)
            chosen[definition.name] = (definition, widget, widget.all_values(definition))
        found.declared = tuple(chosen[d.name] for d in item_type.fields)
        found.shown = tuple(chosen[d.name] for d in display_order(item_type))
        found.widgets_key = (id(widgets), widgets.version)
    return found


def stencils(item_type: ItemType) -> FormStencils:
    """The stencils of the type's item form (this process's, as long as the type is)."""
    return _type_form(item_type).stencils


def labels(item_type: ItemType) -> Mapping[str, str]:
    """Error key → what it is about, for messages that name their subject (the same dict
    for every form of the type: not to be changed)."""
    return _type_form(item_type).labels


# How a service's messages about one element begin when the element is their subject
# ("is required"); any other message has a subject of its own ("uri must name a host").
PREDICATES: Final = ("is ", "must ", "cannot ", "has ", "needs ", "already ")


def sentence(key: str, message: str, names: Mapping[str, str]) -> str:
    """A service message as a sentence naming its subject: "Title is required.", "Value 2
    of Tags: this field names no vocabulary…"; a message that is a sentence already stays."""
    if message[:1].isupper():
        return message
    subject = names.get(key)
    if subject is None and key.startswith("fields."):
        base, _, delta = key.rpartition(".")
        if delta.isdigit() and base in names:
            subject = f"Value {int(delta) + 1} of {names[base]}"
    if subject is None:  # about no one element (a plugin's refusal): as said, capitalised
        return message[:1].upper() + message[1:]
    if message.startswith(PREDICATES):
        return f"{subject} {message.rstrip('.')}."
    return f"{subject}: {message.rstrip('.')}."


def _field(definition: FieldDefinition, item: Item | None, widget: Widget,
           whole: AllValuesWidget | None, context: WidgetContext, count: int,
           weight: int) -> RenderElement:
    base = f"fields[{definition.name}]"
    key = f"fields.{definition.name}"
    values = _values(item, definition)
    if whole is not None or not definition.multiple:
        # One element; for a widget editing every value (tags: their names) all of them.
        element = (whole.element_all(definition, values, name=base, context=context)
                   if whole is not None else
                   widget.element(definition, values[0] if values else None, name=base,
                                  context=context))
        element["#error_key"] = key
        element["#weight"] = weight
        if definition.description:
            element["#description"] = definition.description
        return element
    # A rebuild region: with JavaScript, "Add another" replaces just this fieldset.
    group: RenderElement = {"#type": "fieldset", "#title": definition.label, "#error_key": key,
                            "#required": definition.required, "#weight": weight,
                            "#attributes": {"class": "field-multiple",
                                            "data-ajax-region": True}}
    if definition.description:
        group["#description"] = definition.description
    for delta in range(count):
        child = widget.element(definition, values[delta] if delta < len(values) else None,
                               name=f"{base}[{delta}]", context=context)
        child.update({"#error_key": f"{key}.{delta}", "#weight": delta,
                      "#title": f"{definition.label}, value {delta + 1}"})
        if child["#type"] in FORM_INPUT_TYPES:  # its messages read as the service's do
            child["#error_title"] = f"Value {delta + 1} of {definition.label}"
        if delta > 0:  # one value is what "required" asks for
            for element in inputs(child):
                element["#required"] = False
        group[str(delta)] = child
    if count < value_limit(definition):
        group["add_more"] = submit(f"{ADD_MORE}{definition.name}", weight=count + 1,
                                   title=f"Add another value to {definition.label}")
        group["add_more"]["#attributes"] = {"data-ajax": "rebuild"}
    return group


def item_form(item_type: ItemType, item: Item | None, *, action: str, widgets: Widgets,
              context: WidgetContext, counts: Mapping[str, int],
              extra_actions: Mapping[str, RenderElement] | None = None) -> RenderElement:
    """The add form (``item`` None) or edit form of an item of ``item_type``."""
    fields: RenderElement = {"#type": "container", "#weight": 0,
                             "#attributes": {"class": "item-form__fields"}}
    type_form = _type_form(item_type, widgets)
    for weight, (definition, widget, whole) in enumerate(type_form.shown):
        fields[definition.name] = _field(definition, item, widget, whole, context,
                                         counts.get(definition.name, 1), weight)
    # A new item starts as its type's defaults say.
    published = item.status == 1 if item is not None else item_type.defaults["status"]
    elements: dict[str, RenderElement] = {}
    if item_type.has_title:
        elements["title"] = {"#type": "textfield", "#name": "title",
                             "#title": item_type.title_label, "#required": True,
                             "#maxlength": TITLE_MAX, "#weight": -100,
                             "#default_value": item.title if item is not None else ""}
    elements["fields"] = fields
    elements["options"] = {
        "#type": "details", "#title": "Publishing options", "#weight": 50,
        "status": _box("status", "Published", published),
        "promote": _box("promote", "Promoted to front page",
                        item.promote if item is not None else item_type.defaults["promote"]),
        "sticky": _box("sticky", "Sticky at top of lists",
                       item.sticky if item is not None else item_type.defaults["sticky"]),
    }
    elements["revision"] = {
        "#type": "details", "#title": "Revision information", "#weight": 60,
        "log": {"#type": "textarea", "#name": "log", "#title": LOG_LABEL,
                "#maxlength": LOG_MAX, "#default_value": "",
                "#description": "Briefly describe the changes you have made."},
    }
    elements["actions"] = {"#type": "actions", "#weight": 100,
                           "save": submit(SAVE, title="Save", weight=0),
                           "preview": submit(PREVIEW, title="Preview", weight=1),
                           **(extra_actions or {})}
    tree = form(ITEM_FORM, action, elements)
    if type_form.multipart:
        tree["#multipart"] = True
    return tree


def _box(name: str, title: str, checked: bool) -> RenderElement:
    return {"#type": "checkbox", "#name": name, "#title": title, "#return_value": "1",
            "#default_value": "1" if checked else ""}


def rebuilt_region(trigger: str) -> str:
    """The error key of the part of the item form the rebuild button ``trigger`` rebuilds."""
    return f"fields.{trigger.removeprefix(ADD_MORE)}"


def add_more_buttons(item_type: ItemType) -> tuple[str, ...]:
    """The values of every "Add another" button the type's form may have."""
    return _type_form(item_type).add_more


@dataclass(frozen=True, slots=True)
class ItemInput:
    """A submission of the item form, as the content service takes it."""

    title: str
    status: int
    promote: bool
    sticky: bool
    fields: dict[str, Any]  # every field of the type: a value, a list, or None (empty)
    log: str


def parse_item(item_type: ItemType, values: FormValues, *, widgets: Widgets,
               context: WidgetContext, counts: Mapping[str, int]) -> tuple[ItemInput,
                                                                          FormErrors]:
    """What the submitted ``values`` of the item form say, and the values no widget could
    read (letters in a number) as errors by error key."""
    submitted = {name: value for name, value in values.items() if isinstance(value, str)}
    errors: FormErrors = {}
    fields: dict[str, Any] = {}
    for definition, widget, whole in _type_form(item_type, widgets).declared:
        base = f"fields[{definition.name}]"
        key = f"fields.{definition.name}"
        if whole is not None:
            try:
                every = whole.parse_all(definition, submitted, name=base, context=context)
            except FieldValueError as exc:
                errors[key] = exc.message
                every = []
            fields[definition.name] = (every or None) if definition.multiple else \
                (every[0] if every else None)
            continue
        names: Sequence[tuple[str, str]] = (
            [(f"{base}[{d}]", f"{key}.{d}") for d in range(counts.get(definition.name, 1))]
            if definition.multiple else [(base, key)])
        parsed = []
        for name, error_key in names:
            try:
                value = widget.parse(definition, submitted, name=name, context=context)
            except FieldValueError as exc:
                errors[error_key] = exc.message
                continue
            if value is not None:
                parsed.append(value)
        if definition.multiple:
            fields[definition.name] = parsed or None
        else:
            fields[definition.name] = parsed[0] if parsed else None
    return ItemInput(
        title=submitted.get("title", "") if item_type.has_title else "",
        status=1 if submitted.get("status") == "1" else 0,
        promote=submitted.get("promote") == "1",
        sticky=submitted.get("sticky") == "1",
        fields=fields,
        log=submitted.get("log", ""),
    ), errors
