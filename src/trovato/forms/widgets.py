"""Field widgets: how one field value is edited in a form, keyed by ``FieldType.widget``.

A widget (:class:`Widget`) does two things for one value of a field (multi-value "add
another" is the form's):

* :meth:`Widget.element` builds the form element tree for a stored value (or ``None`` for a
  new one): data, ``#type`` one of the form element types (``textfield``, ``textarea``,
  ``number``, ``checkbox``, ``select``, ``date``, ``datetime``, ``email``, ``url``,
  ``fieldset``), each input carrying its submitted ``#name`` and ``#default_value``;
* :meth:`Widget.parse` reads what the browser submitted for those names back into the raw value
  object that :meth:`FieldType.clean <trovato.content.fields.FieldType.clean>` validates, or
  ``None`` when the value was left empty. A submission it cannot read at all (letters in a
  number) raises :class:`~trovato.content.fields.FieldValueError` with a message for the user.

A widget may hand a field whose values one element edits together (a tag field: the tags'
names on one line) to an :class:`AllValuesWidget` (:meth:`Widget.all_values`), whose
:meth:`~AllValuesWidget.element_all` and :meth:`~AllValuesWidget.parse_all` do the same for
every value at once; the item form then asks that one instead.

Values are read as the user sees them: dates and times in their zone (``WidgetContext``),
list values by label, formatted text with the formats the user may choose.

:class:`Widgets` is built once per kernel with the core widgets; a new field type brings its
widget with :meth:`Widgets.register` under the name its ``widget`` attribute gives.
"""

from __future__ import annotations

import contextlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trovato.content.fields import KNOWN_FORMATS, FieldDefinition, FieldRegistry, FieldValueError
from trovato.forms.tag_text import explode, implode, split_id, tag_token
from trovato.render.elements import RenderElement

Submitted = Mapping[str, str]
# Longest text a number input may hold; a number field's own range check comes after.
_NUMBER_TEXT_MAX = 64
# "Title (id)": a title (255) and an id.
_REFERENCE_TEXT_MAX = 320
# Every tag of a tag field on one line.
_TAGS_TEXT_MAX = 16_384


@dataclass(frozen=True, slots=True)
class WidgetContext:
    """Who edits: their time zone and the text formats they may use (in the order offered),
    with the labels the format selector shows (a format without one shows its name); what is
    edited: the item type (``bundle``, which names the reference autocomplete's endpoint) and
    the labels of the records its references point at that the editor may see
    (``reference_labels``, by id: shown as "Title (id)"), and what a tag field shows for each
    tag it holds (``tag_tokens``, by id: its name, or "Name (id)" when two tags of the
    field's vocabularies share the name: :mod:`trovato.forms.tag_text`)."""

    timezone: str = "UTC"
    formats: Sequence[str] = tuple(sorted(KNOWN_FORMATS))
    format_labels: Mapping[str, str] = field(default_factory=dict)
    bundle: str = ""
    reference_labels: Mapping[str, str] = field(default_factory=dict)
    # Format → the tags an HTML editor may write for it (None: any); formats whose text is
    # not HTML are absent (the textarea stays plain for them).
    editor_formats: Mapping[str, Sequence[str] | None] = field(default_factory=dict)
    # The names of the files the values refer to (by id), and the upload limit as shown.
    file_labels: Mapping[str, str] = field(default_factory=dict)
    max_upload: str = ""
    tag_tokens: Mapping[str, str] = field(default_factory=dict)
    # editor_config's answers by format: every textarea of a form has the same one (but one
    # whose value has a format not offered), so a form's context works it out once.
    _editor_configs: dict[str, str | None] = field(default_factory=dict, init=False,
                                                   repr=False, compare=False)

    def editor_config(self, fmt: str) -> str | None:
        """The rich-text editor's configuration (``data-editor-formats``) of a textarea whose
        value has the format ``fmt``: each HTML format it offers (:attr:`formats`, and
        ``fmt``) with the tags the editor may write for it (null: any), as JSON; ``None``
        when it offers none."""
        try:
            return self._editor_configs[fmt]
        except KeyError:
            pass
        editable = {f: None if tags is None else sorted(tags)
                    for f, tags in self.editor_formats.items() if f in self.formats or f == fmt}
        config = json.dumps(editable, sort_keys=True, separators=(",", ":")) if editable \
            else None
        self._editor_configs[fmt] = config
        return config


