"""Form stencils draw exactly what the renderer draws: the item form of a type with every field
type and every widget, added and edited, with values from the XSS corpus in every input, in
every label and file name; a tree of another shape is the renderer's, as is every form a theme
template or a preprocess step draws, or a plugin alters."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from tests.render.test_renderer import make_theme
from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.content.fields import FieldDefinition, FieldRegistry
from trovato.content.items import Item
from trovato.content.types import ItemType
from trovato.forms.form import hidden, prepare, walk
from trovato.forms.item_form import item_form, stencils
from trovato.forms.service import Forms
from trovato.forms.stencil import FormStencils, Stencil
from trovato.forms.widgets import WidgetContext, Widgets
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.render.renderer import ThemeEngine, ThemeRegistry

WIDGETS = Widgets(FieldRegistry())
FILE, REFERENCE = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))


def _definitions(text: str) -> tuple[FieldDefinition, ...]:
    """A field of every field type with each of its widgets, single and multi-value, some
    required, with ``text`` in every label, description and list label."""
    registry = FieldRegistry()
    settings: dict[str, dict[str, Any]] = {
        "list": {"allowed_values": {"a": text, text: "B", "": "Empty key"}},
        "file": {"file_extensions": ["txt", text], "description_field": True},
        "reference": {"target_type": "item"},
    }
    found = []
    for n, (name, cardinality) in enumerate(itertools.product(
            sorted(registry.names()), (1, -1))):
        for widget in WIDGETS.choices(name):
            found.append(FieldDefinition(
                f"field_{n}_{widget}", name, f"{name} {text}", required=n % 3 == 0,
                cardinality=cardinality, settings=settings.get(name, {}), weight=-n,
                description=text if n % 2 else "", widget=widget))
    found.append(FieldDefinition("field_tags", "reference", "Tags",
                                 settings={"target_type": "category_tag"}))
    return tuple(found)


def _value(definition: FieldDefinition, text: str, format: str) -> dict[str, Any]:
    match definition.type:
        case "boolean":
            return {"value": True}
        case "datetime":
            return {"value": "2024-05-01T12:30:00+00:00"}
        case "link":
            return {"uri": text, "title": text}
        case "list":
            return {"value": "a"}
        case "reference":
            return {"target_id": REFERENCE}
        case "file" | "image":
            return {"target_id": FILE, "description": text, "alt": text, "title": text}
        case "text_long":
            return {"value": text, "format": format}
        case _:
            return {"value": text}


def _item(item_type: ItemType, text: str, values: int = 1,
          format: str = "filtered_html") -> Item:
    fields: dict[str, Any] = {}
    for definition in item_type.fields:
        value = _value(definition, text, format)
        fields[definition.name] = [value] * values if definition.multiple else value
    return Item(id=uuid.UUID(int=3), type=item_type.type, title=text, author_id=uuid.UUID(int=4),
                status=1, sticky=True, fields=fields)


def _context(text: str, timezone: str = "Europe/Rome") -> WidgetContext:
    """What the widgets see: the site's format labels (the same for every item) and the
    labels of the records an item refers to (``text``)."""
    return WidgetContext(timezone=timezone, formats=("plain_text", "filtered_html"),
                         format_labels={"plain_text": f"Plain {VECTORS[1]}"}, bundle="note",
                         reference_labels={REFERENCE: text},
                         editor_formats={"filtered_html": ["p", "a"]},
                         file_labels={FILE: text}, max_upload="2 MB")


def _tree(item_type: ItemType, item: Item | None, text: str, *, counts: dict[str, int],
          token: str, timezone: str = "Europe/Rome", delete: bool = True) -> RenderElement:
    """The item form as :meth:`Forms.render` draws it: its hidden inputs in."""
    extra = {"delete": el.link(text, f"/item/{text}/delete", weight=10)} if delete else {}
    tree = item_form(item_type, item, action=f"/item/{text}/edit", widgets=WIDGETS,
                     context=_context(text, timezone), counts=counts, extra_actions=extra)
    return {**tree, "form_token": {**hidden("csrf_token", token), "#weight": -2000},
            "form_build_id": {**hidden("form_build_id", text), "#weight": -2000}}


def _rendered(engine: ThemeEngine, tree: RenderElement) -> str:
    return str(engine.render(prepare(tree)))


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine()


def _type(text: str = "Label") -> ItemType:
    return ItemType(type="note", label="Note", fields=_definitions(text))


def _counts(item_type: ItemType, n: int) -> dict[str, int]:
    return {d.name: n for d in item_type.fields if d.multiple}


@pytest.mark.parametrize("text", ["plain", "a & b < c", *VECTORS])
def test_the_stencil_draws_every_field_type_as_the_renderer(engine: ThemeEngine,
                                                            text: str) -> None:
    item_type = _type(text)
    first = _tree(item_type, _item(item_type, "first"), "first", counts=_counts(item_type, 1),
                  token="t1")
    found = FormStencils()
    found.learn(first, _rendered(engine, first), engine)
    # Another item of the same shape, every value (title, inputs, file names, labels of
    # references, the action and the Delete link) the vector: drawn by the stencil, exactly.
    tree = _tree(item_type, _item(item_type, text), text, counts=_counts(item_type, 1),
                 token=text)
    expected = _rendered(engine, tree)
    assert found.draw(tree, engine) == expected and found.hits == 1
    assert_safe(expected, text, allowed_tags=frozenset({"form", "input", "textarea", "select",
                                                         "option", "label", "fieldset",
                                                         "legend", "details", "summary",
                                                         "button", "div", "span", "a"}))
    # The tree drawn is left as it was.
    assert _rendered(engine, tree) == expected


def test_every_shape_is_the_renderers_or_its_own_stencils(engine: ThemeEngine) -> None:
    item_type = _type()
    evil = VECTORS[0]
    trees = [
        _tree(item_type, None, "add", counts=_counts(item_type, 1), token="a"),
        _tree(item_type, _item(item_type, "one"), "one", counts=_counts(item_type, 1),
              token="b"),
        _tree(item_type, _item(item_type, evil, values=2), evil,
              counts=_counts(item_type, 2), token="c"),
        _tree(item_type, _item(item_type, "zone"), "zone", counts=_counts(item_type, 1),
              token="d", timezone="Asia/Tokyo"),
        _tree(item_type, _item(item_type, "no delete"), "x", counts=_counts(item_type, 1),
              token="e", delete=False),
        _tree(item_type, _item(item_type, "format", format=evil), "f",
              counts=_counts(item_type, 1), token="g"),
        _tree(item_type, Item(id=uuid.UUID(int=5), type="note", title="", author_id=uuid.UUID(
            int=4), fields={}), "empty", counts=_counts(item_type, 3), token="f"),
    ]
    found = FormStencils()
    for tree in trees:  # each its own shape: none drawn by another's stencil
        html = _rendered(engine, tree)
        assert found.draw(tree, engine) is None
        found.learn(tree, html, engine)
        assert found.draw(tree, engine) == html
    for tree in trees:
        assert found.draw(tree, engine) == _rendered(engine, tree)
    # Values no option has, no value at all, values of other kinds: as the renderer shows
    # them ("" is an option of the list fields; Markup is shown as it is, by both).
    odd = trees[1]
    choices = ["not an option", _MISSING, "", None, ["unhashable"], "a", "1", 1]
    texts = [_MISSING, None, 0, 12.5, Markup("<b>kept</b>"), "", VECTORS[2], "x", "y", "z"]
    for choice, text in zip(choices, texts, strict=False):
        for element in walk(odd):
            kind = element.get("#type")
            if kind in ("select", "radios", "checkbox"):
                _set(element, choice)
            elif kind in ("number", "textfield", "textarea", "url", "email", "date"):
                _set(element, text)
        html = found.draw(odd, engine)
        assert html is not None and html == _rendered(engine, odd), (choice, text)
    odd["#action"] = "javascript:alert(1)"
    html = found.draw(odd, engine)
    assert html is not None and html == _rendered(engine, odd) and "javascript" not in html
    del odd["#action"]
    assert found.draw(odd, engine) == _rendered(engine, odd)


_MISSING = object()


def _set(element: RenderElement, value: object) -> None:
    if value is _MISSING:
        element.pop("#default_value", None)
    else:
        element["#default_value"] = value


def test_another_shape_is_drawn_by_the_renderer(engine: ThemeEngine) -> None:
    item_type = _type()
    tree = _tree(item_type, _item(item_type, "x"), "x", counts=_counts(item_type, 1), token="t")
    stencil = Stencil.build(tree, engine)
    assert stencil is not None
    for change in ({"#weight": 3}, {"#title": "Other"}, {"#description": "New"},
                   {"#attributes": {"class": "x"}}, {"extra": el.markup("New")}):
        changed = {**tree, "title": {**tree["title"], **change}}
        assert stencil.draw(changed, engine) is None
    assert stencil.draw({**tree, "extra": el.markup("added")}, engine) is None
    assert stencil.draw({**tree, "fields": "gone"}, engine) is None
    assert stencil.draw({k: v for k, v in tree.items() if k != "options"}, engine) is None


def test_themes_and_preprocess_steps_keep_the_renderer(tmp_path: Path) -> None:
    item_type = _type()
    tree = _tree(item_type, _item(item_type, "x"), "x", counts=_counts(item_type, 1), token="t")
    make_theme(tmp_path, "mine", {"elements/textfield.html": "<p>{{ element['#name'] }}</p>"})
    themed = ThemeEngine("mine", registry=ThemeRegistry([tmp_path]))
    assert Stencil.build(tree, themed) is None
    hooked = ThemeEngine(preprocess=[lambda kind, element, variables: None])
    assert Stencil.build(tree, hooked) is None
    found = FormStencils()
    found.learn(tree, _rendered(themed, tree), themed)
    assert found.draw(tree, themed) is None


def test_a_form_whose_shape_never_repeats_stops_making_stencils(engine: ThemeEngine) -> None:
    item_type = ItemType(type="note", label="Note", fields=(
        FieldDefinition("field_a", "text", "A"),))
    found = FormStencils()
    for n in range(40):
        tree = _tree(item_type, None, "x", counts={}, token="t")
        tree["title"]["#title"] = f"Title {n}"  # a new shape every time
        html = _rendered(engine, tree)
        assert found.draw(tree, engine) is None
        found.learn(tree, html, engine)
    assert found.builds == 8 and found.hits == 0


class _Taps:
    def __init__(self, altering: bool) -> None:
        self.altering = altering

    def listens(self, tap: str) -> bool:
        return self.altering and tap == "form_alter"


def test_the_form_service_uses_the_stencils_of_fresh_forms_only(engine: ThemeEngine) -> None:
    item_type = ItemType(type="note_fresh", label="Note", fields=(
        FieldDefinition("field_a", "text", "A"),))
    forms = Forms(_Taps(False), None, engine)  # type: ignore[arg-type]

    def tree() -> RenderElement:
        return item_form(item_type, None, action="/item/add/note", widgets=WIDGETS,
                         context=WidgetContext(), counts={})

    kept = stencils(item_type)
    first = forms.render(tree(), csrf_token="t", stencils=kept)
    assert kept.builds == 1 and kept.hits == 0
    assert forms.render(tree(), csrf_token="t", stencils=kept) == first and kept.hits == 1
    # Values shown again, or errors: the renderer's.
    again = forms.render(tree(), csrf_token="t", stencils=kept, values={"title": "typed"},
                         errors={"title": "Title is required."})
    assert 'value="typed"' in again and "Title is required." in again and kept.hits == 1
    # While a plugin alters forms, the renderer draws them (the tree is the altered one).
    altering = Forms(_Taps(True), None, engine)  # type: ignore[arg-type]
    altered = tree()
    altered["note"] = el.markup("Added by a plugin", tag="p")
    html = altering.render(altered, csrf_token="t", stencils=kept)
    assert "Added by a plugin" in html and kept.hits == 1 and kept.builds == 1


def test_elements_in_a_lists_items_are_drawn_as_the_renderer_draws_them(
        engine: ThemeEngine) -> None:
    item_type = ItemType(type="note", label="Note", fields=(
        FieldDefinition("field_a", "text", "A"),))
    evil = VECTORS[0]

    def tree(title: str) -> RenderElement:
        form = _tree(item_type, None, title, counts={}, token="t")
        # A table (drawn by its template) among a list's items, which only the list draws.
        form["help"] = el.item_list([{"#type": "table", "#header": [evil], "#rows": [[evil]]},
                                     evil])
        return form

    found = FormStencils()
    first = tree("first")
    found.learn(first, _rendered(engine, first), engine)
    second = tree(evil)
    assert found.draw(second, engine) == _rendered(engine, second) and found.hits == 1


def test_a_form_holding_markup_gets_no_stencil(engine: ThemeEngine) -> None:
    # Markup equals the text of the same characters but is drawn unescaped: a stencil drawn
    # from it would show a later tree's plain text unescaped.
    item_type = ItemType(type="note", label="Note", fields=(
        FieldDefinition("field_a", "text", "A"),))
    tree = _tree(item_type, None, "x", counts={}, token="t")
    tree["title"]["#title"] = Markup("<b>Title</b>")
    assert Stencil.build(tree, engine) is None
    tree["title"]["#title"] = "<b>Title</b>"
    stencil = Stencil.build(tree, engine)
    assert stencil is not None
    assert stencil.draw(tree, engine) == _rendered(engine, tree)
    # Markup in a hole is the request's own, drawn as the renderer draws it.
    tree["title"]["#default_value"] = Markup("<i>kept</i>")
    assert stencil.draw(tree, engine) == _rendered(engine, tree)


def test_one_element_in_two_places_is_drawn_by_the_renderer(engine: ThemeEngine) -> None:
    item_type = ItemType(type="note", label="Note", fields=(
        FieldDefinition("field_a", "text", "A"),))
    first = _tree(item_type, None, "x", counts={}, token="t")
    first["again"] = dict(first["title"])
    found = FormStencils()
    found.learn(first, _rendered(engine, first), engine)
    # The same dict under both keys: masking one masks the other; the renderer draws both.
    shared = _tree(item_type, None, "x", counts={}, token="t")
    shared["title"]["#default_value"] = "typed"
    shared["again"] = shared["title"]
    assert found.draw(shared, engine) is None
    assert shared["title"]["#default_value"] == "typed"
    assert found.draw(first, engine) == _rendered(engine, first)
