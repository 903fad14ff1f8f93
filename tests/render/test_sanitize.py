"""The render-tree sanitizer: types, properties, attributes, URLs, tags, formats and limits."""

from __future__ import annotations

import copy
import logging

import pytest

from trovato.render import elements as el
from trovato.render.elements import allowed_attribute_name, safe_url
from trovato.render.sanitize import MAX_DEPTH, MAX_NODES, RenderTreeError, sanitize


def test_known_tree_passes_unchanged_in_meaning() -> None:
    tree = el.container(
        {
            "intro": el.markup("Hello", tag="p", weight=-1),
            "more": el.link("More", "/item/1", title="Read"),
            "list": el.item_list(["a", el.markup("b")], ordered=True),
        },
        attributes={"class": ["a", "b"], "data-id": 3, "aria-label": "Box", "hidden": True},
    )
    clean = sanitize(tree)
    assert clean["intro"] == {"#type": "markup", "#value": "Hello", "#tag": "p", "#weight": -1}
    assert clean["more"]["#href"] == "/item/1"
    assert clean["list"]["#items"][1] == {"#type": "markup", "#value": "b"}
    assert clean["#attributes"] == {
        "class": "a b", "data-id": "3", "aria-label": "Box", "hidden": True,
    }


def test_input_is_not_modified() -> None:
    tree = {"#type": "container", "#attributes": {"onclick": "x"}, "bad": {"#type": "nope"}}
    before = copy.deepcopy(tree)
    sanitize(tree)
    assert tree == before


def test_unknown_type_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trovato.render.sanitize"):
        clean = sanitize(
            {"#type": "container", "ok": el.markup("x"), "evil": {"#type": "script"},
             "raw": {"#type": "html", "#markup": "<script>"}},
            source="plugin:demo",
        )
    assert set(clean) == {"#type", "#tag", "ok"}
    assert "plugin:demo" in caplog.text and "unknown #type 'script'" in caplog.text
    # An unknown root gives an empty container rather than nothing.
    assert sanitize({"#type": "iframe"}) == {"#type": "container", "#tag": "div"}


def test_missing_type_means_container() -> None:
    assert sanitize({"a": el.markup("x")})["#type"] == "container"


def test_raw_html_properties_never_pass() -> None:
    clean = sanitize(
        {"#type": "markup", "#markup": "<script>", "#children": "<b>", "#prefix": "<i>",
         "#suffix": "</i>", "#value": "x", "#html": "<b>"}
    )
    assert clean == {"#type": "markup", "#value": "x"}


def test_non_text_values_are_dropped() -> None:
    clean = sanitize({"#type": "markup", "#value": {"__html__": "<b>"}, "#weight": "1"})
    assert clean == {"#type": "markup"}
    assert sanitize({"#type": "markup", "#value": 5})["#value"] == "5"
    assert "#weight" not in sanitize({"#type": "markup", "#weight": True})


@pytest.mark.parametrize(
    "name",
    ["onclick", "ONCLICK", "onmouseover", "style", "x onclick", '"><script>', "href=x",
     "data-", "", "formaction", "srcdoc", "xlink:href", "on", "a b", "1abc", "data-x\"y"],
)
def test_attribute_names_are_allow_listed(name: str) -> None:
    clean = sanitize({"#type": "container", "#attributes": {name: "v"}})
    assert clean.get("#attributes", {}) == {}


@pytest.mark.parametrize(
    "name", ["class", "id", "title", "lang", "role", "data-item-id", "aria-hidden", "dir"]
)
def test_safe_attribute_names_pass(name: str) -> None:
    assert allowed_attribute_name(name)
    assert sanitize({"#type": "container", "#attributes": {name: "v"}})["#attributes"] == {
        name: "v"
    }


def test_style_only_when_allowed() -> None:
    tree = {"#type": "container", "#attributes": {"style": "color: red"}}
    assert sanitize(tree)["#attributes"] == {}
    assert sanitize(tree, allow_style=True)["#attributes"] == {"style": "color: red"}
    bad = {"#type": "container", "#attributes": {"style": "width: expression(alert(1))"}}
    assert sanitize(bad, allow_style=True)["#attributes"] == {}


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)",
     "java\tscript:alert(1)", "java\nscript:x", "\x00javascript:x", "&#106;avascript:x",
     "&amp;#106;avascript:x", "javascript&colon;x", "data:text/html,x", "vbscript:x",
     "\uff4a\uff41\uff56\uff41\uff53\uff43\uff52\uff49\uff50\uff54:x",
     "java\u200bscript:x", "\u202ejavascript:x", "ftp://x",
     "file:///etc/passwd", "jar:x", "a:b", 42, None, "x" * 9000],
)
def test_unsafe_urls(url: object) -> None:
    assert safe_url(url) is None
    tree = {"#type": "link", "#text": "t", "#href": url, "#attributes": {"href": url}}
    clean = sanitize(tree)
    assert "#href" not in clean and "href" not in clean.get("#attributes", {})
    assert sanitize({"#type": "image", "#src": url, "#alt": ""}) == {
        "#type": "container", "#tag": "div"
    }


@pytest.mark.parametrize(
    "url",
    ["/item/1", "item/1", "./a:b", "?page=2", "#top", "//cdn.example/x.png",
     "https://example.com/a?b=1&c=2", "http://example.com", "mailto:me@example.com",
     "HTTPS://EXAMPLE.COM", "/a/b:c", ""],
)
def test_safe_urls(url: str) -> None:
    assert safe_url(url) == url
    assert sanitize(el.link("t", url))["#href"] == url


