"""The form builder and renderer: every element type renders through the theme with its label,
default values and labels are escaped, a submission is read from the tree (never from what the
browser adds), checked per input type, and errors show inline and in a summary."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.forms import form as f
from trovato.render import elements as el
from trovato.render.renderer import ThemeEngine
from trovato.render.sanitize import sanitize


class Posted(dict[str, list[str]]):
    """A browser's submission: every name with its values (a multi-dict like FormData)."""

    def getlist(self, key: str) -> list[Any]:
        return list(self.get(key, []))

    def multi_items(self) -> list[tuple[str, Any]]:
        return [(key, value) for key, values in self.items() for value in values]


def posted(**values: str | list[str]) -> Posted:
    return Posted({k: v if isinstance(v, list) else [v] for k, v in values.items()})


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine(site_name="Test")


def every_element() -> el.RenderElement:
    """A form holding one element of every form element type."""
    options = {"a": "Apple", "b": "Banana"}
    return f.form("everything", "/submit", {
        "text": {"#type": "textfield", "#name": "text", "#title": "Text", "#required": True,
                 "#description": "Say something."},
        "area": {"#type": "textarea", "#name": "area", "#title": "Area"},
        "secret": {"#type": "password", "#name": "secret", "#title": "Secret"},
        "mail": {"#type": "email", "#name": "mail", "#title": "Mail"},
        "site": {"#type": "url", "#name": "site", "#title": "Site"},
        "count": {"#type": "number", "#name": "count", "#title": "Count", "#step": "1",
                  "#min": "0", "#max": "10"},
        "day": {"#type": "date", "#name": "day", "#title": "Day"},
        "moment": {"#type": "datetime", "#name": "moment", "#title": "Moment",
                   "#timezone": "Europe/Berlin"},
        "agree": {"#type": "checkbox", "#name": "agree", "#title": "Agree",
                  "#return_value": "1"},
        "fruit": {"#type": "select", "#name": "fruit", "#title": "Fruit", "#options": options,
                  "#empty_option": True},
        "pick": {"#type": "radios", "#name": "pick", "#title": "Pick", "#options": options},
        "many": {"#type": "checkboxes", "#name": "many", "#title": "Many",
                 "#options": options},
        "upload": {"#type": "file", "#name": "upload", "#title": "Upload"},
        "token": f.hidden("token", "t0k"),
        "group": {"#type": "fieldset", "#title": "Group",
                  "inner": {"#type": "textfield", "#name": "inner", "#title": "Inner"}},
        "more": {"#type": "details", "#title": "More",
                 "deep": {"#type": "textfield", "#name": "deep", "#title": "Deep"}},
        "note": el.markup("Just text", tag="p"),
        "actions": {"#type": "actions", "save": f.submit("save", title="Save")},
    })


LABELLED = ["text", "area", "secret", "mail", "site", "count", "day", "moment", "agree",
            "fruit", "upload", "inner", "deep"]


def test_every_element_type_renders_with_its_label(engine: ThemeEngine) -> None:
    tree = every_element()
    f.assign_ids(tree)
    html = str(engine.render(tree))
    assert html.startswith('<form id="edit-everything" class="form" method="post"'
                           ' action="/submit">')
    for name in LABELLED:
        control = re.search(
            rf'<(?:input|textarea|select)[^>]* id="([^"]+)" name="{re.escape(name)}"', html)
        assert control, name
        assert f'<label for="{control.group(1)}">' in html, name
    assert '<input type="text" id="edit-text" name="text" required' in html
    assert 'aria-describedby="edit-text--description"' in html
    assert '<input type="password" id="edit-secret" name="secret">' in html
    assert '<input type="email" id="edit-mail"' in html
    assert 'inputmode="url"' in html
    assert 'step="1" min="0" max="10"' in html
    assert '<input type="date"' in html and '<input type="datetime-local"' in html
    assert "Europe/Berlin" in html
    assert '<input type="checkbox" id="edit-agree" name="agree" value="1">' in html
    assert '<option value="">- None -</option>' in html and '>Banana</option>' in html
    assert html.count('type="radio"') == 2 and '<legend>Pick</legend>' in html
    assert html.count('name="many"') == 2
    assert '<input type="file"' in html
    assert '<input type="hidden" name="token" value="t0k">' in html
    assert "<legend>Group</legend>" in html and "<summary>More</summary>" in html
    assert "<p>Just text</p>" in html
    assert '<div class="form-actions">' in html
    assert '<button type="submit" class="button" name="op" value="save">Save</button>' in html


def test_every_form_element_type_has_a_kernel_template(engine: ThemeEngine) -> None:
    for spec in el.FORM_ELEMENT_TYPES:
        assert f"elements/{spec.name}.html" in engine.available


