"""Field formatters: one per field type's ``formatter`` name, each value shown as a reader sees
it (rendered through the kernel theme where the output is markup)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from trovato.content.fields import FieldDefinition, FieldRegistry
from trovato.content.formatters import (
    CORE_FORMATTERS,
    Display,
    Formatters,
    UnknownFormatterError,
)
from trovato.content.types import ItemType
from trovato.records import Label
from trovato.render.renderer import ThemeEngine

ITEM = "0190a0b0-0000-7000-8000-000000000001"


@pytest.fixture(scope="module")
def formatters() -> Formatters:
    return Formatters(FieldRegistry())


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine(site_name="Test site")


def shown(formatters: Formatters, engine: ThemeEngine, type_: str, value: Mapping[str, Any],
          *, settings: Mapping[str, Any] | None = None, timezone: str = "UTC",
          labels: Mapping[uuid.UUID, Label] | None = None) -> str:
    """``value`` of a field of ``type_`` as HTML: the formatter's output, then the renderer."""
    definition = FieldDefinition("field_x", type_, "X", settings=settings or {})
    out = formatters.for_field(definition)(value, Display(definition, timezone, labels or {}))
    return str(engine.render(out)) if isinstance(out, dict) else str(engine.render(
        {"#type": "markup", "#value": out}))


def test_every_field_type_has_its_formatter_registered(formatters: Formatters) -> None:
    registry = FieldRegistry()
    assert registry.names()  # the core types, not an empty loop
    for field_type in registry.all():
        assert field_type.formatter in formatters, field_type.name
        assert formatters.for_field(FieldDefinition("f", field_type.name, "F")) is \
            CORE_FORMATTERS[field_type.formatter]


@pytest.mark.parametrize(("type_", "value", "html"), [
    ("text", {"value": "a <b> & c"}, "a &lt;b&gt; &amp; c"),
    ("integer", {"value": 42}, "42"),
    ("decimal", {"value": "3.50"}, "3.50"),
    ("float", {"value": 2.5}, "2.5"),
    ("boolean", {"value": True}, "Yes"),
    ("boolean", {"value": False}, "No"),
    ("date", {"value": "2024-05-01"}, "2024-05-01"),
    ("datetime", {"value": "2024-05-01T10:00:00Z"}, "2024-05-01 10:00"),
    ("reference", {"target_id": ITEM, "target_type": "category_tag"}, ITEM),
])
def test_plain_values(formatters: Formatters, engine: ThemeEngine, type_: str,
                      value: dict[str, Any], html: str) -> None:
    assert shown(formatters, engine, type_, value) == html


def test_formatted_text_runs_through_its_format(formatters: Formatters,
                                                engine: ThemeEngine) -> None:
    html = shown(formatters, engine, "text_long",
                 {"value": "<p>Hi <em>there</em></p><script>x()</script>",
                  "format": "filtered_html"})
    assert "<em>there</em>" in html and "<script" not in html
    plain = shown(formatters, engine, "text_long", {"value": "<em>x</em>",
                                                    "format": "plain_text"})
    assert "&lt;em&gt;x&lt;/em&gt;" in plain


def test_datetime_is_shown_in_the_readers_zone(formatters: Formatters,
                                               engine: ThemeEngine) -> None:
    value = {"value": "2024-05-01T10:00:00Z"}
    assert shown(formatters, engine, "datetime", value, timezone="Europe/Berlin") == \
        "2024-05-01 12:00"
    assert shown(formatters, engine, "datetime", value, timezone="America/New_York") == \
        "2024-05-01 06:00"
    # Not as the field type stores it (an old row): shown as stored, not an error.
    assert shown(formatters, engine, "datetime", {"value": "soon"}) == "soon"


def test_links_email_and_references_are_links(formatters: Formatters,
                                              engine: ThemeEngine) -> None:
    assert shown(formatters, engine, "email", {"value": "ada@example.com"}) == \
        '<a href="mailto:ada@example.com">ada@example.com</a>'
    assert shown(formatters, engine, "link", {"uri": "https://example.com/", "title": "Ex"}) \
        == '<a href="https://example.com/">Ex</a>'
    assert shown(formatters, engine, "link", {"uri": "/about"}) == '<a href="/about">/about</a>'
    # A stored URI the renderer refuses loses its href, never runs.
    assert "javascript" not in shown(formatters, engine, "link",
                                     {"uri": "javascript:alert(1)", "title": "x"})
    assert shown(formatters, engine, "reference", {"target_id": ITEM, "target_type": "item"}) \
        == f'<a href="/item/{ITEM}">{ITEM}</a>'
    assert shown(formatters, engine, "reference", {"target_id": ITEM, "target_type": "user"}) \
        == f'<a href="/user/{ITEM}">{ITEM}</a>'


