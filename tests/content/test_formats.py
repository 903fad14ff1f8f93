"""Text formats: filter chains as data, the shipped formats, and the safety rules."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.content.formats import (
    FORMATS,
    FilterSafety,
    FormatError,
    FormatRegistry,
    TextFilter,
    TextFormat,
    default_registry,
    format_permissions,
    register_filter,
    render_text,
)
from trovato.users.permissions import Permission


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
    permissions = format_permissions()
    assert all(isinstance(p, Permission) for p in permissions)
    by_name = {p.name: p for p in permissions}
    assert by_name["use full_html"].restricted
    assert "use plain_text" not in by_name  # open formats need no permission
    registry = default_registry()
    assert registry.permission_map() == {"full_html": "use full_html"}
    names = [f.name for f in registry.allowed_for(lambda p: False)]
    assert names == ["filtered_html", "plain_text"]
    names = [f.name for f in registry.allowed_for(lambda p: p == "use full_html")]
    assert names == ["filtered_html", "plain_text", "full_html"]
    # A restricted format always needs its permission, however it was built.
    assert TextFormat("x", "X", (), restricted=True).needs_permission


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("format_name", ["plain_text", "filtered_html", "unknown_format"])
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
    # Bounded: the oldest entries leave first, long texts are never kept.
    registry.CACHE_ENTRIES = 2  # type: ignore[misc]
    for text in ("a", "b", "c"):
        registry.render(text, "loud")
    assert len(registry._rendered) == 2
    registry.render("x" * (FormatRegistry.CACHE_MAX_TEXT + 1), "loud")
    assert len(registry._rendered) == 2
