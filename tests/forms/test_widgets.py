"""Field widgets: one per field type's ``widget`` name; what a widget shows for a stored value,
submitted back unchanged by a browser, parses and cleans to the same stored value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from trovato.content.fields import FieldDefinition, FieldEnv, FieldRegistry, FieldValueError
from trovato.forms.form import check_input
from trovato.forms.widgets import (
    AllValuesWidget,
    CheckboxWidget,
    UnknownWidgetError,
    WidgetContext,
    Widgets,
)
from trovato.render.elements import RenderElement

ID = "0190a0b0-0000-7000-8000-000000000001"
REGISTRY = FieldRegistry()

# (field type, settings, a stored value as the field type cleans it)
SAMPLES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("text", {}, {"value": "Hello <world>"}),
    ("text_long", {}, {"value": "<p>Body</p>\n\nmore", "format": "markdown"}),
    ("integer", {}, {"value": -42}),
    ("decimal", {}, {"value": "12.50"}),
    ("float", {}, {"value": 2.5}),
    ("boolean", {}, {"value": True}),
    ("boolean", {}, {"value": False}),
    ("date", {}, {"value": "2024-05-01"}),
    ("datetime", {}, {"value": "2024-05-01T10:00:00Z"}),
    ("datetime", {}, {"value": "2024-12-31T23:59:30Z"}),
    ("datetime", {}, {"value": "2024-07-01T00:00:00.250000Z"}),
    ("email", {}, {"value": "ada@example.com"}),
    ("link", {}, {"uri": "https://example.com/a?b=c", "title": "Example"}),
    ("link", {"title": "none"}, {"uri": "/about"}),
    ("list", {"allowed_values": {"red": "Red", "blue": "Blue"}}, {"value": "blue"}),
    ("reference", {"target_type": "user"}, {"target_id": ID, "target_type": "user"}),
    ("file", {"description_field": True}, {"target_id": ID, "description": "Report"}),
    ("image", {}, {"target_id": ID, "alt": "A cat", "title": "Cat"}),
]


def inputs(tree: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every input of a form element tree (an element with a ``#name``), depth first; a
    button (sent only when pressed, like a file value's Remove) is none."""
    if "#name" in tree and tree.get("#type") != "submit":
        yield tree
    for key, child in tree.items():
        if not key.startswith("#") and isinstance(child, Mapping):
            yield from inputs(child)


def browser_submits(tree: RenderElement) -> dict[str, str]:
    """What a browser posts for an untouched form: each input's default (an unchecked box:
    nothing)."""
    posted: dict[str, str] = {}
    for element in inputs(tree):
        if element["#type"] == "checkbox":
            if element["#default_value"]:
                posted[element["#name"]] = element["#return_value"]
        else:
            posted[element["#name"]] = element["#default_value"]
    return posted


def definition(type_: str, settings: Mapping[str, Any], cardinality: int = 1
               ) -> FieldDefinition:
    return FieldDefinition("field_x", type_, "X", cardinality=cardinality,
                           settings=REGISTRY.get(type_).validate_settings(settings))


def test_every_field_type_has_its_widget_registered() -> None:
    widgets = Widgets(REGISTRY)
    assert REGISTRY.names()
    for field_type in REGISTRY.all():
        assert field_type.widget in widgets, field_type.name
        assert widgets.for_field(FieldDefinition("f", field_type.name, "F")).name == \
            field_type.widget
    assert {t for t, _, _ in SAMPLES} == set(REGISTRY.names())  # a round trip per type


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(("type_", "settings", "stored"), SAMPLES)
def test_round_trip(type_: str, settings: dict[str, Any], stored: dict[str, Any],
                    zone: str) -> None:
    field = definition(type_, settings)
    widget = Widgets(REGISTRY).for_field(field)
    context = WidgetContext(timezone=zone)
    tree = widget.element(field, stored, name="field_x[0]", context=context)
    assert all(e["#name"].startswith("field_x[0]") for e in inputs(tree))
    parsed = widget.parse(field, browser_submits(tree), name="field_x[0]", context=context)
    assert parsed is not None
    assert REGISTRY.get(type_).clean(parsed, field.settings, FieldEnv()) == stored


@pytest.mark.parametrize(("type_", "settings", "stored"),
                         [s for s in SAMPLES if s[0] != "boolean"])
