"""The item form of a type: what it works out once per type object and widget registry
follows the type and the registry when they change."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from trovato.content.fields import FieldDefinition, FieldRegistry
from trovato.content.items import Item
from trovato.content.types import ItemType
from trovato.forms.form import check_input, inputs
from trovato.forms.item_form import (
    add_more_buttons,
    item_form,
    labels,
    parse_item,
    sentence,
    widget_context,
)
from trovato.forms.widgets import (
    AllValuesWidget,
    Submitted,
    TextfieldWidget,
    WidgetContext,
    Widgets,
)
from trovato.render.elements import RenderElement
from trovato.render.formats import FormatRegistry, TextFormat
from trovato.users.accounts import CurrentUser

CONTEXT = WidgetContext()


def _type(*fields: FieldDefinition) -> ItemType:
    return ItemType(type="note", label="Note", fields=fields)


def _names(tree: RenderElement) -> list[str]:
    return [e["#name"] for e in inputs(tree)]


def _form(item_type: ItemType, widgets: Widgets) -> RenderElement:
    return item_form(item_type, None, action="/item/add/note", widgets=widgets,
                     context=CONTEXT, counts={})


def test_a_changed_type_gets_its_new_form() -> None:
    widgets = Widgets(FieldRegistry())
    first = _type(FieldDefinition("field_a", "text", "A", weight=2),
                  FieldDefinition("field_b", "integer", "B", weight=1))
    tree = _form(first, widgets)
    assert [n for n in _names(tree) if n.startswith("fields")] == [
        "fields[field_b]", "fields[field_a]"]
    assert labels(first)["fields.field_a"] == "A" and add_more_buttons(first) == ()
    assert "#multipart" not in tree
    # The type changed: a new object (as the type cache makes), with a new field, another
    # label and order, a multi-value field and a file.
    second = replace(first, fields=(
        FieldDefinition("field_a", "text", "Renamed", weight=0, cardinality=-1),
        FieldDefinition("field_b", "integer", "B", weight=1),
        FieldDefinition("field_c", "file", "C", weight=3)))
    tree = _form(second, widgets)
    assert [n for n in _names(tree) if n.startswith("fields")][:2] == [
        "fields[field_a][0]", "fields[field_b]"]
    assert "fields[field_c][upload]" in _names(tree) and tree["#multipart"] is True
    assert labels(second)["fields.field_a"] == "Renamed"
    assert add_more_buttons(second) == ("add_more:field_a",)
    data, errors = parse_item(second, {"fields[field_a][0]": "x", "fields[field_b]": "7"},
                              widgets=widgets, context=CONTEXT, counts={})
    assert errors == {} and data.fields["field_a"] == [{"value": "x"}]
    # The first type's form is still its own.
    assert labels(first)["fields.field_a"] == "A"


def test_each_value_of_a_multi_value_field_is_labelled_by_the_field_and_its_number() -> None:
    tags = _type(FieldDefinition("field_tags", "text", "Tags", cardinality=-1, required=True))
    tree = item_form(tags, None, action="/item/add/note", widgets=Widgets(FieldRegistry()),
                     context=CONTEXT, counts={"field_tags": 2})
    group = tree["fields"]["field_tags"]
    assert group["#title"] == "Tags"
    assert [group[d]["#title"] for d in ("0", "1")] == ["Tags, value 1", "Tags, value 2"]
    assert group["add_more"]["#title"] == "Add another value to Tags"
    # Its messages name it as the service's messages about it do.
    assert check_input(group["0"], "") == "Value 1 of Tags is required."


NAMES = {"title": "Title", "fields.field_tags": "Tags", "fields.field_image": "Picture"}


@pytest.mark.parametrize(("key", "message", "shown"), [
    ("title", "is required", "Title is required."),
    ("fields.field_tags.1", "must be at most 255 characters.",
     "Value 2 of Tags must be at most 255 characters."),
    # A message with a subject of its own follows its element's name after a colon.
    ("fields.field_tags.1", "this field names no vocabulary, so a tag must be given by id",
     "Value 2 of Tags: this field names no vocabulary, so a tag must be given by id."),
    ("fields.field_image", "needs alternative text (alt)",
     "Picture needs alternative text (alt)."),
    ("fields.field_link", "uri must name a host", "Uri must name a host"),
    ("title", "A sentence already.", "A sentence already."),
])
def test_messages_read_as_sentences_naming_their_element(key: str, message: str,
                                                         shown: str) -> None:
    assert sentence(key, message, NAMES) == shown


class ShoutWidget(TextfieldWidget):
    name = "text_textfield"  # replaces the core widget of text fields

    def element(self, definition: FieldDefinition, value: Any, *, name: str,
                context: WidgetContext) -> RenderElement:
        element = super().element(definition, value, name=name, context=context)
        element["#placeholder"] = "SHOUT"
        return element


def test_a_widget_registered_later_edits_the_fields_it_is_chosen_for() -> None:
    widgets = Widgets(FieldRegistry())
    item_type = _type(FieldDefinition("field_a", "text", "A"))
    assert "#placeholder" not in _form(item_type, widgets)["fields"]["field_a"]
    widgets.register(ShoutWidget())
    assert _form(item_type, widgets)["fields"]["field_a"]["#placeholder"] == "SHOUT"
    assert "#placeholder" not in _form(item_type, Widgets(FieldRegistry()))["fields"]["field_a"]


def test_the_widget_context_follows_the_formats_and_the_editors_permissions() -> None:
    formats = FormatRegistry()
    writer = CurrentUser(id=uuid.uuid4(), name="w")
    admin = CurrentUser(id=uuid.uuid4(), name="a", is_admin=True)
    first = widget_context(writer, formats)
    assert "full_html" not in first.formats and "full_html" in widget_context(admin,
                                                                              formats).formats
    assert first.format_labels["plain_text"] == "Plain text"
    assert "filtered_html" in first.editor_formats and "plain_text" not in first.editor_formats
    # A format added later (a new generation of the registry) is offered from then on.
    formats.add(TextFormat.from_dict("notes", {"label": "Notes",
                                               "filters": [{"name": "escape_html"}]}))
    later = widget_context(writer, formats)
    assert "notes" in later.formats and later.format_labels["notes"] == "Notes"
    assert "notes" not in first.formats


class PipedText(AllValuesWidget):
    """A text field's values in one input, separated by "|"; records what it is asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def element_all(self, definition: FieldDefinition, values: Sequence[Mapping[str, Any]],
                    *, name: str, context: WidgetContext) -> RenderElement:
        self.calls.append("element_all")
        return {"#type": "textfield", "#name": name, "#title": definition.label,
                "#default_value": "|".join(str(v["value"]) for v in values)}

    def parse_all(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
                  context: WidgetContext) -> list[dict[str, Any]]:
        self.calls.append("parse_all")
        return [{"value": part} for part in submitted.get(name, "").split("|") if part]