@pytest.mark.parametrize("payload", VECTORS)
def test_defaults_labels_and_options_are_escaped(engine: ThemeEngine, payload: str) -> None:
    tree = f.form("xss", "/x", {
        "a": {"#type": "textfield", "#name": "a", "#title": payload, "#default_value": payload,
              "#description": payload},
        "b": {"#type": "textarea", "#name": "b", "#title": payload, "#default_value": payload},
        "c": {"#type": "select", "#name": "c", "#title": payload,
              "#options": {payload: payload}, "#default_value": payload},
        "d": {"#type": "checkboxes", "#name": "d", "#title": payload,
              "#options": {payload: payload}, "#default_value": [payload]},
        "e": {"#type": "fieldset", "#title": payload},
        "s": f.submit(payload, title=payload),
    })
    f.assign_ids(tree)
    f.mark_errors(tree, {"a": payload, "elsewhere": payload}, labels={"elsewhere": payload})
    html = str(engine.render(tree))
    assert_safe(html, payload, allowed_tags=frozenset({"form"}))
    assert html.count("<form") == 1 and html.count("<input") == 1 + 1  # text + one box


def test_a_submission_is_read_from_the_tree() -> None:
    tree = every_element()
    values = f.read(tree, posted(text="hi", many=["a", "b"], fruit="b", extra="ignored",
                                 inner="in", agree="1"))
    assert values["text"] == "hi" and values["many"] == ["a", "b"] and values["fruit"] == "b"
    assert values["inner"] == "in" and values["agree"] == "1"
    assert values["deep"] == "" and values["pick"] == "" and "extra" not in values
    assert "upload" not in values  # uploads are not read by forms yet


@pytest.mark.parametrize(("name", "value", "message"), [
    ("text", "", "Text is required."),
    ("text", "two\nlines", "Text must be a single line of text."),
    ("mail", "not-an-address", "Mail must be an e-mail address, like ada@example.com."),
    ("count", "x", "Count must be a number."),
    ("count", "2.5", "Count must be a whole number."),
    ("count", "11", "Count must be at most 10."),
    ("count", "-1", "Count must be at least 0."),
    ("count", "nan", "Count must be a number."),
    ("day", "2024-13-01", "Day must be a date, like 2024-05-01."),
    ("moment", "yesterday", "Moment must be a date and time, like 2024-05-01T12:00."),
    ("fruit", "cherry", "Fruit: the chosen value is not one of the options."),
    ("pick", "z", "Pick: the chosen value is not one of the options."),
    ("many", ["a", "z"], "Many: a chosen value is not one of the options."),
    ("agree", "yes", "Agree: the box sent an unexpected value."),
    ("area", "nul\x00", "Area must not contain NUL characters."),
])
def test_each_input_type_is_checked(name: str, value: str | list[str], message: str) -> None:
    tree = every_element()
    good = {"text": "hi", "mail": "ada@example.com", "count": "3", "day": "2024-05-01",
            "moment": "2024-05-01T12:00", "fruit": "a", "pick": "b", "many": ["b"],
            "agree": "1", "area": "ok"}
    assert f.check(tree, f.read(tree, posted(**good))) == {}
    errors = f.check(tree, f.read(tree, posted(**{**good, name: value})))
    assert errors == {name: message}


def test_errors_show_inline_and_in_a_summary_and_values_are_kept(engine: ThemeEngine) -> None:
    tree = every_element()
    values = f.read(tree, posted(text="", mail="bad <mail>", count="3", deep="kept",
                                 secret="hunter2"))
    errors = f.check(tree, values)
    errors["plugin:x"] = "A plugin says no."
    f.fill(tree, values)
    f.mark_errors(tree, errors)
    html = str(engine.render(tree))
    summary = html[html.index('id="form-errors"'):html.index("</ul>")]
    assert "3 errors have been found:" in summary
    assert '<a href="#edit-text">Text is required.</a>' in summary
    assert '<a href="#edit-mail">Mail must be an e-mail address' in summary
    assert "<li>A plugin says no.</li>" in summary
    assert ('<input type="text" id="edit-text" name="text" required aria-invalid="true"'
            ' aria-describedby="edit-text--error edit-text--description"') in html
    assert '<div class="form-item__error error" id="edit-text--error">Text is required.</div>' \
        in html
    assert 'value="bad &lt;mail&gt;"' in html  # what was typed, escaped
    assert 'value="kept"' in html and "<details class=\"form-details\" open>" not in html
    assert "hunter2" not in html  # a password is never shown again
    assert html.index('id="form-errors"') < html.index('name="text"')


def test_an_error_inside_details_opens_them(engine: ThemeEngine) -> None:
    tree = every_element()
    f.mark_errors(tree, {"deep": "Deep is wrong."})
    assert '<details class="form-details" open>' in str(engine.render(tree))


def test_ids_are_unique() -> None:
    tree = f.form("dupes", "/d", {
        "a": {"#type": "textfield", "#name": "same", "#title": "A"},
        "b": {"#type": "textfield", "#name": "same", "#title": "B"},
    })
    f.assign_ids(tree)
    assert {tree["a"]["#id"], tree["b"]["#id"]} == {"edit-same", "edit-same--2"}