def test_a_new_value_left_empty_is_no_value(type_: str, settings: dict[str, Any],
                                            stored: dict[str, Any]) -> None:
    field = definition(type_, settings)
    widget = Widgets(REGISTRY).for_field(field)
    tree = widget.element(field, None, name="f", context=WidgetContext())
    submitted = browser_submits(tree)
    if type_ == "text_long":
        submitted["f[value]"] = ""  # the format select always posts its choice
    assert widget.parse(field, submitted, name="f", context=WidgetContext()) is None


def test_an_unchecked_box_is_false_not_empty() -> None:
    field = definition("boolean", {})
    tree = CheckboxWidget().element(field, None, name="f", context=WidgetContext())
    assert tree["#default_value"] == ""
    assert CheckboxWidget().parse(field, {}, name="f", context=WidgetContext()) == \
        {"value": False}


def test_what_the_editor_sees() -> None:
    berlin = WidgetContext(timezone="Europe/Berlin", formats=("plain_text", "filtered_html"))
    field = definition("datetime", {})
    tree = Widgets(REGISTRY).for_field(field).element(
        field, {"value": "2024-05-01T10:00:00Z"}, name="d", context=berlin)
    assert tree["#type"] == "datetime" and tree["#default_value"] == "2024-05-01T12:00"
    parsed = Widgets(REGISTRY).for_field(field).parse(field, {"d": "2024-01-01T12:00"},
                                                      name="d", context=berlin)
    assert parsed == {"value": "2024-01-01T11:00:00Z"}  # winter: CET is UTC+1
    lst = definition("list", {"allowed_values": {"r": "Red"}})
    select = Widgets(REGISTRY).for_field(lst).element(lst, None, name="l", context=berlin)
    assert select["#type"] == "select" and select["#options"] == {"r": "Red"}
    body = definition("text_long", {})
    text = Widgets(REGISTRY).for_field(body).element(
        body, {"value": "x", "format": "full_html"}, name="b", context=berlin)
    assert text["value"]["#type"] == "textarea"
    # The formats the editor may use, plus the value's own (kept as it is, never switched).
    assert list(text["format"]["#options"]) == ["plain_text", "filtered_html", "full_html"]
    assert text["format"]["#default_value"] == "full_html"


def test_a_formatted_text_is_a_fieldset_of_the_field_with_its_text_and_format() -> None:
    body = definition("text_long", {})
    body = FieldDefinition("field_x", "text_long", "Body", required=True,
                           settings=body.settings)
    tree = Widgets(REGISTRY).for_field(body).element(body, None, name="b",
                                                     context=WidgetContext())
    # The legend names the field once; the labels say which part each input is.
    assert tree["#type"] == "fieldset" and tree["#title"] == "Body"
    assert tree["value"]["#title"] == "Text" and tree["format"]["#title"] == "Text format"
    # Its messages name the field, not "Text".
    assert check_input(tree["value"], "") == "Body is required."


def test_an_image_says_what_its_title_is_for() -> None:
    field = definition("image", {})
    tree = Widgets(REGISTRY).for_field(field).element(field, None, name="i",
                                                      context=WidgetContext())
    assert tree["alt"]["#title"] == "Alternative text"
    assert tree["title"]["#title"] == "Title text (shown on hover)"


def test_the_format_selector_shows_labels() -> None:
    labelled = WidgetContext(formats=("plain_text", "filtered_html"),
                             format_labels={"plain_text": "Plain text",
                                            "filtered_html": "Filtered HTML"})
    body = definition("text_long", {})
    text = Widgets(REGISTRY).for_field(body).element(
        body, {"value": "x", "format": "markdown"}, name="b", context=labelled)
    # A format without a label (here the value's own) shows its name.
    assert text["format"]["#options"] == {"plain_text": "Plain text",
                                          "filtered_html": "Filtered HTML",
                                          "markdown": "markdown"}


@pytest.mark.parametrize(("type_", "text", "message"), [
    ("integer", "4.5", "must be a whole number"),
    ("integer", "x" * 65, "must be at most 64 characters"),
    ("float", "abc", "must be a number"),
    ("datetime", "tomorrow", "must be a date and time"),
])
def test_unreadable_submissions_say_what_is_wrong(type_: str, text: str, message: str) -> None:
    field = definition(type_, {})
    with pytest.raises(FieldValueError, match=message):
        Widgets(REGISTRY).for_field(field).parse(field, {"f": text}, name="f",
                                                 context=WidgetContext())