def _input(type_: str, name: str, title: str, value: str, *, required: bool = False,
           **props: Any) -> RenderElement:
    element: RenderElement = {"#type": type_, "#name": name, "#title": title,
                              "#default_value": value, "#required": required}
    for key, prop in props.items():
        element["#" + key] = prop
    return element


def _fieldset(definition: FieldDefinition, children: Mapping[str, RenderElement]
              ) -> RenderElement:
    return {"#type": "fieldset", "#title": definition.label, **children}


def _text(submitted: Submitted, name: str) -> str:
    return submitted.get(name, "")


class Widget(ABC):
    """A widget editing one value; subclasses set :attr:`name` (its machine name, stored in
    field definitions), :attr:`label` (what site builders choose it by) and implement both
    directions."""

    name: ClassVar[str]
    label: ClassVar[str]

    @abstractmethod
    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        """The form element tree editing ``value`` (``None``: a new value), named ``name``."""

    @abstractmethod
    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        """The raw value object submitted under ``name``; ``None`` when left empty."""

    def all_values(self, definition: FieldDefinition) -> AllValuesWidget | None:
        """The widget this one hands ``definition`` to, editing all its values in one
        element; ``None``: this one edits it, one element per value (with "Add another")."""
        return None


class AllValuesWidget(ABC):
    """A widget editing every value of a field in one element (no "Add another"), which a
    :class:`Widget` hands the fields it edits so to (:meth:`Widget.all_values`)."""

    @abstractmethod
    def element_all(self, definition: FieldDefinition, values: Sequence[Mapping[str, Any]],
                    *, name: str, context: WidgetContext) -> RenderElement:
        """The one element editing ``values`` (none: a new item's), named ``name``."""

    @abstractmethod
    def parse_all(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
                  context: WidgetContext) -> list[dict[str, Any]]:
        """Every raw value submitted under ``name``, in order; none when left empty."""


class _Single(Widget):
    """One input whose text is the value's ``value`` as is."""

    input_type: ClassVar[str]

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        text = "" if value is None else str(value.get("value", ""))
        return _input(self.input_type, name, definition.label, text,
                      required=definition.required)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        text = _text(submitted, name)
        return {"value": text} if text != "" else None


class TextfieldWidget(_Single):
    name = "text_textfield"
    label = "Text field"
    input_type = "textfield"


class EmailWidget(_Single):
    name = "email"
    label = "Email field"
    input_type = "email"


class DateWidget(_Single):
    name = "date"
    label = "Date picker"
    input_type = "date"


class TextareaWidget(Widget):
    """A textarea and the choice of its text format."""

    name = "text_textarea"
    label = "Text area (multiple rows)"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        default = str(definition.settings.get("default_format", "filtered_html"))
        fmt = str(value.get("format", default)) if value else default
        offered = list(context.formats)
        if fmt not in offered:
            offered.append(fmt)  # the value's own format stays selectable as it is
        # The fieldset's legend names the field; its label says which of its inputs this is
        # (not the field's name again), its messages name the field.
        textarea = _input("textarea", f"{name}[value]", "Text",
                          "" if value is None else str(value.get("value", "")),
                          required=definition.required, error_title=definition.label)
        config = context.editor_config(fmt)
        if config is not None:
            # The rich-text editor's configuration: it writes only what the format keeps.
            textarea["#attributes"] = {"data-editor-formats": config}
        return _fieldset(definition, {
            "value": textarea,
            "format": _input("select", f"{name}[format]", "Text format", fmt,
                             options={f: context.format_labels.get(f, f) for f in offered}),
        })

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        text = _text(submitted, f"{name}[value]")
        if text == "":
            return None
        fmt = _text(submitted, f"{name}[format]")
        return {"value": text, "format": fmt} if fmt else {"value": text}


