"""The theme engine: templates per type, suggestions, weights, themes, preprocess, pages."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import Markup, escape
from starlette.applications import Starlette

from trovato.observability.profiler import Profile, current_profile
from trovato.render import elements as el
from trovato.render.filters import FilterSafety, TextFilter
from trovato.render.formats import OFF_LOOP_LENGTH, FormatRegistry
from trovato.render.renderer import (
    Attributes,
    ThemeEngine,
    ThemeError,
    ThemeRegistry,
)
from trovato.render.templates import Templates


def make_theme(root: Path, name: str, templates: dict[str, str], **info: Any) -> Path:
    folder = root / name
    (folder / "templates").mkdir(parents=True)
    (folder / "theme.json").write_text(json.dumps({"name": name, **info}))
    for path, text in templates.items():
        target = folder / "templates" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


@pytest.fixture
def engine() -> ThemeEngine:
    return ThemeEngine(site_name="Test site")


def test_every_type_has_a_kernel_template(engine: ThemeEngine) -> None:
    for type_name in el.ELEMENT_TYPES:
        assert f"elements/{type_name}.html" in engine.available


def test_each_type_renders(engine: ThemeEngine) -> None:
    html = engine.render(
        el.container(
            {
                "m": el.markup("a < b", tag="p"),
                "f": el.markup("**x** <em>y</em>", format="filtered_html"),
                "l": el.link("Home", "/", title="Go"),
                "ul": el.item_list(["one", el.link("two", "/2")], title="List"),
                "ol": el.item_list(["x"], ordered=True),
                "t": el.table(["H1", "H2"], [["a", el.markup("b", tag="strong")]],
                              caption="Cap"),
                "e": el.table(["H"], [], empty="Nothing yet"),
                "i": el.image("/f.png", "A picture", width=10, height=20),
                "s": el.status_messages([("status", "Saved"), ("error", "Oops")]),
            },
            tag="section",
            attributes={"class": "box", "id": "main-box"},
        )
    )
    assert isinstance(html, Markup)
    assert html.startswith('<section class="box" id="main-box">')
    assert "<p>a &lt; b</p>" in html
    assert "<p>**x** <em>y</em></p>" in html
    assert '<a href="/" title="Go">Home</a>' in html
    assert "<h3>List</h3>" in html and '<li><a href="/2">two</a></li>' in html
    assert "<ol>\n<li>x</li>" in html
    assert "<caption>Cap</caption>" in html and '<th scope="col">H1</th>' in html
    assert '<td data-label="H2"><strong>b</strong></td>' in html
    assert '<td colspan="1">Nothing yet</td>' in html
    assert '<img src="/f.png" alt="A picture" width="10" height="20" loading="lazy">' in html
    assert '<div class="messages status" role="status">Saved</div>' in html
    assert '<div class="messages error" role="alert">Oops</div>' in html


def test_a_table_cell_is_labelled_by_its_column_heading_as_text(engine: ThemeEngine) -> None:
    """Each cell's data-label (the theme's label of a row's cell on a phone) is its column's
    heading without its markup; a cell beyond the headings, or under an empty one, has none."""
    html = engine.render(el.table(
        [el.link("Pick & go", "/pick"), "A < B", ""],
        [["x", "y", "z", "w"]]))
    assert ('<tr><td data-label="Pick &amp; go">x</td><td data-label="A &lt; B">y</td>'
            "<td>z</td><td>w</td></tr>") in html
    assert '<div class="table-wrap table-wrap--stack">' in html


def test_markup_without_format_is_escaped_text(engine: ThemeEngine) -> None:
    assert engine.render(el.markup("<b>x</b>\n\ny")) == "&lt;b&gt;x&lt;/b&gt;\n\ny"


def test_link_without_safe_href_is_plain_text(engine: ThemeEngine) -> None:
    assert engine.render(el.link("x", "javascript:alert(1)")) == "<span>x</span>"


def test_children_render_in_weight_order_stably(engine: ThemeEngine) -> None:
    tree = el.container(
        {
            "c": el.markup("C", weight=1),
            "a": el.markup("A"),
            "d": el.markup("D", weight=-5),
            "b": el.markup("B"),
            "e": el.markup("E", weight=0.5),
        }
    )
    html = engine.render(tree)
    assert [html.index(x) for x in "DABEC"] == sorted(html.index(x) for x in "DABEC")


def test_weights_that_are_not_numbers_count_as_zero() -> None:
    tree: dict[str, object] = {
        "#type": "container",
        "a": {"#type": "markup", "#value": "A", "#weight": True},  # a bool is not 1
        "b": {"#type": "markup", "#value": "B", "#weight": "-9"},
        "c": {"#type": "markup", "#value": "C", "#weight": -1.5},
        "d": {"#type": "markup", "#value": "D", "#weight": None},
        "e": {"#type": "markup", "#value": "E", "#weight": 1},
    }
    assert [name for name, _ in el.children(tree)] == ["c", "a", "b", "d", "e"]
    assert [name for name, _ in el.children({"only": {"#weight": "x"}})] == ["only"]


def test_named_children_are_available_to_templates(tmp_path: Path) -> None:
    make_theme(tmp_path, "t", {
        "elements/item--page.html": "[{{ content.body }}|{{ content.tags }}]",
    })
    engine = ThemeEngine("t", registry=ThemeRegistry([tmp_path]))
    html = engine.render(el.item_element("page", "full", {
        "tags": el.markup("T", weight=-1), "body": el.markup("B"),
    }))
    assert html == "[B|T]"


def test_item_suggestions_order(engine: ThemeEngine) -> None:
    item = el.item_element("blog", "teaser")
    assert engine.suggestions(item) == [
        "elements/item--blog--teaser.html",
        "elements/item--blog.html",
        "elements/item--teaser.html",
        "elements/item.html",
    ]
    item["#template"] = "item--featured"
    assert engine.suggestions(item)[0] == "elements/item--featured.html"
    field = el.field_element("field_body", [], field_type="text_long")
    assert engine.suggestions(field) == [
        "elements/field--field_body.html",
        "elements/field--text_long.html",
        "elements/field.html",
    ]


def test_most_specific_suggestion_wins_theme_before_base_before_kernel(tmp_path: Path) -> None:
    make_theme(tmp_path, "base", {
        "elements/item--blog.html": "base:item--blog",
        "elements/item.html": "base:item",
        "elements/link.html": "base:link",
        "elements/markup.html": "base:markup",
    }, base=None)
    make_theme(tmp_path, "child", {
        "elements/item.html": "child:item",
        "elements/markup.html": "child:markup",
        "elements/item--blog--full.html": "child:item--blog--full",
    }, base="base")
    engine = ThemeEngine("child", registry=ThemeRegistry([tmp_path]))
    assert [t.name for t in engine.chain] == ["child", "base", "default"]
    assert engine.render(el.item_element("blog", "full")) == "child:item--blog--full"
    assert engine.render(el.item_element("blog", "teaser")) == "base:item--blog"
    assert engine.render(el.item_element("page", "teaser")) == "child:item"
    assert engine.render(el.markup("x")) == "child:markup"
    assert engine.render(el.link("x", "/")) == "base:link"
    # Neither theme has a list template: the kernel default is used.
    assert "<ul>" in engine.render(el.item_list(["x"]))
    # Kernel pages extend page.html, which the default theme at the end of the chain supplies.
    assert "<main" in engine.render_template("error.html", {"detail": "x", "status": 404})


def test_theme_overrides_page_layout_for_kernel_pages(tmp_path: Path) -> None:
    make_theme(tmp_path, "plain", {
        "page.html": "<body data-theme=plain>{% block content %}{% endblock %}</body>",
    })
    templates = Templates(site_name="S", theme="plain", theme_folders=[tmp_path])
    html = templates.render("front.html", {})
    assert html.startswith("<body data-theme=plain>") and "Welcome to S" in html


def test_theme_errors(tmp_path: Path) -> None:
    make_theme(tmp_path, "a", {}, base="b")
    make_theme(tmp_path, "b", {}, base="a")
    make_theme(tmp_path, "orphan", {}, base="missing")
    registry = ThemeRegistry([tmp_path])
    with pytest.raises(ThemeError, match="loop"):
        registry.chain("a")
    with pytest.raises(ThemeError, match="unknown theme 'missing'"):
        registry.chain("orphan")
    with pytest.raises(ThemeError, match="unknown theme"):
        ThemeEngine("nope")
    with pytest.raises(ThemeError, match="does not exist"):
        ThemeRegistry([tmp_path / "nowhere"])
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "theme.json").write_text("{not json")
    with pytest.raises(ThemeError, match="cannot read"):
        ThemeRegistry([tmp_path])


def test_preprocess_adds_escaped_variables(tmp_path: Path) -> None:
    make_theme(tmp_path, "t", {
        "elements/markup.html": "{{ value }}|{{ extra }}|{{ nested.x }}|{{ items_extra[0] }}"
                                "|{{ obj }}",
    })

    class Sneaky:
        def __html__(self) -> str:
            return "<script>obj</script>"

        def __str__(self) -> str:
            return "<script>obj</script>"

    calls: list[str] = []

    def hook(type_name: str, element: Any, variables: Any) -> dict[str, Any]:
        calls.append(type_name)
        return {
            "extra": Markup("<script>alert(1)</script>"),
            "nested": {"x": Markup("<b>n</b>")},
            "items_extra": [Markup("<i>l</i>")],
            "obj": Sneaky(),
            "value": Markup("<script>replaced</script>"),  # reserved: refused
        }

    engine = ThemeEngine("t", registry=ThemeRegistry([tmp_path]), preprocess=[hook])
    html = engine.render(el.markup("v"))
    assert calls == ["markup"]
    assert html == ("v|&lt;script&gt;alert(1)&lt;/script&gt;|&lt;b&gt;n&lt;/b&gt;|"
                    "&lt;i&gt;l&lt;/i&gt;|&lt;script&gt;obj&lt;/script&gt;")


def test_item_variables_reach_the_template_as_text(tmp_path: Path) -> None:
    make_theme(tmp_path, "t", {
        "elements/item.html": "{{ mood }}|{{ info.words }}|{{ children }}|{{ title }}",
    })
    engine = ThemeEngine("t", registry=ThemeRegistry([tmp_path]))
    tree = {"#type": "item", "#title": "T", "#variables": {
        "mood": "<script>x</script>", "info": {"words": 3},
        "children": "<b>reserved: refused</b>", "title": "Retitled"}}
    assert engine.render(tree, trusted=False) == "&lt;script&gt;x&lt;/script&gt;|3||Retitled"


def test_attributes_object() -> None:
    attributes = Attributes({"class": "a", "onclick": "x", "title": '"><b>', "hidden": True,
                             "href": "javascript:x", "lang": None})
    title = ' title="&#34;&gt;&lt;b&gt;" hidden'
    assert str(attributes) == ' class="a"' + title
    assert str(attributes.with_class("b", "a", "")) == ' class="a b"' + title
    assert not Attributes()


def test_item_and_field_templates(engine: ThemeEngine) -> None:
    teaser = engine.render(el.item_element(
        "blog", "teaser",
        {"body": el.field_element("field_body", [el.markup("<p>Hi</p>", format="filtered_html")],
                                  label="Body", label_display="inline")},
        title="Post <1>", href="/item/1",
    ))
    assert teaser.startswith('<article class="item item--blog item--teaser">')
    assert '<h2 class="item__title"><a href="/item/1">Post &lt;1&gt;</a></h2>' in teaser
    assert 'class="field field--field_body field--label-inline"' in teaser
    assert '<div class="field__item"><p>Hi</p></div>' in teaser
    full = engine.render(el.item_element("blog", "full", {}, title="Post"))
    assert "item__title" not in full  # the page's <h1> is the title in full view


def test_pager(engine: ThemeEngine) -> None:
    html = engine.render(el.pager(0, 3, href="/blog", query={"tag": "a&b", "page": "9"}))
    assert '<span aria-current="page">1</span>' in html
    assert '<a href="/blog?tag=a%26b&amp;page=1">2</a>' in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert engine.render(el.pager(0, 1)).strip() == ""
    last = engine.render(el.pager(40, 41))
    assert '<a href="?">« First</a>' in last and "Next" not in last


def test_page_slots(engine: ThemeEngine) -> None:
    page = engine.render_page(
        {
            "header": el.markup("Banner"),
            "navigation": el.item_list([el.link("About", "/about")]),
            "content": el.markup("Body <text>"),
            "sidebar": el.markup("Side"),
            "footer": el.markup("Foot"),
        },
        {"title": "Hello"},
    )
    assert page.startswith("<!doctype html>")
    assert "<title>Hello | Test site</title>" in page
    assert '<div class="slot slot--header">Banner</div>' in page
    assert '<a href="/about">About</a>' in page
    assert "<h1>Hello</h1>Body &lt;text&gt;" in page
    assert '<div class="layout with-sidebar">' in page
    assert '<aside class="slot slot--sidebar" aria-label="Sidebar">Side</aside>' in page
    assert "Foot" in page and "Powered by Trovato" not in page
    assert '<link rel="stylesheet" href="/assets/trovato.css">' in page
    plain = engine.render_page({"content": el.markup("x")})
    assert 'class="layout"' in plain and "<aside" not in plain
    with pytest.raises(ThemeError, match="no slot"):
        engine.render_slots({"basement": el.markup("x")})


def test_kernel_pages_still_render_through_templates() -> None:
    templates = Templates(site_name="Site")
    html = templates.render("front.html", {"messages": [("error", "<b>bad</b>")]})
    assert "Welcome to Site" in html
    assert '<div class="messages error" role="alert">&lt;b&gt;bad&lt;/b&gt;</div>' in html
    assert templates.env is templates.engine.env
    slots = templates.render_slots({"content": el.markup("tree")})
    page = templates.render("page.html", {"title": "T", "slots": slots})
    assert "<h1>T</h1>tree" in page


def test_render_time_is_profiled(engine: ThemeEngine) -> None:
    profile = Profile()
    token = current_profile.set(profile)
    try:
        engine.render(el.container({"a": el.markup("x"), "b": el.markup("y")}))
        engine.render_template("front.html", {})
    finally:
        current_profile.reset(token)
    assert profile.render_count == 2 and profile.render_time > 0


def test_no_template_reads_after_warm_up(engine: ThemeEngine, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    engine.warm()
    tree = el.container({"i": el.item_element("blog", "teaser", title="x"),
                         "l": el.item_list(["a"]), "p": el.pager(1, 3)})
    engine.render(tree)

    def no_reads(*args: object, **kwargs: object) -> None:
        raise AssertionError("template read during a request")

    monkeypatch.setattr(engine.env.loader, "get_source", no_reads)
    monkeypatch.setattr(engine.env.loader, "list_templates", no_reads)
    engine.render(tree)
    engine.render_template("form_page.html", {"content": "x"})


def test_untrusted_trees_lose_full_html(engine: ThemeEngine) -> None:
    tree = el.markup("<b>ok</b><script>x</script>", format="full_html")
    assert engine.render(tree) == "<b>ok</b><script>x</script>"
    assert engine.render(tree, source="plugin:x", trusted=False) == "<p><b>ok</b></p>"


async def test_asset_mount(tmp_path: Path) -> None:
    folder = make_theme(tmp_path, "fancy", {}, stylesheets=["fancy.css"])
    (folder / "assets").mkdir()
    (folder / "assets" / "fancy.css").write_text("body{}")
    engine = ThemeEngine("fancy", registry=ThemeRegistry([tmp_path]))
    assert engine.env.globals["theme_stylesheets"] == ["/assets/trovato.css",
                                                       "/themes/fancy/fancy.css"]
    app = Starlette(routes=[engine.asset_mount()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        response = await client.get("/themes/fancy/fancy.css")
        assert response.status_code == 200 and response.text == "body{}"
        assert (await client.get("/themes/fancy/%2e%2e/theme.json")).status_code == 404


async def test_trees_with_long_text_to_format_render_off_the_event_loop() -> None:
    """At most OFF_LOOP_LENGTH characters of uncached text are filtered on the event loop; a
    render that would filter more goes on in a worker thread, and cached text is free."""
    threads: list[tuple[str, int]] = []

    def mark(text: str, settings: Mapping[str, Any]) -> str:
        threads.append((text[:1], threading.get_ident()))
        return str(escape(text))

    formats = FormatRegistry(
        {"marked": {"filters": [{"name": "mark"}]}},
        filters={"mark": TextFilter("mark", "Mark", mark, FilterSafety.ESCAPES)},
    )
    engine = ThemeEngine(formats=formats)
    loop_thread = threading.get_ident()
    short = el.container({"a": el.markup("x" * 100, format="marked")})
    assert "x" * 100 in await engine.render_async(short)
    assert threads == [("x", loop_thread)]

    threads.clear()
    long = el.container({"a": el.markup("y" * OFF_LOOP_LENGTH, format="marked"),
                         "b": el.markup("<b>", format="marked")})
    out = await engine.render_async(long, trusted=False, source="plugin:test")
    assert "y" * OFF_LOOP_LENGTH in out and "&lt;b&gt;" in out
    # The first text fits the loop's budget; the second would pass it, so the render goes on
    # in a thread, where the first comes from the cache and is not filtered again.
    assert threads == [("y", loop_thread), ("<", threads[1][1])]
    assert threads[1][1] != loop_thread

    threads.clear()
    out = await engine.render_async(long)  # every text cached now: all on the loop, free
    assert threads == [] and "&lt;b&gt;" in out

    threads.clear()
    over = el.container({"a": el.markup("w" * (OFF_LOOP_LENGTH + 1), format="marked")})
    await engine.render_async(over)
    assert [t for _, t in threads] != [loop_thread] and len(threads) == 1

    threads.clear()
    # Unformatted text counts for nothing: it is only escaped.
    plain = el.container({"a": el.markup("z" * 2 * OFF_LOOP_LENGTH),
                          "b": el.markup("z", format="marked")})
    await engine.render_async(plain)
    assert threads == [("z", loop_thread)]
    # A render outside a request's event loop has no budget.
    engine.render(el.container({"a": el.markup("v" * 3 * OFF_LOOP_LENGTH, format="marked")}))
    assert threads[-1] == ("v", loop_thread)