class RecordedText(TextfieldWidget):
    """The text fields' widget, recording what it is asked; it hands ``field_piped`` to
    :class:`PipedText`."""

    name = "text_textfield"

    def __init__(self, piped: PipedText) -> None:
        self.piped = piped
        self.calls: list[tuple[str, str]] = []

    def element(self, definition: FieldDefinition, value: Any, *, name: str,
                context: WidgetContext) -> RenderElement:
        self.calls.append(("element", name))
        return super().element(definition, value, name=name, context=context)

    def parse(self, definition: FieldDefinition, submitted: Submitted, *, name: str,
              context: WidgetContext) -> dict[str, Any] | None:
        self.calls.append(("parse", name))
        return super().parse(definition, submitted, name=name, context=context)

    def all_values(self, definition: FieldDefinition) -> AllValuesWidget | None:
        return self.piped if definition.name == "field_piped" else None


def _submitted(tree: RenderElement) -> dict[str, str]:
    """What a browser sends of the fields of an untouched form."""
    return {e["#name"]: e["#default_value"] for e in inputs(tree["fields"])
            if e["#name"].startswith("fields[")}


def test_a_field_handed_to_an_all_values_widget_is_one_element_both_ways() -> None:
    """The form asks the widget a field is handed to for all its values at once, and every
    other field's widget for one value at a time (each value of a multi-value field)."""
    piped = PipedText()
    text = RecordedText(piped)
    widgets = Widgets(FieldRegistry())
    widgets.register(text)
    item_type = _type(FieldDefinition("field_piped", "text", "Piped", cardinality=-1),
                      FieldDefinition("field_many", "text", "Many", cardinality=-1, weight=1),
                      FieldDefinition("field_one", "text", "One", weight=2))
    stored = {"field_piped": [{"value": "a"}, {"value": "b"}],
              "field_many": [{"value": "x"}, {"value": "y"}], "field_one": {"value": "z"}}
    item = Item(id=uuid.UUID(int=1), type="note", title="T", author_id=uuid.UUID(int=2),
                fields=stored)
    counts = {"field_piped": 1, "field_many": 2}
    tree = item_form(item_type, item, action="/item/1/edit", widgets=widgets, context=CONTEXT,
                     counts=counts)
    piped_element = tree["fields"]["field_piped"]
    assert piped_element["#error_key"] == "fields.field_piped"
    assert "add_more" not in piped_element and "add_more" in tree["fields"]["field_many"]
    submitted = _submitted(tree)
    assert submitted == {"fields[field_piped]": "a|b", "fields[field_many][0]": "x",
                         "fields[field_many][1]": "y", "fields[field_one]": "z"}
    data, errors = parse_item(item_type, submitted, widgets=widgets, context=CONTEXT,
                              counts=counts)
    assert errors == {} and data.fields == stored
    assert piped.calls == ["element_all", "parse_all"]
    assert text.calls == [("element", "fields[field_many][0]"),
                          ("element", "fields[field_many][1]"), ("element", "fields[field_one]"),
                          ("parse", "fields[field_many][0]"), ("parse", "fields[field_many][1]"),
                          ("parse", "fields[field_one]")]


