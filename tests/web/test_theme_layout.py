"""The default theme as a browser lays it out: one left edge, tabs as tabs, a header of links.

Kernel templates render offline with the theme's stylesheet; a real chromium measures them.
Skipped without chromium (``TROVATO_TEST_CHROMIUM`` or /usr/bin/chromium) or playwright.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import Markup

from trovato.render.renderer import ThemeEngine

CHROMIUM = Path(os.environ.get("TROVATO_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STYLESHEET = files("trovato.render").joinpath("static", "trovato.css").read_text()


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def _show(page: Any, width: int) -> None:
    item = SimpleNamespace(id=uuid.uuid4(), title="A post")
    user = SimpleNamespace(id=uuid.uuid4(), name="ann", is_authenticated=True)
    html = ThemeEngine().render_template("revisions.html", {
        "title": "Revisions of A post", "item": item, "user": user, "csrf_token": "t",
        "content": "<p>The revisions.</p>",
        "tabs": [{"title": "View", "href": f"/item/{item.id}", "current": False},
                 {"title": "Revisions", "href": f"/item/{item.id}/revisions", "current": True}],
    })
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html)
    page.add_style_tag(content=STYLESHEET)


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


@pytest.mark.parametrize("width", [1280, 700])
def test_header_content_and_footer_share_one_left_edge(page: Any, width: int) -> None:
    _show(page, width)
    edges = {selector: _box(page, selector)["x"] for selector in ("a.brand", "main h1")}
    edges["footer"] = page.evaluate(
        "() => { const f = document.querySelector('footer.site');"
        " return f.getBoundingClientRect().left + parseFloat(getComputedStyle(f).paddingLeft); }")
    assert max(edges.values()) - min(edges.values()) < 1, edges


def test_item_tabs_are_a_row_of_tabs(page: Any) -> None:
    _show(page, 1280)
    view, revisions = _box(page, "nav.tabs a >> nth=0"), _box(page, "nav.tabs a >> nth=1")
    assert view["y"] == revisions["y"] and revisions["x"] > view["x"] + view["width"]
    assert page.eval_on_selector("nav.tabs ul", "e => getComputedStyle(e).listStyleType") == "none"


def test_log_out_reads_as_a_link_in_the_header(page: Any) -> None:
    _show(page, 1280)
    home, log_out = _box(page, "nav.site li >> nth=0"), _box(page, "nav.site li:has(button)")
    assert abs(log_out["height"] - home["height"]) < 2, (home, log_out)
    assert abs(log_out["y"] - home["y"]) < 2, (home, log_out)
    style = page.eval_on_selector("nav.site button", "e => getComputedStyle(e).borderTopStyle")
    assert style == "none"


def test_main_menu_links_share_the_header_row(page: Any) -> None:
    """The main menu (the navigation slot's tile) sits on the row of Home, not under it."""
    item = SimpleNamespace(id=uuid.uuid4(), title="A post")
    html = ThemeEngine().render_template("revisions.html", {
        "title": "Revisions of A post", "item": item, "user": None, "csrf_token": "t",
        "content": "<p>The revisions.</p>", "tabs": [],
        "slots": {"navigation": Markup('<div class="menu menu--main item-list"><ul>'
                                       '<li><a href="/articles">Articles</a></li></ul></div>')},
    })
    page.set_viewport_size({"width": 390, "height": 900})
    page.set_content(html)
    page.add_style_tag(content=STYLESHEET)
    home = _box(page, "nav.site a >> text=Home")
    articles = _box(page, "nav.site a >> text=Articles")
    assert abs(home["y"] - articles["y"]) < 2 and articles["x"] > home["x"], (home, articles)


def _snippet(page: Any, body: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(f"<!doctype html><html><body><main>{body}</main></body></html>")
    page.add_style_tag(content=STYLESHEET)


def test_a_wide_table_scrolls_inside_its_wrapper_on_a_phone(page: Any) -> None:
    """A matrix wider than the screen scrolls in its .table-wrap; its visually hidden
    checkbox labels (absolutely positioned) must not widen the page itself."""
    cells = "".join(f'<td><input type="checkbox" id="c{i}"><label class="visually-hidden"'
                    f' for="c{i}">Role {i}</label></td>' for i in range(12))
    _snippet(page, '<div class="table-wrap"><table class="permissions"><caption>System'
                   f'</caption><tr><th scope="row">A permission</th>{cells}</tr></table></div>',
             390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.querySelector('.table-wrap').scrollWidth") > 390
    assert page.eval_on_selector("caption", "e => getComputedStyle(e).textAlign") == "left"


def test_the_labels_of_a_filter_row_line_up(page: Any) -> None:
    """A select and a text input side by side are as tall, so their labels share a line."""
    _snippet(page, '<div class="admin-filters"><form><div class="form-item"><label for="t">'
                   'Type</label><select id="t"><option>- Any -</option></select></div>'
                   '<div class="form-item"><label for="n">Author name</label>'
                   '<input type="text" id="n"></div></form></div>', 1280)
    select, text = _box(page, "select"), _box(page, "input")
    assert abs(select["height"] - text["height"]) < 1, (select, text)
    type_label, name_label = _box(page, "label[for=t]"), _box(page, "label[for=n]")
    assert abs(type_label["y"] - name_label["y"]) < 1, (type_label, name_label)


def test_the_search_box_is_drawn_as_the_other_text_inputs(page: Any) -> None:
    """/search's box (type=search) was the browser's bare default: small and unpadded."""
    html = ThemeEngine().render_template("search.html", {
        "title": "Search", "q": "", "max_length": 200, "error": "Too long.", "searched": False,
        "results": [], "user": None, "csrf_token": "t"})
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_content(html + '<input type="text" id="other">')
    page.add_style_tag(content=STYLESHEET)
    search, other = _box(page, "#search-q"), _box(page, "#other")
    assert abs(search["height"] - other["height"]) < 1 and search["height"] >= 40, search
    assert abs(search["width"] - other["width"]) < 1, (search, other)
    error = page.eval_on_selector(".form-error", "e => getComputedStyle(e).fontWeight")
    assert error == "600"  # the refusal reads as the form API's errors do


@pytest.mark.parametrize("width", [1280, 390])
def test_the_stage_banner_starts_at_the_page_s_left_edge(page: Any, width: int) -> None:
    item = SimpleNamespace(id=uuid.uuid4(), title="A post")
    html = ThemeEngine().render_template("revisions.html", {
        "title": "Revisions of A post", "item": item, "user": None, "csrf_token": "t",
        "content": "<p>The revisions.</p>", "tabs": [],
        "stage_banner": Markup('<aside class="stage-banner" role="status"><strong>You are'
                               ' viewing stage Spring — not live.</strong></aside>'),
    })
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html)
    page.add_style_tag(content=STYLESHEET)
    assert abs(_box(page, ".stage-banner strong")["x"] - _box(page, "a.brand")["x"]) < 1


def test_table_dates_stay_on_one_line() -> None:
    # Kernel tables show dates as <time> cells; at 390 px they wrapped between date and time.
    assert "td time { white-space: nowrap; }" in STYLESHEET