def test_a_widget_can_be_added() -> None:
    widgets = Widgets(REGISTRY)
    with pytest.raises(UnknownWidgetError):
        widgets.get("stars")

    class Stars(CheckboxWidget):
        name = "stars"

    widgets.register(Stars())
    assert widgets.get("stars").name == "stars"
    assert "stars" not in Widgets(REGISTRY)  # per kernel, not global


def test_a_chosen_widget_edits_the_field() -> None:
    widgets = Widgets(REGISTRY)
    assert widgets.choices("list") == ["options_select", "options_buttons"]
    assert widgets.choices("integer") == ["number"]
    settings = REGISTRY.get("list").validate_settings({"allowed_values": {"r": "Red"}})
    chosen = FieldDefinition("field_x", "list", "X", settings=settings,
                             widget="options_buttons")
    widget = widgets.for_field(chosen)
    assert widget.name == "options_buttons"
    tree = widget.element(chosen, {"value": "r"}, name="field_x", context=WidgetContext())
    assert tree["#type"] == "radios" and tree["#options"] == {"": "None", "r": "Red"}
    assert widget.parse(chosen, {"field_x": "r"}, name="field_x",
                        context=WidgetContext()) == {"value": "r"}
    # A widget no longer registered (its plugin gone) falls back to the field type's own.
    gone = FieldDefinition("field_x", "list", "X", settings=settings, widget="plugin_widget")
    assert widgets.for_field(gone).name == "options_select"
def test_a_reference_takes_title_and_id_or_an_id_and_names_its_autocomplete() -> None:
    field = definition("reference", {"target_type": "item"})
    widget = Widgets(REGISTRY).for_field(field)
    context = WidgetContext(bundle="note", reference_labels={ID: "A (nested) title"})
    element = widget.element(field, {"target_id": ID, "target_type": "item"}, name="f",
                             context=context)
    assert element["#type"] == "textfield" and element["#name"] == "f[target_id]"
    assert element["#default_value"] == f"A (nested) title ({ID})"
    assert element["#attributes"] == {"data-autocomplete": "/autocomplete/note/field_x"}
    unseen = widget.element(field, {"target_id": ID}, name="f", context=WidgetContext())
    assert unseen["#default_value"] == ID and "#attributes" not in unseen
    for typed in (f"A (nested) title ({ID})", f"  {ID} ", f"Anything ( {ID} )"):
        assert widget.parse(field, {"f[target_id]": typed}, name="f", context=context) == {
            "target_id": ID, "target_type": "item"}, typed
    junk = widget.parse(field, {"f[target_id]": "Just a title"}, name="f", context=context)
    assert junk == {"target_id": "Just a title", "target_type": "item"}  # the type refuses it
    with pytest.raises(FieldValueError):
        REGISTRY.get("reference").clean(junk, field.settings, FieldEnv())


def test_the_textarea_configures_the_editor_for_the_html_formats_offered() -> None:
    field = definition("text_long", {})
    widget = Widgets(REGISTRY).for_field(field)
    context = WidgetContext(formats=("filtered_html", "plain_text"),
                            editor_formats={"filtered_html": ["em", "p", "strong"],
                                            "full_html": None})
    tree = widget.element(field, None, name="f", context=context)
    assert tree["value"]["#attributes"] == {
        "data-editor-formats": '{"filtered_html":["em","p","strong"]}'}  # offered ones only
    plain = widget.element(field, None, name="f", context=WidgetContext(formats=("plain_text",)))
    assert "#attributes" not in plain["value"]
def test_each_textarea_offers_the_editor_its_own_formats() -> None:
    """One context's textareas share the editor's configuration, but for a value whose format
    the editor may not choose: that format stays offered in its textarea alone."""
    field = definition("text_long", {})
    widget = Widgets(REGISTRY).for_field(field)
    context = WidgetContext(formats=("filtered_html",),
                            editor_formats={"filtered_html": ["p", "em"], "full_html": None})
    trees = [widget.element(field, value, name=name, context=context) for name, value in (
        ("a", {"value": "x", "format": "filtered_html"}), ("b", {"value": "y",
                                                                "format": "full_html"}),
        ("c", None))]
    assert [t["value"]["#attributes"]["data-editor-formats"] for t in trees] == [
        '{"filtered_html":["em","p"]}', '{"filtered_html":["em","p"],"full_html":null}',
        '{"filtered_html":["em","p"]}']