class NumberWidget(Widget):
    """A number input; integer and float fields get numbers, decimal fields exact text."""

    name = "number"
    label = "Number field"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        text = "" if value is None else str(value.get("value", ""))
        step = {"integer": "1", "decimal": "any", "float": "any"}.get(definition.type, "any")
        return _input("number", name, definition.label, text, required=definition.required,
                      step=step)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        text = _text(submitted, name).strip()
        if text == "":
            return None
        if len(text) > _NUMBER_TEXT_MAX:
            raise FieldValueError(f"must be at most {_NUMBER_TEXT_MAX} characters")
        if definition.type == "decimal":
            return {"value": text}
        try:
            number: int | float = int(text) if definition.type == "integer" else float(text)
        except ValueError:
            what = "a whole number" if definition.type == "integer" else "a number"
            raise FieldValueError(f"must be {what}") from None
        return {"value": number}


class CheckboxWidget(Widget):
    name = "boolean_checkbox"
    label = "Single checkbox"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        return _input("checkbox", name, definition.label,
                      "1" if value and value.get("value") is True else "", return_value="1")

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        # A browser sends an unchecked box not at all: absent is false, never "empty".
        return {"value": submitted.get(name) == "1"}


def _zone(context: WidgetContext) -> ZoneInfo:
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(context.timezone)
    return ZoneInfo("UTC")


class DatetimeWidget(Widget):
    """A local date and time in the editor's zone (HTML ``datetime-local``), stored in UTC."""

    name = "datetime"
    label = "Date and time"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        text = ""
        if value is not None:
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(str(value.get("value", "")))
                if moment.tzinfo is not None:
                    local = moment.astimezone(_zone(context)).replace(tzinfo=None)
                    spec = ("microseconds" if local.microsecond
                            else "seconds" if local.second else "minutes")
                    text = local.isoformat(timespec=spec)
        return _input("datetime", name, definition.label, text, required=definition.required,
                      timezone=context.timezone)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        text = _text(submitted, name).strip()
        if text == "":
            return None
        try:
            local = datetime.fromisoformat(text)
        except ValueError:
            raise FieldValueError("must be a date and time, e.g. 2024-05-01T12:00") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=_zone(context))
        utc = local.astimezone(UTC).replace(tzinfo=None)
        return {"value": utc.isoformat() + "Z"}


class LinkWidget(Widget):
    name = "link_default"
    label = "Link (URL and title)"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        value = value or {}
        children = {"uri": _input("url", f"{name}[uri]", "URL", str(value.get("uri", "")),
                                  required=definition.required)}
        mode = definition.settings.get("title", "optional")
        if mode != "none":
            children["title"] = _input("textfield", f"{name}[title]", "Link text",
                                       str(value.get("title", "")),
                                       required=mode == "required")
        return _fieldset(definition, children)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        uri, title = _text(submitted, f"{name}[uri]"), _text(submitted, f"{name}[title]")
        if uri == "" and title == "":
            return None
        return {"uri": uri, "title": title} if title else {"uri": uri}


class SelectWidget(Widget):
    """The allowed values of a list field, shown by label."""

    name = "options_select"
    label = "Select list"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        allowed = definition.settings.get("allowed_values") or {}
        return _input("select", name, definition.label,
                      "" if value is None else str(value.get("value", "")),
                      required=definition.required, options=dict(allowed),
                      empty_option=not definition.required)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        key = _text(submitted, name)
        return {"value": key} if key != "" else None


class ButtonsWidget(SelectWidget):
    """The allowed values of a list field as radio buttons (all in view at once); "None"
    leaves an optional field empty."""

    name = "options_buttons"
    label = "Check boxes or radio buttons"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        allowed = dict(definition.settings.get("allowed_values") or {})
        options = allowed if definition.required else {"": "None", **allowed}
        return _input("radios", name, definition.label,
                      "" if value is None else str(value.get("value", "")),
                      required=definition.required, options=options)


# "Title (id)": what the autocomplete fills in and what the widget shows for a stored value.
_LABELLED_ID = re.compile(r"\(\s*([^()\s]+)\s*\)\s*\Z")
AUTOCOMPLETE_PATH = "/autocomplete/{bundle}/{field}"


def reference_text(label: str | None, target_id: str) -> str:
    """What a reference input shows: "Title (id)", or the id alone without a label."""
    return f"{label} ({target_id})" if label else target_id