def test_tags_are_allow_listed_per_type() -> None:
    assert sanitize(el.container(tag="section"))["#tag"] == "section"
    assert sanitize(el.container(tag="SECTION"))["#tag"] == "section"
    for tag in ("script", "iframe", "a", "img", "style", "body", "h1", "div onclick=x"):
        assert sanitize(el.container(tag=tag))["#tag"] == "div"
        assert "#tag" not in sanitize(el.markup("x", tag=tag)) or tag == "a"
    assert sanitize(el.markup("x", tag="h3"))["#tag"] == "h3"
    assert "#tag" not in sanitize({"#type": "link", "#text": "x", "#tag": "div"})


def test_template_suggestions_are_limited_to_own_type() -> None:
    ok = sanitize({"#type": "item", "#template": "item--special"})
    assert ok["#template"] == "item--special"
    for bad in ("page", "../page", "item--../../x", "markup--x", "item", "item--A",
                "item--x.html", "item--x/y"):
        assert "#template" not in sanitize({"#type": "item", "#template": bad}), bad


def test_restricted_formats_are_downgraded_for_untrusted_trees() -> None:
    tree = el.markup("<b>x</b>", format="full_html")
    assert sanitize(tree)["#format"] == "filtered_html"
    assert sanitize(tree, trusted=True)["#format"] == "full_html"
    assert "#format" not in sanitize(el.markup("x", format="made_up"))


def test_children_only_where_the_type_has_them() -> None:
    clean = sanitize({"#type": "markup", "#value": "x", "child": el.markup("y")})
    assert "child" not in clean
    clean = sanitize({"#type": "container", "bad name!": el.markup("y"), "ok_1": el.markup("z"),
                      "text": "not an element"})
    assert set(clean) == {"#type", "#tag", "ok_1"}


def test_required_properties() -> None:
    assert sanitize({"#type": "container", "l": {"#type": "link", "#href": "/x"}}) == {
        "#type": "container", "#tag": "div"
    }


def test_table_rows_and_messages() -> None:
    clean = sanitize(
        {"#type": "table", "#header": ["a", None, 1], "#rows": [["x", {"#type": "bad"}], "no"]}
    )
    assert clean["#header"] == ["a", "1"]
    assert clean["#rows"] == [["x"]]
    clean = sanitize({"#type": "status_messages",
                      "#messages": [{"type": "error", "text": "e"}, {"type": "evil", "text": "s"},
                                    "x", {"type": "status"}]})
    assert clean["#messages"] == [{"type": "error", "text": "e"}, {"type": "status", "text": "s"}]


def _nested(depth: int) -> dict[str, object]:
    tree: dict[str, object] = el.markup("leaf")
    for _ in range(depth - 1):
        tree = {"#type": "container", "c": tree}
    return tree


def test_depth_limit() -> None:
    sanitize(_nested(MAX_DEPTH))
    with pytest.raises(RenderTreeError, match="nested more than 32 levels") as info:
        sanitize(_nested(MAX_DEPTH + 1), source="plugin:deep")
    assert "plugin:deep" in str(info.value) and "c.c.c" in str(info.value)
    # Depth counts through list items too.
    tree: dict[str, object] = el.markup("leaf")
    for _ in range(MAX_DEPTH):
        tree = el.item_list([tree])
    with pytest.raises(RenderTreeError):
        sanitize(tree)


def test_size_limit() -> None:
    sanitize(el.item_list(["x"] * (MAX_NODES - 1)))
    with pytest.raises(RenderTreeError, match="more than 5000 nodes"):
        sanitize(el.item_list(["x"] * MAX_NODES))
    wide = {"#type": "container", **{f"c{i}": el.markup("x") for i in range(MAX_NODES)}}
    with pytest.raises(RenderTreeError):
        sanitize(wide)
    with pytest.raises(RenderTreeError):
        sanitize(el.table([], [["x"] * 100] * 60))
    assert sanitize(_nested(5), max_depth=5)
    with pytest.raises(RenderTreeError):
        sanitize(_nested(6), max_depth=5)


def test_cyclic_python_tree_hits_the_depth_limit() -> None:
    tree: dict[str, object] = {"#type": "container"}
    tree["self"] = tree
    with pytest.raises(RenderTreeError):
        sanitize(tree)


def test_huge_text_is_rejected() -> None:
    with pytest.raises(RenderTreeError, match="longer than"):
        sanitize(el.markup("x" * 1_000_001))


def test_builders_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        el.container({"#type": el.markup("x")})
    with pytest.raises(ValueError):
        el.field_element("f", [], label_display="sideways")


def test_item_variables_are_plain_named_data() -> None:
    raw = {"#type": "item", "#item_type": "blog", "#variables": {
        "reading_time": 3, "tags": ["a", {"deep": [1.5, None, True]}], "note": "<b>x</b>",
        "Bad-Name": 1, "_private": 2, "callable": object(),
    }}
    clean = sanitize(raw, source="test", trusted=False)
    assert clean["#variables"] == {"reading_time": 3, "tags": ["a", {"deep": [1.5, None, True]}],
                                   "note": "<b>x</b>"}
    assert "#variables" not in sanitize({"#type": "container", "#variables": {"a": 1}},
                                        source="test")
    too_many = {f"v{i}": i for i in range(100)}
    kept = sanitize({"#type": "item", "#variables": too_many}, source="test")["#variables"]
    assert len(kept) == 64
    with pytest.raises(RenderTreeError):
        deep: object = 1
        for _ in range(MAX_DEPTH + 2):
            deep = [deep]
        sanitize({"#type": "item", "#variables": {"deep": deep}}, source="test")