def test_a_tag_field_takes_a_name_for_free_tagging() -> None:
    """Text that is not an id is a tag's name (the save finds or creates the tag); an id is
    an id; other record kinds take ids only (a name stays a target_id the type refuses)."""
    tags = definition("reference", {"target_type": "category_tag"})
    widget = Widgets(REGISTRY).for_field(tags)
    context = WidgetContext()
    assert widget.parse(tags, {"f[target_id]": " Free jazz "}, name="f", context=context) == {
        "name": "Free jazz", "target_type": "category_tag"}
    assert widget.parse(tags, {"f[target_id]": ID}, name="f", context=context) == {
        "target_id": ID, "target_type": "category_tag"}
    cleaned = REGISTRY.get("reference").clean({"name": "Free jazz"}, tags.settings, FieldEnv())
    assert cleaned == {"name": "Free jazz", "target_type": "category_tag"}
    users = definition("reference", {"target_type": "user"})
    parsed = widget.parse(users, {"f[target_id]": "bob"}, name="f", context=context)
    assert parsed == {"target_id": "bob", "target_type": "user"}
    with pytest.raises(FieldValueError):
        REGISTRY.get("reference").clean({"name": "bob"}, users.settings, FieldEnv())


def test_a_file_value_shows_its_file_and_a_remove_button() -> None:
    field = definition("file", {"file_extensions": ["pdf"]})
    widget = Widgets(REGISTRY).for_field(field)
    context = WidgetContext(file_labels={ID: "report.pdf"}, max_upload="10 MB")
    tree = widget.element(field, {"target_id": ID}, name="fields[field_x]", context=context)
    assert tree["current"]["#href"] == f"/files/{ID}"
    assert tree["current"]["#text"] == "report.pdf"
    assert tree["remove"]["#value"] == "remove_file:fields[field_x]"
    assert "upload" not in tree
    empty = widget.element(field, None, name="fields[field_x]", context=context)
    assert empty["upload"]["#type"] == "file"
    assert empty["upload"]["#name"] == "fields[field_x][upload]"
    assert empty["upload"]["#description"] == "Allowed types: pdf. At most 10 MB."
    assert widget.parse(field, {"fields[field_x][target_id]": ""}, name="fields[field_x]",
                        context=context) is None


def test_a_tag_field_edits_every_tag_in_one_input_of_names() -> None:
    """A tag field is one input of comma-separated names (Drupal's free-tagging field): each
    tag shown by name ("Name (id)" where the context says two tags share it), names with a
    comma quoted; read back, a name stays a name (resolved before saving), "Name (id)" and a
    bare id are ids. A single-value field takes one tag."""
    tags = definition("reference", {"target_type": "category_tag"}, cardinality=-1)
    reference = Widgets(REGISTRY).for_field(tags)
    widget = reference.all_values(tags)
    assert isinstance(widget, AllValuesWidget)
    items = definition("reference", {"target_type": "item"})
    assert reference.all_values(items) is None  # one input per value
    other = "0190a9a4-6a8e-7c3b-9d2e-000000000002"
    context = WidgetContext(bundle="post", reference_labels={ID: "Rock, pop", other: "Jazz"},
                            tag_tokens={other: f"Jazz ({other})"})
    element = widget.element_all(tags, [{"target_id": ID}, {"target_id": other},
                                        {"name": "New one"}], name="f", context=context)
    assert element["#name"] == "f[target_id]"
    assert element["#default_value"] == f'"Rock, pop", Jazz ({other}), New one'
    assert element["#attributes"] == {"data-tags": "multiple",
                                      "data-autocomplete": "/autocomplete/post/field_x"}
    parsed = widget.parse_all(tags, {"f[target_id]": element["#default_value"]}, name="f",
                              context=context)
    assert parsed == [{"name": "Rock, pop", "target_type": "category_tag"},
                      {"target_id": other, "target_type": "category_tag"},
                      {"name": "New one", "target_type": "category_tag"}]
    assert widget.parse_all(tags, {"f[target_id]": f"{ID}, ,"}, name="f", context=context) \
        == [{"target_id": ID, "target_type": "category_tag"}]
    one = definition("reference", {"target_type": "category_tag"})
    with pytest.raises(FieldValueError, match="takes one tag"):
        widget.parse_all(one, {"f[target_id]": "Jazz, Rock"}, name="f", context=context)
    assert widget.parse_all(one, {"f[target_id]": '"Rock, pop"'}, name="f",
                            context=context) == [{"name": "Rock, pop",
                                                  "target_type": "category_tag"}]