def test_a_labelled_reference_shows_the_record_name_linked_escaped(
        formatters: Formatters, engine: ThemeEngine) -> None:
    tags = {"target_type": "category_tag"}
    labels = {uuid.UUID(ITEM): Label("Jazz <&> Blues", "/tags/genres/jazz-blues")}
    assert shown(formatters, engine, "reference", {"target_id": ITEM}, settings=tags,
                 labels=labels) == '<a href="/tags/genres/jazz-blues">Jazz &lt;&amp;&gt; Blues</a>'
    # A tag the labeller did not find (deleted meanwhile) shows its id, linking nowhere.
    assert shown(formatters, engine, "reference", {"target_id": ITEM}, settings=tags) == ITEM
def test_files_are_links_and_images_are_images(formatters: Formatters,
                                               engine: ThemeEngine) -> None:
    assert shown(formatters, engine, "file", {"target_id": ITEM}) == \
        f'<a href="/files/{ITEM}">Download the file</a>'
    assert shown(formatters, engine, "file", {"target_id": ITEM, "description": "Report <2024>"}
                 ) == f'<a href="/files/{ITEM}">Report &lt;2024&gt;</a>'
    html = shown(formatters, engine, "image", {"target_id": ITEM, "alt": 'A "cat"',
                                               "title": "<b>"})
    assert html.startswith(f'<img src="/files/{ITEM}" alt="A &#34;cat&#34;" title="&lt;b&gt;"')


def test_list_values_show_their_labels(formatters: Formatters, engine: ThemeEngine) -> None:
    settings = {"allowed_values": {"red": "Red <warm>", "blue": "Blue"}}
    assert shown(formatters, engine, "list", {"value": "red"}, settings=settings) == \
        "Red &lt;warm&gt;"
    # A key no longer allowed (the settings changed since) shows the key itself.
    assert shown(formatters, engine, "list", {"value": "green"}, settings=settings) == "green"


def test_a_formatter_can_be_added_and_replaced() -> None:
    formatters = Formatters(FieldRegistry())
    with pytest.raises(UnknownFormatterError):
        formatters.get("shout")

    def shout(value: Mapping[str, Any], display: Display) -> str:
        return f"{display.field.label}: {str(value['value']).upper()}"

    formatters.register("shout", shout)
    assert formatters.get("shout")({"value": "hi"}, Display(FieldDefinition("f", "text", "F"))) \
        == "F: HI"
    formatters.register("text_plain", shout)  # a site may show a core type its own way
    definition = FieldDefinition("f", "text", "Label")
    assert formatters.for_field(definition)({"value": "a"}, Display(definition)) == "Label: A"
    # Per kernel, not global: a new registry starts from the core formatters.
    assert Formatters(FieldRegistry()).get("text_plain") is CORE_FORMATTERS["text_plain"]


def test_shown_fields_are_resolved_once_per_type_and_zone() -> None:
    formatters = Formatters(FieldRegistry())
    body = FieldDefinition("field_body", "text_long", "Body", weight=-1)
    note = FieldDefinition("field_note", "text", "Note", display={"label": "inline"})
    secret = FieldDefinition("field_secret", "text", "Secret", display={"hidden": True})
    article = ItemType("article", "Article", fields=(note, secret, body))
    shown = formatters.shown_fields(article, "Europe/Berlin")
    # Display order (weight, name), hidden fields left out, each keeping its place.
    assert [(s.definition.name, s.weight, s.label_display) for s in shown] == [
        ("field_body", 0, "hidden"), ("field_note", 1, "inline")]
    assert shown[0].formatter is CORE_FORMATTERS["text_default"]
    assert shown[1].display == Display(note, "Europe/Berlin")
    # The same objects on every later view of the type in that zone: nothing per field.
    assert formatters.shown_fields(article, "Europe/Berlin") is shown
    assert formatters.shown_fields(article, "UTC")[1].display.timezone == "UTC"
    # A changed type is a new object: resolved again. So is every type after a register().
    renamed = ItemType("article", "Article", fields=(note,))
    assert [s.definition.name for s in formatters.shown_fields(renamed, "UTC")] == ["field_note"]

    def shout(value: Mapping[str, Any], display: Display) -> str:
        return str(value["value"]).upper()

    formatters.register("text_plain", shout)
    assert formatters.shown_fields(article, "Europe/Berlin")[1].formatter is shout