class ReferenceWidget(Widget):
    """One text input taking "Title (id)" or an id; with JavaScript an autocomplete of the
    records the editor may see (``data-autocomplete`` names its endpoint). The item form
    edits a tag field with :class:`TagsWidget` instead (one input for all its values:
    :meth:`all_values`); given a tag field, this one too takes a typed name as a tag's
    name."""

    name = "reference_autocomplete"
    label = "Autocomplete"

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        target = str((value or {}).get("target_id", ""))
        text = reference_text(context.reference_labels.get(target), target) if target else ""
        tag = definition.settings.get("target_type") == "category_tag"
        element = _input("textfield", f"{name}[target_id]", definition.label, text,
                         required=definition.required, maxlength=_REFERENCE_TEXT_MAX,
                         autocomplete="off",
                         description="Type the start of a tag's name and pick a match." if tag
                         else "Type part of a title and pick a match, or give an id.")
        if context.bundle:
            element["#attributes"] = {"data-autocomplete": AUTOCOMPLETE_PATH.format(
                bundle=context.bundle, field=definition.name)}
        return element

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        text = _text(submitted, f"{name}[target_id]").strip()
        if text == "":
            return None
        kind = str(definition.settings.get("target_type", "item"))
        labelled = _LABELLED_ID.search(text)
        target = labelled.group(1) if labelled else text
        if kind == "category_tag" and split_id(target)[1] is None:
            return {"name": text, "target_type": kind}
        return {"target_id": target, "target_type": kind}

    def all_values(self, definition: FieldDefinition) -> AllValuesWidget | None:
        return _TAGS if definition.settings.get("target_type") == "category_tag" else None


class TagsWidget(AllValuesWidget):
    """A tag field's values in one text input, as Drupal's free-tagging field: the tag names,
    comma-separated (:mod:`trovato.forms.tag_text`; "Name (id)" for a name two tags share),
    with the reference autocomplete (``data-autocomplete``). A typed name stays a name
    (``{"name": …}``): the item form resolves it in the field's vocabularies before saving
    (``trovato.web.tag_names``)."""

    def element_all(self, definition: FieldDefinition, values: Sequence[Mapping[str, Any]],
                    *, name: str, context: WidgetContext) -> RenderElement:
        tokens = []
        for value in values:  # stored (an id) or as typed in a submission shown again
            target = str(value.get("target_id") or "")
            if not target:
                tokens.append(str(value.get("name") or ""))
            else:
                tokens.append(context.tag_tokens.get(target)
                              or tag_token(context.reference_labels.get(target, target)))
        several = ("the tags' names, separated by commas" if definition.multiple
                   else "the tag's name")
        element = _input("textfield", f"{name}[target_id]", definition.label,
                         implode(t for t in tokens if t), required=definition.required,
                         maxlength=_TAGS_TEXT_MAX, autocomplete="off",
                         description=f"Type {several}; a name with a comma goes in double"
                                     ' quotes ("Rock, pop").')
        element["#attributes"] = {"data-tags": "multiple" if definition.multiple else "one"}
        if context.bundle:
            element["#attributes"]["data-autocomplete"] = AUTOCOMPLETE_PATH.format(
                bundle=context.bundle, field=definition.name)
        return element

    def parse_all(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
                  context: WidgetContext) -> list[dict[str, Any]]:
        tokens = explode(_text(submitted, f"{name}[target_id]"))
        if len(tokens) > 1 and not definition.multiple:
            raise FieldValueError("takes one tag: remove the others (or the commas)")
        values: list[dict[str, Any]] = []
        for token in tokens:
            tag_name, tag_id = split_id(token)
            values.append({"target_id": tag_id, "target_type": "category_tag"}
                          if tag_id is not None else
                          {"name": tag_name, "target_type": "category_tag"})
        return values


_TAGS: Final = TagsWidget()


# The button removing a file value: its ``op`` value is this + the value's input name.
REMOVE_FILE = "remove_file:"
FILES_PATH = "/files/{}"


def upload_name(name: str) -> str:
    """The file input of the file value named ``name``."""
    return f"{name}[upload]"