def test_form_elements_pass_the_sanitizer_and_lose_what_is_unsafe() -> None:
    tree = every_element()
    tree["#action"] = "javascript:alert(1)"
    tree["text"]["#attributes"] = {"onfocus": "alert(1)", "class": "wide"}
    clean = sanitize(tree, source="plugin:test")
    assert "#action" not in clean
    assert clean["text"]["#attributes"] == {"class": "wide"}
    assert clean["many"]["#options"] == {"a": "Apple", "b": "Banana"}
    assert clean["count"]["#min"] == "0" and clean["agree"]["#return_value"] == "1"
    assert clean["more"]["deep"]["#name"] == "deep"


def test_pressed_button() -> None:
    assert f.pressed(posted(op="preview"), ["save", "preview"]) == "preview"
    assert f.pressed(posted(op="drop tables"), ["save", "preview"]) is None
    assert f.pressed(posted(), ["save"]) is None


def test_a_copied_tree_changes_without_touching_the_original() -> None:
    options = {"a": "A"}
    tree = f.form("edit", "/x", {
        "group": {"#type": "fieldset", "#title": "G",
                  "pick": {"#type": "select", "#name": "pick", "#options": options},
                  "tags": {"#type": "checkboxes", "#name": "tags", "#options": options,
                           "#default_value": ["a"]}},
    })
    copy = f.copy_tree(tree)
    assert copy == tree
    f.assign_ids(copy)
    f.fill(copy, {"pick": "a", "tags": []})
    f.mark_errors(copy, {"pick": "Wrong."})
    copy["group"]["tags"]["#default_value"].append("b")
    assert "#id" not in tree["group"]["pick"] and "#error" not in tree["group"]["pick"]
    assert "form_errors" not in tree and tree["group"]["tags"]["#default_value"] == ["a"]
    assert copy["group"]["pick"]["#default_value"] == "a"


def test_walk_is_depth_first_in_weight_order() -> None:
    tree = f.form("order", "/o", {
        "late": {"#type": "fieldset", "#weight": 5,
                 "z": {"#type": "textfield", "#name": "z", "#weight": 2},
                 "y": {"#type": "textfield", "#name": "y", "#weight": -1}},
        "early": {"#type": "textfield", "#name": "early", "#weight": -3},
        "same1": {"#type": "textfield", "#name": "same1"},
        "same2": {"#type": "textfield", "#name": "same2"},
    })
    assert [e.get("#name", e["#type"]) for e in f.walk(tree)] == [
        "form", "early", "same1", "same2", "fieldset", "y", "z"]
    assert [e["#name"] for e in f.inputs(tree)] == ["early", "same1", "same2", "y", "z"]


def test_duplicate_ids_are_numbered_in_weight_order() -> None:
    tree = f.form("dupes", "/d", {
        "b": {"#type": "textfield", "#name": "same", "#weight": 2},
        "a": {"#type": "textfield", "#name": "same", "#weight": 1},
    })
    f.assign_ids(tree)
    assert (tree["a"]["#id"], tree["b"]["#id"]) == ("edit-same", "edit-same--2")


def test_prepare_fills_and_gives_ids_on_a_copy() -> None:
    tree = every_element()
    prepared = f.prepare(tree, {"text": "typed", "many": ["b"], "token": "forged",
                                "secret": "hunter2"})
    assert prepared["text"]["#default_value"] == "typed"
    assert prepared["many"]["#default_value"] == ["b"]
    assert prepared["token"]["#default_value"] == "t0k"  # hidden inputs keep their own
    assert "#default_value" not in prepared["secret"]
    assert prepared["group"]["inner"]["#id"] == "edit-inner"
    expected = f.copy_tree(tree)
    f.fill(expected, {"text": "typed", "many": ["b"], "token": "forged", "secret": "hunter2"})
    f.assign_ids(expected)
    assert prepared == expected
    assert "#id" not in tree["text"] and "#default_value" not in tree["text"]


def test_a_starlette_submission_is_read_first_value_first_and_files_left_out() -> None:
    from io import BytesIO

    from starlette.datastructures import FormData, QueryParams, UploadFile
    tree = every_element()
    upload = UploadFile(BytesIO(b"x"), filename="x.txt")
    submitted = FormData([("text", "first"), ("text", "second"), ("many", "b"),
                          ("many", "a"), ("area", upload), ("upload", upload)])
    values = f.read(tree, submitted)
    assert values["text"] == "first" and values["many"] == ["b", "a"]
    assert values["area"] == "" and "upload" not in values
    query = f.read(tree, QueryParams("fruit=a&many=a&fruit=b"))
    assert query["fruit"] == "a" and query["many"] == ["a"] and query["text"] == ""


def test_read_and_check_is_read_then_check() -> None:
    tree = every_element()
    for submitted in (posted(), posted(text="hi", count="11", many=["a", "z"], fruit="b"),
                      posted(text="two\nlines", mail="x", agree="1", pick="a")):
        values, errors = f.read_and_check(tree, submitted)
        assert values == f.read(tree, submitted)
        assert errors == f.check(tree, values) and (errors or submitted)
    assert f.read_and_check(tree, posted())[1]["text"] == "Text is required."
