"""Adversarial text renders in every format within a time budget relative to plain prose.

Each hostile input is rendered at the same length as a plain-prose baseline, in the same format
and the same test, and must take at most ``BUDGET`` times as long. A ratio holds on a slow or
busy machine where an absolute figure would not, and catches what matters: work that grows
faster than the length of the text (a regex that backtracks, a parser that walks its whole
stack for every tag) turns a linear ratio of ~1-5 into hundreds at these sizes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from tests.api.conftest import ARTICLE, admin_headers
from trovato.content.fields import TEXT_MAX
from trovato.render.formats import FORMATS, OFF_LOOP_LENGTH, FormatRegistry

LENGTH = 80_000  # above the filtered-text cache's limit, so every render does the work
# Shapes that make a link, an element or a Markdown block every few characters cost more per
# character than prose (up to ~40 times: "[" runs in Markdown, "http://" repeated), linearly.
# Quadratic work at this length showed as 125 to 2,000 times prose on the old filters.
BUDGET = 60.0


def _repeat(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def _numbered(template: str, length: int = LENGTH) -> str:
    parts: list[str] = []
    size, i = 0, 0
    while size < length:
        part = template.format(i=i)
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts)[:length]


PROSE = _repeat(
    "The quick brown fox jumps over the lazy dog, and then it rests for a while. "
    "Pack my box with five dozen liquor jugs; how vexingly quick daft zebras jump!\n"
    "Sphinx of black quartz, judge my vow: see https://example.com/guide for details.\n\n"
)

ADVERSARIAL: dict[str, Callable[[], str]] = {
    # the reproductions and their neighbours
    "a_run": lambda: "a" * LENGTH,
    "pre_open": lambda: _repeat("<pre "),
    "http_repeat": lambda: _repeat("http://"),
    "at_repeat": lambda: _repeat("a@"),
    "www_repeat": lambda: _repeat("www."),
    "dotted_words": lambda: _repeat("a."),
    "mail_like": lambda: _repeat("a.b@c"),
    "long_url": lambda: "http://example.com/" + "a" * LENGTH,
    "url_punctuation": lambda: "http://example.com/" + _repeat(").,;:!?"),
    "many_links": lambda: _repeat("http://a.co me@a.co www.a.org "),
    # tags and entities
    "lt_run": lambda: "<" * LENGTH,
    "tag_never_closed": lambda: _repeat("<a "),
    "comment_open": lambda: _repeat("<!--"),
    "nested_div": lambda: _repeat("<div>"),
    "nested_ul": lambda: _repeat("<ul>"),
    "nested_blockquote": lambda: _repeat("<blockquote>"),
    "nested_pre": lambda: _repeat("<pre>"),
    "nested_list_items": lambda: _repeat("<ul><li>"),
    "formatting_reopened": lambda: _numbered("<p><b title={i}>x</p>"),
    "formatting_then_blocks": lambda: _numbered("<b title={i}>", LENGTH // 2)
    + _repeat("<p>x", LENGTH // 2),
    "misnested": lambda: _repeat("<b><i>x</b>"),
    "many_attributes": lambda: "<a " + _numbered("a{i}=1 ") + ">",
    "attribute_ampersands": lambda: '<a title="' + "&" * LENGTH + '">x</a>',
    "char_ref_starts": lambda: _repeat("&#"),
    "ampersand_run": lambda: "&" * LENGTH,
    "named_ref_prefixes": lambda: _repeat("&am"),
    "pre_newlines": lambda: _repeat("<pre>\n\n"),
    "blank_lines": lambda: _repeat("\n \n"),
    "spaces_then_newline": lambda: "\n" + " " * LENGTH + "x",
    # Markdown's own shapes (harmless text in the other formats)
    "emphasis_stars": lambda: _repeat("*a"),
    "emphasis_mixed": lambda: _repeat("*a**b_c__"),
    "emphasis_run": lambda: "*" * LENGTH,
    "underscore_run": lambda: _repeat("_a"),
    "brackets_open": lambda: "[" * LENGTH,
    "links_unclosed": lambda: _repeat("[a]("),
    "images_unclosed": lambda: _repeat("!["),
    "backticks": lambda: _repeat("`a``"),
    "autolink_open": lambda: _repeat("<a"),
    "quote_nesting": lambda: ">" * LENGTH,
    "list_nesting": lambda: "".join(" " * i + "- a\n" for i in range(0, 400)) * 2,
    "list_items": lambda: _repeat("- a\n"),
    "table_rows": lambda: "|a|b|\n|-|-|\n" + _repeat("|a|b|\n"),
    "backslashes": lambda: "\\" * LENGTH,
    "link_refs": lambda: _numbered("[a{i}]: /u\n"),
}

# every shipped format, plus a name no format has (it renders escaped)
FORMAT_NAMES = [*FORMATS, "no_such_format"]


def _best_time(render: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        render()
        best = min(best, time.perf_counter() - started)
    return best


def test_every_shipped_format_is_covered() -> None:
    assert {"plain_text", "filtered_html", "full_html", "markdown"} <= set(FORMATS)


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_adversarial_text_renders_in_linear_time(format_name: str, case: str) -> None:
    hostile = ADVERSARIAL[case]()
    assert len(PROSE) == LENGTH and len(hostile) >= LENGTH // 2
    prose = PROSE[: len(hostile)]

    def render(text: str) -> Callable[[], object]:
        # A fresh registry each time: nothing comes from the filtered-text cache.
        return lambda: FormatRegistry().render(text, format_name)

    baseline = _best_time(render(prose), 3)
    spent = _best_time(render(hostile), 2)
    # Prose in a format without filters costs next to nothing; a floor keeps the ratio
    # meaningful there (what the hostile text may take is still tiny in absolute terms).
    allowed = BUDGET * max(baseline, 0.002)
    assert spent <= allowed, (
        f"{case} in {format_name}: {spent * 1000:.1f} ms, prose of the same length "
        f"{baseline * 1000:.1f} ms (budget {BUDGET:g} times)"
    )


async def test_a_long_text_does_not_hold_up_the_other_requests(client: httpx.AsyncClient) -> None:
    """While one request renders a long body, ``/health`` on the same process keeps answering
    promptly (the render runs in a worker thread, not on the event loop); a longer text than
    the bound is refused."""
    headers = await admin_headers(client)
    created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert created.status_code == 201, created.text
    body = _repeat(PROSE, TEXT_MAX - 1000)
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Long", "status": 1,
        "fields": {"field_body": {"value": body, "format": "markdown"}}})
    assert response.status_code == 201, response.text
    item_id = response.json()["id"]
    assert len(body) > OFF_LOOP_LENGTH

    started = time.perf_counter()
    page = asyncio.create_task(client.get(f"/item/{item_id}"))
    waits: list[float] = []
    while not page.done():
        asked = time.perf_counter()
        health = await client.get("/health")
        waits.append(time.perf_counter() - asked)
        assert health.status_code == 200
    rendered = await page
    spent = time.perf_counter() - started
    assert rendered.status_code == 200 and "Sphinx of black quartz" in rendered.text
    # Blocked by the render, one /health call would wait about as long as the whole page.
    assert len(waits) >= 3 and max(waits) < spent / 3, (max(waits), spent, len(waits))

    # Beyond the bound a text is refused, with the field and the limit named.
    response = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Too long", "status": 1,
        "fields": {"field_body": {"value": "a" * (TEXT_MAX + 1), "format": "plain_text"}}})
    assert response.status_code == 422, response.text
    assert f"must be at most {TEXT_MAX} characters" in response.text
    assert "field_body" in response.text