class FileWidget(Widget):
    """A file value: with a file, a link to it, its id (hidden) and a Remove button; without
    one, a file input. The edit form stores an upload first (as a temporary file) and puts its
    id in the hidden input, so a form shown again keeps the file; saving makes it permanent.
    Extra text properties (description; alt and title for an image) sit beside it."""

    name = "file_generic"
    label = "File upload"

    def extras(self, definition: FieldDefinition) -> tuple[tuple[str, str], ...]:
        return (("description", "Description"),) if definition.settings.get(
            "description_field") else ()

    def element(self, definition: FieldDefinition, value: Mapping[str, Any] | None,
                *, name: str, context: WidgetContext) -> RenderElement:
        value = value or {}
        target = str(value.get("target_id", ""))
        children: dict[str, RenderElement] = {
            "target_id": {"#type": "hidden", "#name": f"{name}[target_id]",
                          "#default_value": target}}
        if target:
            label = context.file_labels.get(target, "the uploaded file")
            children["current"] = {"#type": "link", "#text": label,
                                   "#href": FILES_PATH.format(target), "#weight": -1}
            children["remove"] = {"#type": "submit", "#name": "op",
                                  "#value": f"{REMOVE_FILE}{name}",
                                  "#title": f"Remove {label}", "#weight": 0}
        else:
            allowed = definition.settings.get("file_extensions") or ()
            hint = f"Allowed types: {', '.join(allowed)}." if allowed else ""
            if context.max_upload:
                hint = f"{hint} At most {context.max_upload}.".strip()
            children["upload"] = _input("file", upload_name(name), definition.label, "",
                                        required=False, description=hint)
        for weight, (key, title) in enumerate(self.extras(definition), start=1):
            children[key] = _input("textfield", f"{name}[{key}]", title,
                                   str(value.get(key, "")))
            children[key]["#weight"] = weight
        group = _fieldset(definition, children)
        group["#required"] = definition.required
        return group

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        target = _text(submitted, f"{name}[target_id]").strip()
        if target == "":
            return None
        out = {"target_id": target}
        for key, _title in self.extras(definition):
            text = _text(submitted, f"{name}[{key}]")
            if text:
                out[key] = text
        return out


class ImageWidget(FileWidget):
    name = "image_image"
    label = "Image upload"

    def extras(self, definition: FieldDefinition) -> tuple[tuple[str, str], ...]:
        return (("alt", "Alternative text"), ("title", "Title text (shown on hover)"))


CORE_WIDGETS: tuple[type[Widget], ...] = (
    TextfieldWidget, TextareaWidget, NumberWidget, CheckboxWidget, DateWidget, DatetimeWidget,
    EmailWidget, LinkWidget, SelectWidget, ButtonsWidget, ReferenceWidget, FileWidget,
    ImageWidget,
)


class UnknownWidgetError(LookupError):
    """No widget is registered under a field type's ``widget`` name."""


class Widgets:
    """Widgets by name; one per kernel, extended with :meth:`register`."""

    def __init__(self, fields: FieldRegistry,
                 widgets: Sequence[type[Widget]] = CORE_WIDGETS) -> None:
        self.fields = fields
        self._widgets: dict[str, Widget] = {}
        # Bumped by every registration: what was chosen for a field before may have changed.
        self.version = 0
        for cls in widgets:
            self.register(cls())

    def register(self, widget: Widget) -> None:
        self._widgets[widget.name] = widget
        self.version += 1

    def __contains__(self, name: object) -> bool:
        return name in self._widgets

    def get(self, name: str) -> Widget:
        try:
            return self._widgets[name]
        except KeyError:
            raise UnknownWidgetError(name) from None

    def for_field(self, definition: FieldDefinition) -> Widget:
        """The widget chosen for ``definition``, else its field type's own (also when the
        chosen one is no longer registered: a removed plugin's widget)."""
        if definition.widget and definition.widget in self._widgets:
            return self._widgets[definition.widget]
        return self.get(self.fields.get(definition.type).widget)

    def choices(self, field_type: str) -> list[str]:
        """The registered widgets that can edit values of ``field_type``, its own first."""
        return [name for name in self.fields.get(field_type).widgets()
                if name in self._widgets]
