"""The item form of a type: what it works out once per type object and widget registry
follows the type and the registry when they change."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from trovato.content.fields import FieldDefinition, FieldRegistry
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
from trovato.forms.widgets import TextfieldWidget, WidgetContext, Widgets
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
