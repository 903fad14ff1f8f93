"""Text formats: filter chains as data, the shipped formats, and the safety rules."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.render.filters import FilterSafety, TextFilter, register_filter
from trovato.render.formats import (
    FILTERED_HTML_TAGS,
    FILTERED_TEXT_MAX_ENTRY,
    FORMATS,
    MAX_TEXT_LENGTH,
    FormatError,
    FormatRegistry,
    TextFormat,
    default_registry,
    render_text,
)
from trovato.render.html_tokens import MAX_DEPTH, balance, tokenize
from trovato.users.permissions import Permission, text_format_permissions


def test_plain_text_escapes_and_adds_paragraphs() -> None:
    out = render_text("a <b>bold</b> & more\nnext line\n\nsecond", "plain_text")
    assert isinstance(out, Markup)
    assert out == "<p>a &lt;b&gt;bold&lt;/b&gt; &amp; more<br>\nnext line</p>\n<p>second</p>"


def test_plain_text_links_urls_and_mail() -> None:
    out = render_text("see https://example.com/a?x=1&y=2. or www.example.org, mail me@ex.org",
                      "plain_text")
    url = "https://example.com/a?x=1&amp;y=2"
    assert f'<a href="{url}">{url}</a>.' in out
    assert '<a href="http://www.example.org">www.example.org</a>,' in out
    assert '<a href="mailto:me@ex.org">me@ex.org</a>' in out


def test_url_filter_stops_at_escaped_quotes_and_brackets() -> None:
    out = render_text('"http://example.com/x"<b>', "plain_text")
    assert '<a href="http://example.com/x">http://example.com/x</a>&#34;&lt;b&gt;' in out


def test_url_filter_shortens_long_link_text() -> None:
    url = "https://example.com/" + "a" * 200
    out = render_text(url, "plain_text")
    assert f'href="{url}"' in out and "…</a>" in out


def test_filtered_html_keeps_allowed_markup() -> None:
    out = render_text("<p>Hi <strong>there</strong> <em>you</em></p><ul><li>one</li></ul>",
                      "filtered_html")
    assert out == "<p>Hi <strong>there</strong> <em>you</em></p><ul><li>one</li></ul>"


def test_filtered_html_links_get_nofollow_and_schemes_are_limited() -> None:
    out = render_text(
        '<a href="https://ex.org" rel="opener">a</a> <a href="javascript:alert(1)">b</a> '
        '<a href="mailto:x@ex.org">c</a> <a href="ftp://ex.org/f">d</a> <a href="/rel">e</a>',
        "filtered_html",
    )
    assert '<a href="https://ex.org" rel="nofollow noopener">a</a>' in out
    assert '<a rel="nofollow noopener">b</a>' in out
    assert 'href="mailto:x@ex.org"' in out
    assert "ftp:" not in out
    assert 'href="/rel"' in out


def test_filtered_html_drops_disallowed_tags_attributes_and_script_content() -> None:
    out = render_text(
        '<div class="x" style="color:red" onclick="evil()">a<script>alert(1)</script>'
        "<style>p{}</style><img src=x></div>",
        "filtered_html",
    )
    assert out == "a"  # <div> is not allowed; its text stays


def test_filtered_html_line_breaks_and_links_in_text_only() -> None:
    out = render_text(
        'one\ntwo http://ex.org\n\n<a href="http://ex.org/a">http://ex.org/a</a>'
        "\n\n<pre>code http://ex.org\nkeep</pre>",
        "filtered_html",
    )
    assert '<p>one<br>\ntwo <a href="http://ex.org" rel="nofollow noopener">' in out
    # Not linked twice inside an existing link, not linked inside <pre>; <pre> keeps newlines.
    assert out.count('href="http://ex.org/a"') == 1
    assert "<pre>code http://ex.org\nkeep</pre>" in out


def test_filtered_html_allow_list_is_configurable() -> None:
    registry = FormatRegistry(
        {
            "tiny": {
                "label": "Tiny",
                "filters": [
                    {"name": "html_sanitize",
                     "settings": {"tags": ["b"], "attributes": {"b": ["title", "onclick"]}}},
                ],
            }
        }
    )
    out = registry.render('<b title="t" onclick="x()">x</b><i>y</i>', "tiny")
    assert out == '<b title="t">x</b>y'


def test_full_html_is_not_sanitized_but_unknown_formats_are_escaped() -> None:
    assert render_text("<script>x()</script>", "full_html") == "<script>x()</script>"
    for name in ("nope", "", None, "FULL_HTML", "full_html "):
        out = render_text("<script>x()</script>", name)
        assert "<script>" not in out and "&lt;script&gt;" in out


def test_none_value_renders_empty() -> None:
    assert render_text(None, "plain_text") == ""


def test_formats_are_data() -> None:
    registry = FormatRegistry(FORMATS)
    for name, data in FORMATS.items():
        text_format = registry.get(name)
        assert text_format is not None
        assert TextFormat.from_dict(name, text_format.to_dict()) == text_format
        assert [s.name for s in text_format.filters] == [f["name"] for f in data["filters"]]


def test_a_format_that_is_not_safe_must_be_restricted() -> None:
    with pytest.raises(FormatError, match="restricted"):
        FormatRegistry({"open": {"filters": [{"name": "line_breaks"}]}})
    # Escaping first, then a filter that keeps HTML safe: fine.
    FormatRegistry({"ok": {"filters": [{"name": "escape_html"}, {"name": "line_breaks"}]}})
    # Sanitizing before an unsafe filter: not fine.
    register_filter(
        TextFilter("test_raw", "Raw", lambda text, settings: text, FilterSafety.UNSAFE)
    )
    with pytest.raises(FormatError):
        FormatRegistry(
            {"bad": {"filters": [{"name": "html_sanitize"}, {"name": "test_raw"}]}}
        )
    FormatRegistry(
        {"trusted": {"restricted": True,
                     "filters": [{"name": "html_sanitize"}, {"name": "test_raw"}]}}
    )


def test_unknown_filter_is_an_error() -> None:
    with pytest.raises(FormatError, match="unknown filter"):
        FormatRegistry({"x": {"filters": [{"name": "no_such_filter"}]}})


def test_permissions() -> None:
    permissions = text_format_permissions(default_registry())
    assert all(isinstance(p, Permission) for p in permissions)
    by_name = {p.name: p for p in permissions}
    assert by_name["use full_html"].restricted
    assert "use plain_text" not in by_name  # open formats need no permission
    registry = default_registry()
    assert registry.permission_map() == {"full_html": "use full_html"}
    names = [f.name for f in registry.allowed_for(lambda p: False)]
    assert names == ["filtered_html", "markdown", "plain_text"]
    names = [f.name for f in registry.allowed_for(lambda p: p == "use full_html")]
    assert names == ["filtered_html", "markdown", "plain_text", "full_html"]
    # A restricted format always needs its permission, however it was built.
    assert TextFormat("x", "X", (), restricted=True).needs_permission


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("format_name",
                         ["plain_text", "filtered_html", "markdown", "unknown_format"])
def test_xss_corpus(vector: str, format_name: str) -> None:
    assert_safe(str(render_text(vector, format_name)), vector)


def test_filtered_text_is_cached_per_format_and_dropped_when_a_format_changes() -> None:
    calls: list[str] = []

    def shout(text: str, settings: dict[str, object]) -> str:
        calls.append(text)
        return str(escape(text)).upper() + str(settings.get("mark", ""))

    filters = {"shout": TextFilter("shout", "Shout", shout, FilterSafety.ESCAPES)}
    registry = FormatRegistry(
        {"loud": {"label": "Loud", "filters": [{"name": "shout"}]}}, filters=filters
    )
    assert registry.render("<b>hi</b>", "loud") == "&LT;B&GT;HI&LT;/B&GT;"
    assert registry.render("<b>hi</b>", "loud") == "&LT;B&GT;HI&LT;/B&GT;"
    assert calls == ["<b>hi</b>"]  # the second view came from the cache
    registry.render("other", "loud")
    assert len(calls) == 2
    registry.add(TextFormat.from_dict(
        "loud", {"label": "Loud", "filters": [{"name": "shout", "settings": {"mark": "!"}}]}))
    assert registry.render("<b>hi</b>", "loud") == "&LT;B&GT;HI&LT;/B&GT;!"
    assert len(calls) == 3
    # Long texts are never kept: each view filters them again.
    long_text = "x" * FILTERED_TEXT_MAX_ENTRY
    registry.render(long_text, "loud")
    registry.render(long_text, "loud")
    assert len(calls) == 5
    # Another registry's format of the same name is another cache entry.
    other = FormatRegistry(
        {"loud": {"label": "Loud", "filters": [{"name": "shout", "settings": {"mark": "?"}}]}},
        filters=filters,
    )
    assert other.render("<b>hi</b>", "loud") == "&LT;B&GT;HI&LT;/B&GT;?"


# -- links --------------------------------------------------------------------------------------


def test_only_web_and_mail_addresses_become_links() -> None:
    out = render_text(
        "config.py and example.com stay text; ftp://ex.org and //ex.org too; "
        "WWW.Example.org and mailto:me@ex.org do not",
        "plain_text",
    )
    assert out.count("<a ") == 2
    assert '<a href="http://WWW.Example.org">WWW.Example.org</a>' in out
    assert '<a href="mailto:me@ex.org">mailto:me@ex.org</a>' in out


def test_a_closing_parenthesis_belongs_to_a_url_only_when_it_opened_one() -> None:
    out = render_text("(see http://ex.org/a) and http://en.wikipedia.org/wiki/Foo_(bar).",
                      "plain_text")
    assert '<a href="http://ex.org/a">http://ex.org/a</a>)' in out
    assert 'href="http://en.wikipedia.org/wiki/Foo_(bar)"' in out
    assert "</a>." in out


def test_urls_in_attributes_and_raw_text_are_not_linked() -> None:
    out = render_text('<abbr title="a > http://ex.org/t">x</abbr> <code>http://ex.org/c</code>',
                      "filtered_html")
    assert out.count("<a ") == 0
    assert 'title="a &gt; http://ex.org/t"' in out


# -- markdown -----------------------------------------------------------------------------------


def test_markdown_renders_commonmark_with_tables_and_strikethrough() -> None:
    out = render_text(
        "# Title\n\nSome *emphasis*, **strong** and ~~gone~~ text.\n\n"
        "- one\n- two\n\n1. first\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "markdown",
    )
    for part in ("<h1>Title</h1>", "<em>emphasis</em>", "<strong>strong</strong>",
                 "<s>gone</s>", "<li>one</li>", "<ol>", "<blockquote>", "<table>",
                 "<th>a</th>", "<td>2</td>"):
        assert part in out, part


def test_markdown_code_blocks_keep_their_text_as_text() -> None:
    out = render_text("```html\n<script>alert(1)</script>\n```\n\nand `<b>inline</b>`",
                      "markdown")
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>" in out
    assert "<code>&lt;b&gt;inline&lt;/b&gt;</code>" in out
    assert "<script" not in out and "language-" not in out  # no classes from the source


def test_markdown_links_follow_the_url_policy() -> None:
    out = render_text(
        "[site](https://ex.org \"T\") [bad](javascript:alert(1)) [mail](mailto:a@ex.org) "
        "bare https://ex.org/bare and www.ex.org ![pic](https://ex.org/p.png)",
        "markdown",
    )
    assert '<a href="https://ex.org" title="T" rel="nofollow noopener">site</a>' in out
    assert "javascript:" not in out.replace("[bad](javascript:alert(1))", "")
    assert '<a href="mailto:a@ex.org" rel="nofollow noopener">mail</a>' in out
    assert 'href="https://ex.org/bare"' in out and 'href="http://www.ex.org"' in out
    assert "<img" not in out and 'href="https://ex.org/p.png"' in out


def test_markdown_shows_typed_html_as_text() -> None:
    out = render_text('<b onclick="x()">hi</b>\n\n<div>block</div>', "markdown")
    assert "&lt;b onclick=" in out and "<b" not in out and "<div" not in out


def test_markdown_needs_no_permission() -> None:
    assert "markdown" not in default_registry().permission_map()
    assert default_registry().get("markdown") is not None


# -- the tokenizer and the sanitizer's balancing pass --------------------------------------------


@pytest.mark.parametrize("text", [
    "", "plain", "<p>x</p>", "a < b > c", "<a title='x>y'>z</a>", "<!-- c --> t", "<!-- open",
    "<a href=x", "</>", "<!doctype html>", "<?php ?>", "<script>a<b</script>", "<textarea>",
    "<b\x00>", "<p/>", "&amp;&", "</ x>",
])
def test_tokens_join_back_to_the_text(text: str) -> None:
    assert "".join(t.raw for t in tokenize(text)) == text


def test_balance_closes_every_element_and_caps_the_depth() -> None:
    out = balance("<ul><li>a<li>b</ul><p>x<p>y<b>z", tags={"ul", "li", "p", "b"}, attributes={})
    assert out == "<ul><li>a</li><li>b</li></ul><p>x</p><p>y<b>z</b></p>"
    deep = balance("<b>" * 100 + "x" + "</b>" * 100, tags={"b"}, attributes={}, max_depth=10)
    assert deep == "<b>" * 10 + "x" + "</b>" * 10


def test_balance_keeps_allowed_attributes_once_and_reencodes_entities() -> None:
    out = balance('<a href="/q?a=1&copy=2" href="/other" onclick="x()" title=\'&lt;"\'>'
                  "&am &#34; &nbsp;</a>",
                  tags={"a"}, attributes={"a": {"href", "title"}})
    assert out == ('<a href="/q?a=1&amp;copy=2" title="&lt;&quot;">'
                   '&amp;am " \xa0</a>')


def test_filtered_html_caps_nesting() -> None:
    out = render_text("<blockquote>" * 200 + "deep" + "</blockquote>" * 200, "filtered_html")
    assert out.count("<blockquote>") == MAX_DEPTH and "deep" in out


# -- size ---------------------------------------------------------------------------------------


def test_text_beyond_the_bound_is_cut_before_formatting(caplog: pytest.LogCaptureFixture) -> None:
    out = FormatRegistry().render("a" * (MAX_TEXT_LENGTH + 10) + "TAIL", "plain_text")
    assert "TAIL" not in out and out.count("a") == MAX_TEXT_LENGTH
    assert "cut to" in caplog.text


def test_which_formats_take_html_and_the_tags_they_keep() -> None:
    formats = {f.name: f for f in default_registry().all()}
    assert formats["filtered_html"].takes_html and formats["full_html"].takes_html
    assert not formats["plain_text"].takes_html and not formats["markdown"].takes_html
    assert formats["filtered_html"].allowed_tags() == frozenset(FILTERED_HTML_TAGS)
    assert "h1" not in FILTERED_HTML_TAGS and "script" not in FILTERED_HTML_TAGS
    assert formats["full_html"].allowed_tags() is None
