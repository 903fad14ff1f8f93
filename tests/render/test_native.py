"""The Python twins of the kernel element templates render exactly what the templates render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.render.test_renderer import make_theme
from tests.render.xss_corpus import VECTORS
from trovato.render import elements as el
from trovato.render import native
from trovato.render.elements import element_type
from trovato.render.renderer import KERNEL_TEMPLATES, KERNEL_TWINS, ThemeEngine, ThemeRegistry
from trovato.render.sanitize import sanitize

SAMPLE_TEXTS = ["plain", "", "a & b < c", *VECTORS]
ATTRIBUTES: list[dict[str, Any] | None] = [
    None, {"class": "x y"}, {"id": "main", "class": "x", "hidden": True, "aria-label": "\"q\""},
    {"onclick": "alert(1)", "class": "field"}, {"onclick": "alert(1)"},
    {"class": "item field--field_x", "title": None, "hidden": False},
]


FORM_TYPES = ("textfield", "email", "date", "datetime", "textarea", "number", "url", "password",
              "file", "checkbox", "select", "radios", "checkboxes", "hidden", "submit")


def _form_corpus(text: str) -> list[dict[str, Any]]:
    """Form elements with every property their templates read, with and without each."""
    elements: list[dict[str, Any]] = []
    options = {"a": text, text: "B", "c": "C"}
    full: dict[str, Any] = {
        "#id": f"edit-{text}", "#name": text, "#title": text, "#required": True,
        "#disabled": True, "#maxlength": 10, "#placeholder": text, "#autocomplete": "off",
        "#error": text, "#description": text, "#default_value": text, "#timezone": text,
        "#step": "1", "#min": "0", "#max": text, "#options": options, "#empty_option": True,
        "#return_value": text, "#value": text, "#attributes": {"class": "x", "data-x": text},
    }
    for kind in FORM_TYPES:
        elements += [
            {"#type": kind},
            {"#type": kind, "#name": "n", "#value": text},
            {**full, "#type": kind},
            {**full, "#type": kind, "#error": None, "#required": False, "#id": None},
            {**full, "#type": kind, "#description": None, "#default_value": "a",
             "#return_value": None, "#title": None},
            {**full, "#type": kind, "#default_value": ["a", text], "#format": "plain_text"},
            {"#type": kind, "#default_value": "1", "#name": "c", "#title": text},
        ]
    child = {"#type": "hidden", "#name": "h", "#default_value": text}
    for kind in ("fieldset", "details", "actions", "form"):
        elements += [
            {"#type": kind},
            {"#type": kind, "a": child, "b": {**child, "#weight": -1}},
            {"#type": kind, "#id": text, "#title": text, "#error": text, "#description": text,
             "#required": True, "#open": True, "#method": "get", "#action": text,
             "#multipart": True, "#attributes": {"class": text}, "a": child},
            {"#type": kind, "#title": text, "#method": "post", "#action": "/item/1/edit",
             "#attributes": {"id": "f"}, "a": child},
        ]
    return elements


def _corpus() -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for text in SAMPLE_TEXTS:
        for attributes in ATTRIBUTES:
            extra = {"#attributes": attributes} if attributes else {}
            elements += [
                {"#type": "markup", "#value": text, **extra},
                {"#type": "markup", "#value": text, "#tag": "span", **extra},
                {"#type": "markup", "#value": text, "#format": "filtered_html", **extra},
                {"#type": "link", "#text": text, "#href": "/item/1", "#title": text, **extra},
                {"#type": "link", "#text": text, "#href": "javascript:alert(1)", **extra},
                {"#type": "link", "#text": text, "#href": text, **extra},
                {"#type": "container", "#title": text, "#tag": "section", **extra,
                 "a": {"#type": "markup", "#value": text}},
                {"#type": "list", "#items": [text, {"#type": "markup", "#value": text}],
                 "#ordered": bool(attributes), "#title": text, **extra},
                {"#type": "image", "#src": "/f.png", "#alt": text, "#title": text,
                 "#width": 10, "#height": 20, **extra},
                {"#type": "image", "#src": text, **extra},
            ]
        elements += _form_corpus(text)
        for display in ("above", "inline", "hidden", "visually_hidden", None):
            for count in (0, 1, 3):
                elements.append({
                    "#type": "field", "#field_name": "field_x", "#field_type": "text",
                    "#label": text, "#label_display": display, "#items": [text] * count,
                })
        for pages, page in ((0, 0), (1, 0), (3, 1), (20, 0), (20, 10), (20, 19), (20, 40)):
            elements += [
                {"#type": "pager", "#pages": pages, "#page": page, "#href": "/admin/content",
                 "#query": {"type": text, "page": "7"}},
                {"#type": "pager", "#pages": pages, "#page": page, "#href": text},
                {"#type": "pager", "#pages": pages, "#page": page, "#href": "/x?a=1"},
            ]
        for mode in ("full", "teaser", None):
            element: dict[str, Any] = {"#type": "item", "#item_type": "blog", "#title": text,
                                       "#href": "/item/1", "body": {"#type": "markup",
                                                                    "#value": text}}
            if mode:
                element["#view_mode"] = mode
            elements += [element, {**element, "#href": None}, {**element, "#tag": "div"}]
    elements += [
        {"#type": "container"},
        {"#type": "list"},
        {"#type": "field"},
        {"#type": "item"},
        {"#type": "link"},
        {"#type": "image"},
        {"#type": "markup"},
    ]
    return elements


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine()


def test_every_twin_matches_its_template(engine: ThemeEngine) -> None:
    checked: set[str] = set()
    for raw in _corpus():
        element = sanitize(raw, source="test", trusted=False)
        type_name = element_type(element)
        name = f"elements/{type_name}.html"
        twin = engine.twin(engine.suggestions(element))
        assert twin is KERNEL_TWINS[name]
        # The template draws from the renderer's variables (children drawn the same way).
        expected = engine.template(name).render(engine._variables(type_name, element))
        assert engine.html(element) == twin(engine, element) == expected, (raw, expected)
        checked.add(name)
    assert checked == set(KERNEL_TWINS)


def test_the_engine_uses_twins_only_for_kernel_templates(tmp_path: Path) -> None:
    make_theme(tmp_path, "fancy", {
        "elements/field.html": "<p class=themed>{{ label }}</p>",
        "elements/link--special.html": "never used: links have no such suggestion",
    })
    themed = ThemeEngine("fancy", registry=ThemeRegistry([tmp_path]))
    kernel = ThemeEngine()
    field = {"#type": "field", "#field_name": "f", "#label": "L", "#items": ["v"]}
    assert themed.render(field) == "<p class=themed>L</p>"
    assert kernel.twin(kernel.suggestions(field)) is native.field
    assert themed.twin(themed.suggestions(field)) is None
    # Elements the theme does not override still take the fast path in the themed engine.
    link = {"#type": "link", "#text": "t", "#href": "/x"}
    assert themed.twin(themed.suggestions(link)) is native.link
    assert themed.render(link) == kernel.render(link) == '<a href="/x">t</a>'


def test_preprocess_variables_reach_the_template_not_the_twin() -> None:
    # A preprocess hook may change a variable the kernel template shows (the title), so an
    # element with hooks or #variables is drawn by the template, never by the twin.
    def retitle(type_name: str, element: Any, variables: Any) -> dict[str, str]:
        return {"title": "<Changed>"} if type_name == "item" else {}

    hooked = ThemeEngine(preprocess=[retitle])
    item = {"#type": "item", "#item_type": "blog", "#view_mode": "teaser", "#title": "Old"}
    assert "&lt;Changed&gt;" in hooked.render(item)
    assert ">Old<" in ThemeEngine().render(item)


def test_remembered_attribute_text_tells_true_from_one(engine: ThemeEngine) -> None:
    # True == 1 and False == 0 as dictionary keys, but they render differently.
    def draw(value: object) -> str:
        return engine.html({"#type": "container", "#attributes": {"hidden": value}})

    for _ in range(2):  # the second round would be served from the memo
        assert draw(True) == "<div hidden>\n\n</div>"
        assert draw(1) == '<div hidden="1">\n\n</div>'
        assert draw(False) == "<div>\n\n</div>"
        assert draw(0) == '<div hidden="0">\n\n</div>'
        assert draw("x") == '<div hidden="x">\n\n</div>'


def test_a_class_list_is_its_names_joined_by_spaces(engine: ThemeEngine) -> None:
    tree = {"#type": "container", "#attributes": {"class": ["tag-tree", "x<y", None]}}
    assert engine.html(tree).startswith('<div class="tag-tree x&lt;y">')
    listed = engine.render(el.item_list(["a"], attributes={"class": ("one", "two")}))
    assert 'class="one two item-list"' in listed and "[" not in listed


@pytest.mark.parametrize("value", [*SAMPLE_TEXTS, 5, 2.5, None, True, "\u00e9\u2028&amp;"])
def test_escape_matches_markupsafe(value: object) -> None:
    from markupsafe import Markup, escape

    assert native.escape_html(value) == str(escape(value))
    assert native.escape_html(Markup("<b>kept</b>")) == "<b>kept</b>"


@pytest.mark.parametrize("values", [SAMPLE_TEXTS, [], [""], ["a\x00<b>", "c"], ["\x00"]])
def test_escape_many_escapes_each_value(values: list[str]) -> None:
    assert native.escape_many(values) == [native.escape_html(v) for v in values]


def test_every_page_twin_matches_its_template(engine: ThemeEngine) -> None:
    from types import SimpleNamespace

    from trovato.render.native_pages import PAGE_TWINS

    rows = [SimpleNamespace(id=text, title=text, type=text, author=text, status=text,
                            updated=text, may_edit=n % 2 == 0)
            for n, text in enumerate(SAMPLE_TEXTS)]
    nul = SimpleNamespace(id="1", title="a\x00<b>", type="", author="", status="",
                          updated="", may_edit=True)
    cases: list[dict[str, Any]] = [{"rows": rows, "bulk_form": "<form>"}, {"rows": []},
                                   {"rows": [*rows[:3], nul]},
                                   {"rows": rows[:1], "bulk_form": "edit-bulk"}]
    assert set(PAGE_TWINS) == {"admin/content_rows.html"}
    for name, twin in PAGE_TWINS.items():
        for variables in cases:
            expected = engine.template(name).render(variables)
            assert twin(variables) == expected
            assert engine.render_partial(name, variables) == expected


def test_remembered_rows_tell_markup_from_text_and_follow_their_values(
    engine: ThemeEngine,
) -> None:
    from types import SimpleNamespace

    from markupsafe import Markup

    from trovato.render.native_pages import content_rows

    def row(title: str, *, may_edit: bool = True) -> SimpleNamespace:
        return SimpleNamespace(id="1", title=title, type="t", author="a", status="s",
                               updated="u", may_edit=may_edit)

    template = engine.template("admin/content_rows.html")
    cases = [row("<b>x</b>"), row(Markup("<b>x</b>")), row("<b>x</b>", may_edit=False),
             row("<b>y</b>")]
    for _ in range(2):  # drawn, then from the process's rows
        for case in cases:
            variables = {"rows": [case], "bulk_form": "f"}
            assert content_rows(variables) == template.render(variables)
    assert "<b>x</b></a>" in content_rows({"rows": [cases[1]], "bulk_form": "f"})
    assert "<b>x</b></a>" not in content_rows({"rows": [cases[0]], "bulk_form": "f"})


def test_a_theme_overriding_a_partial_gets_its_template(tmp_path: Path) -> None:
    make_theme(tmp_path, "fancy", {"admin/content_rows.html": "<tr><td>themed</td></tr>"})
    themed = ThemeEngine("fancy", registry=ThemeRegistry([tmp_path]))
    assert themed.render_partial("admin/content_rows.html", {"rows": []}) == \
        "<tr><td>themed</td></tr>"


def test_a_theme_with_its_own_form_macros_gets_the_form_templates(tmp_path: Path) -> None:
    macros = (KERNEL_TEMPLATES / "_form.html").read_text().replace(
        '<div class="form-item ', '<div class="themed form-item ')
    make_theme(tmp_path, "fancy", {"_form.html": macros})
    themed = ThemeEngine("fancy", registry=ThemeRegistry([tmp_path]))
    field = {"#type": "textfield", "#name": "t", "#title": "T"}
    assert themed.twin(themed.suggestions(field)) is None
    assert '<div class="themed form-item form-item--textfield">' in themed.render(field)
    # Elements that do not use the macros keep their twins.
    link = {"#type": "link", "#text": "t", "#href": "/x"}
    assert themed.twin(themed.suggestions(link)) is native.link


@pytest.mark.parametrize("required, empty", [(True, "- Select -"), (False, "- None -")])
def test_a_selects_empty_option_asks_for_a_choice_only_when_required(
        engine: ThemeEngine, required: bool, empty: str) -> None:
    html = str(engine.render({"#type": "select", "#name": "kind", "#title": "Kind",
                              "#options": {"a": "A"}, "#empty_option": True,
                              "#required": required}))
    assert f'<option value="">{empty}</option>' in html