def test_a_tag_field_is_one_input_of_names_and_an_item_reference_one_per_value() -> None:
    rock, jazz, page = (str(uuid.UUID(int=n)) for n in (11, 12, 13))
    tags = {"target_type": "category_tag", "target_bundles": ["genres"]}
    item_type = _type(FieldDefinition("field_tags", "reference", "Tags", cardinality=-1,
                                      settings=tags),
                      FieldDefinition("field_tag", "reference", "Tag", weight=1, settings=tags),
                      FieldDefinition("field_see", "reference", "See", cardinality=-1,
                                      weight=2, settings={"target_type": "item"}))
    item = Item(id=uuid.UUID(int=1), type="note", title="T", author_id=uuid.UUID(int=2),
                fields={"field_tags": [{"target_id": rock}, {"target_id": jazz}],
                        "field_tag": {"target_id": jazz},
                        "field_see": [{"target_id": page, "target_type": "item"}]})
    context = WidgetContext(reference_labels={rock: "Rock, pop", jazz: "Jazz", page: "Page"})
    widgets = Widgets(FieldRegistry())
    counts = {"field_tags": 1, "field_see": 1}
    tree = item_form(item_type, item, action="/item/1/edit", widgets=widgets, context=context,
                     counts=counts)
    submitted = _submitted(tree)
    assert submitted == {"fields[field_tags][target_id]": '"Rock, pop", Jazz',
                         "fields[field_tag][target_id]": "Jazz",
                         "fields[field_see][0][target_id]": f"Page ({page})"}
    data, errors = parse_item(item_type, {**submitted, "fields[field_tag][target_id]": rock},
                              widgets=widgets, context=context, counts=counts)
    assert errors == {}
    assert data.fields == {
        "field_tags": [{"name": "Rock, pop", "target_type": "category_tag"},
                       {"name": "Jazz", "target_type": "category_tag"}],
        "field_tag": {"target_id": rock, "target_type": "category_tag"},
        "field_see": [{"target_id": page, "target_type": "item"}]}
    # A single-value tag field takes one tag.
    _data, errors = parse_item(item_type, {**submitted, "fields[field_tag][target_id]": "A, B"},
                               widgets=widgets, context=context, counts=counts)
    assert errors == {"fields.field_tag": "takes one tag: remove the others (or the commas)"}
