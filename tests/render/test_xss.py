"""Every XSS vector through every place a render tree carries text, URLs or attributes.

Each tree is treated as a plugin's (``trusted=False``) and goes through sanitize + render, and
as the kernel's own (``trusted=True``), which the renderer draws without the sanitizer; the
output must hold nothing a browser would execute either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.render.xss_corpus import VECTORS, assert_safe, problems
from trovato.render import elements as el
from trovato.render.formats import render_text
from trovato.render.renderer import ThemeEngine


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine(site_name="XSS")


TreeBuilder = Callable[[str], Any]

PLACES: dict[str, TreeBuilder] = {
    "markup_no_format": lambda v: {"#type": "markup", "#value": v},
    "markup_plain_text": lambda v: {"#type": "markup", "#value": v, "#format": "plain_text"},
    "markup_filtered_html": lambda v: {"#type": "markup", "#value": v,
                                       "#format": "filtered_html"},
    # A plugin may not use full_html: it is downgraded to filtered_html.
    "markup_full_html_from_plugin": lambda v: {"#type": "markup", "#value": v,
                                               "#format": "full_html"},
    "markup_unknown_format": lambda v: {"#type": "markup", "#value": v, "#format": "raw"},
    "markup_tag": lambda v: {"#type": "markup", "#value": "x", "#tag": v},
    "link_href": lambda v: el.link("text", v),
    "link_text": lambda v: el.link(v, "/safe", title=v),
    "image_src": lambda v: el.image(v, v, title=v),
    "attribute_value": lambda v: el.container(
        {"c": el.markup("x")},
        attributes={"class": v, "id": v, "title": v, "data-x": v, "href": v, "src": v},
    ),
    "attribute_name": lambda v: {"#type": "container", "#attributes": {v: "x", v.lower(): v}},
    "list_items": lambda v: el.item_list([v, el.markup(v), el.link(v, v)], title=v),
    "table_cells": lambda v: el.table([v], [[v, el.markup(v, format="filtered_html")]],
                                      caption=v),
    "child_name": lambda v: {"#type": "container", v: el.markup(v)},
    "item_title_and_href": lambda v: el.item_element("blog", "teaser", {}, title=v, href=v),
    "field_label": lambda v: el.field_element("field_x", [v], label=v),
    "pager_query": lambda v: el.pager(2, 5, href=v, query={v: v}),
    "status_messages": lambda v: el.status_messages([("error", v), (v, v)]),
    "template_suggestion": lambda v: {"#type": "markup", "#value": v, "#template": v},
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("vector", VECTORS)
def test_vector_is_inert(engine: ThemeEngine, vector: str, place: str) -> None:
    tree = PLACES[place](vector)
    html = engine.render(tree, source="plugin:xss", trusted=False)
    assert_safe(str(html), vector)


KERNEL_PLACES = sorted(set(PLACES) - {"markup_full_html_from_plugin"})


@pytest.mark.parametrize("place", KERNEL_PLACES)
@pytest.mark.parametrize("vector", VECTORS)
def test_vector_is_inert_in_kernel_trees_without_the_sanitizer(
    engine: ThemeEngine, vector: str, place: str
) -> None:
    """Kernel trees (``trusted=True``) skip the sanitizer: the renderer alone must hold."""
    html = engine.render(PLACES[place](vector))
    assert_safe(str(html), vector)


def _page(text: str) -> str:
    engine = ThemeEngine(
        site_name=text,
        preprocess=[lambda type_, element, variables: {"title": text, "extra": text}],
    )
    return engine.render_page(
        {"content": el.container({"a": el.markup(text)}, title=text),
         "sidebar": el.markup(text, format="filtered_html")},
        {"title": text, "messages": [("error", text)]},
    )


PAGE_TAGS = frozenset({"meta", "link", "form"})  # the layout's own <meta>, <link>, logout form


@pytest.mark.parametrize("vector", VECTORS)
def test_vector_in_page_slots_and_preprocess(vector: str) -> None:
    page = _page(vector)
    assert_safe(page, vector, allowed_tags=PAGE_TAGS)
    # The layout's own meta/link/form tags are allowed above; the vector must not add any.
    for tag in PAGE_TAGS:
        assert page.count(f"<{tag}") == _page("harmless").count(f"<{tag}"), tag


def test_the_checker_catches_unsafe_output() -> None:
    """full_html renders as written, so the checker must flag most of the corpus there."""
    flagged = [v for v in VECTORS if problems(str(render_text(v, "full_html")))]
    assert len(flagged) >= 50
    for bad in ('<a href=" jav&#x09;ascript:x">', "<img src=x onerror=y>", "<svg>", "<base>",
                '<img src="DATA:x">', "<iframe>", "<p style=x>"):
        assert problems(bad), bad
