"""Text filters: the functions a text format's chain is made of, each named in a registry.

A filter turns text into text (``escape_html``, ``url_to_link``, ``line_breaks``,
``html_sanitize``, ``markdown``) and declares what it does to the safety of HTML passing
through it (:class:`FilterSafety`), which is how :mod:`trovato.render.formats` proves a
format's chain ends in safe output. Formats name filters from :data:`FILTERS`; more are added
with :func:`register_filter`.

Every filter runs in time linear in the length of its text, whatever the text holds: no
pattern here can backtrack over what it already matched, tags are found by the one-pass
tokenizer of :mod:`trovato.render.html_tokens`, URLs and e-mail addresses by linkify-it, and
the sanitizer's input is balanced and depth-capped first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from html import unescape
from typing import TYPE_CHECKING, Any

import nh3
from linkify_it import LinkifyIt
from linkify_it.main import Match
from markupsafe import escape

from trovato.render.elements import SAFE_URL_SCHEMES, URL_ATTRIBUTES, safe_url
from trovato.render.html_tokens import Kind, balance, tokenize

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


class FilterSafety(Enum):
    """What a filter does to the safety of HTML passing through it."""

    ESCAPES = "escapes"  # output is safe whatever the input (escape everything)
    SANITIZES = "sanitizes"  # output is safe whatever the input (allow-list sanitizer)
    PRESERVES = "preserves"  # safe input stays safe (adds only markup it builds itself)
    UNSAFE = "unsafe"  # may turn safe input into unsafe output


FilterFunction = Callable[[str, Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class TextFilter:
    name: str
    label: str
    function: FilterFunction
    safety: FilterSafety
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _escape_html(text: str, settings: Mapping[str, Any]) -> str:
    return str(escape(text))


# Tags whose text the link filter must leave alone.
_SKIP_TAGS = frozenset({"a", "pre", "code", "script", "style", "textarea"})


def _www(self: LinkifyIt, text: str, position: int) -> int:
    """linkify-it schema validator for ``www.`` links: the rest of a host, then an optional
    port and path, as ``http:`` accepts after ``//``."""
    found = _WWW_TAIL.match(text, position)
    return len(found.group(0)) if found else 0


def _www_url(self: LinkifyIt, match: Match) -> None:
    match.url = "http://" + match.url


# URL and e-mail detection follows linkify-it's rules (matched by _Links below). Only
# http(s)://, www. and e-mail addresses (bare or mailto:) become links: fuzzy domains would
# turn "config.py" into a link, and ftp:// or //host links are no use to a reader.
_LINKIFY = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": True, "fuzzy_ip": False})
_WWW_TAIL = re.compile(
    _LINKIFY.re["src_host_strict"] + _LINKIFY.re["src_path"], re.IGNORECASE
)
_LINKIFY.add("ftp:", None).add("//", None).add(
    "www.", {"validate": _www, "normalize": _www_url}
)

_SCHEMA = re.compile(_LINKIFY.re["schema_search"], re.IGNORECASE)
_EMAIL = re.compile(_LINKIFY.re["email_fuzzy"], re.IGNORECASE)


class _Links:
    """linkify-it's rules, matched so that each candidate is validated only when no earlier
    link covers it. (linkify-it's own ``match`` validates every candidate first: one long
    link holding many — ``www.www.www…`` — costs time quadratic in its length.) Has the
    methods markdown-it-py calls, so Markdown links by the same rules."""

    def pretest(self, text: str) -> bool:
        return _LINK_HINT.search(text) is not None

    def test(self, text: str) -> bool:
        return bool(self.match(text))

    def match(self, text: str) -> list[Match] | None:
        if _LINK_HINT.search(text) is None:
            return None
        candidates: list[tuple[int, int, str, bool]] = [
            (found.start(2), found.end(0), found.group(2), False)
            for found in _SCHEMA.finditer(text)
        ]
        candidates += [(found.start(2), found.end(0), "mailto:", True)
                       for found in _EMAIL.finditer(text)]
        candidates.sort()
        links: list[Match] = []
        covered = 0
        for start, after, schema, whole in candidates:
            if start < covered:
                continue
            end = after if whole else after + _LINKIFY.test_schema_at(text, schema, after)
            if end > after or whole:
                links.append(_LINKIFY._create_match(text, schema, start, end))
                covered = end
        return links or None

    def match_at_start(self, text: str) -> None:
        return None  # markdown-it's inline linkify rule is off (it copies the rest per URL)


_LINKS = _Links()

_TRAILING = ".,;:!?)]}'\""
# After escaping, quotes and brackets appear as entities; a URL ends where one starts.
_ENTITY_END = re.compile(r"&(?:lt|gt|quot|#34|#39|#x27|#x22);", re.I)


def _link_one(raw: str, schema: str, max_length: int) -> str:
    cut = _ENTITY_END.search(raw)
    tail = ""
    if cut:
        raw, tail = raw[: cut.start()], raw[cut.start():]
    # Trailing punctuation ends a sentence, not the URL; a closing parenthesis belongs to the
    # URL only while it closes one the URL opened.
    opened, closed = raw.count("("), raw.count(")")
    end = len(raw)
    while end and raw[end - 1] in _TRAILING:
        if raw[end - 1] == ")":
            if closed <= opened:
                break
            closed -= 1
        end -= 1
    raw, tail = raw[:end], raw[end:] + tail
    if not raw:
        return tail
    # The text may already hold entities (&amp;) because escaping ran first; decode them once
    # for the href, which escape() re-encodes, so "&amp;" never becomes "&amp;amp;".
    plain = unescape(raw)
    lowered = plain.lower()
    if schema == "mailto:" and not lowered.startswith("mailto:"):
        href = "mailto:" + plain
    elif lowered.startswith("www."):
        href = "http://" + plain
    else:
        href = plain
    if safe_url(href) is None:
        return raw + tail
    shown = plain if len(plain) <= max_length else plain[: max_length - 1] + "…"
    return f'<a href="{escape(href)}">{escape(shown)}</a>{tail}'


# Every link linkify-it finds holds one of these; a URL or address never holds whitespace.
_LINK_HINT = re.compile(r"://|@|www\.", re.IGNORECASE)
_NON_SPACE = re.compile(r"\S*")


def _link_text(text: str, max_length: int) -> str:
    """``text`` with its URLs and e-mail addresses linked.

    Only the whitespace-separated words around a hint (``://``, ``@``, ``www.``) can hold a
    link, so only those go to linkify-it — joined into one string, in one call. Each word is
    found once (a hint inside a word already taken is skipped), so this stays linear, and
    prose without links costs one scan for the hints.
    """
    hints = _LINK_HINT.finditer(text)
    first = next(hints, None)
    if first is None:
        return text
    reverse = text[::-1]
    length = len(text)
    words: list[tuple[int, int]] = []
    taken = 0
    for hint in (first, *hints):
        at = hint.start()
        if at < taken:
            continue
        before = _NON_SPACE.match(reverse, length - at)
        start = at - (before.end() - before.start()) if before else at
        after = _NON_SPACE.match(text, at)
        taken = after.end() if after else at + 1
        words.append((max(start, 0), taken))
    joined = "\n".join(text[start:end] for start, end in words)
    matches = _LINKS.match(joined) or []
    out: list[str] = []
    position = 0  # in text
    word, word_offset = 0, 0  # the word a match falls in, and where it starts in joined
    for found in matches:
        while found.index >= word_offset + (words[word][1] - words[word][0]) + 1:
            word_offset += words[word][1] - words[word][0] + 1
            word += 1
        start = words[word][0] + found.index - word_offset
        end = words[word][0] + found.last_index - word_offset
        out.append(text[position:start])
        out.append(_link_one(text[start:end], found.schema, max_length))
        position = end
    out.append(text[position:])
    return "".join(out)


def _url_to_link(text: str, settings: Mapping[str, Any]) -> str:
    """Turn bare URLs and e-mail addresses in text (not in tags, links or code) into links."""
    max_length = int(settings.get("max_length", 72))
    out: list[str] = []
    skip_depth = 0
    for token in tokenize(text):
        if token.kind is Kind.TEXT and not skip_depth:
            out.append(_link_text(token.raw, max_length))
            continue
        if token.name in _SKIP_TAGS:
            if token.kind is Kind.START:
                skip_depth += 1
            elif token.kind is Kind.END:
                skip_depth = max(skip_depth - 1, 0)
        out.append(token.raw)
    return "".join(out)


_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|ul|ol|dl|li|table|thead|tbody|tr|blockquote|pre|h[1-6]|hr|figure|section|"
    r"article|aside|header|footer|nav|address|details)[\s>/]",
    re.I,
)
# A run of whitespace holding two or more newlines; linear: a failed attempt (one newline in
# the run) scans only that run, and the next attempt starts after it.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_PRE = re.compile(r"<pre", re.IGNORECASE)


def _pre_blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each ``<pre>…</pre>`` block, in order (a block ends at the first
    ``</pre>``; one never closed is not a block)."""
    offset, start = 0, -1
    for token in tokenize(text):
        if token.name == "pre":
            if token.kind is Kind.START and start < 0:
                start = offset
            elif token.kind is Kind.END and start >= 0:
                yield start, offset + len(token.raw)
                start = -1
        offset += len(token.raw)


def _line_breaks(text: str, settings: Mapping[str, Any]) -> str:
    """Blank-line separated chunks become paragraphs, single newlines ``<br>``.

    Chunks that already start with a block-level tag are left as written, so HTML typed with
    its own structure is not wrapped twice; text inside ``<pre>`` keeps its newlines.
    """
    # NUL marks the protected blocks below; HTML parsers never keep one anyway.
    text = text.replace("\x00", "\ufffd")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        return ""
    # Protect <pre> blocks: their newlines are content, not layout.
    pres: list[str] = []
    parts: list[str] = []
    position = 0
    for start, end in _pre_blocks(text) if _PRE.search(text) else ():
        parts.append(text[position:start])
        parts.append(f"\x00{len(pres)}\x00")
        pres.append(text[start:end])
        position = end
    parts.append(text[position:])
    text = "".join(parts)
    chunks = [c.strip("\n") for c in _PARAGRAPH_BREAK.split(text) if c.strip()]
    rendered: list[str] = []
    for chunk in chunks:
        if _BLOCK_START.match(chunk) or (chunk.startswith("\x00") and pres):
            rendered.append(chunk)
        else:
            rendered.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    result = "\n".join(rendered)
    if not pres:
        return result
    return _PLACEHOLDER.sub(lambda m: pres[int(m.group(1))], result)


def _sanitize_html(text: str, settings: Mapping[str, Any]) -> str:
    """nh3 (ammonia) allow-list: only the configured tags, attributes and URL schemes."""
    tags = set(settings.get("tags", ()))
    attributes = {tag: set(names) for tag, names in dict(settings.get("attributes", {})).items()}
    # rel is set by the sanitizer itself; nh3 refuses a config that also allows it as input.
    for names in attributes.values():
        names.discard("rel")
        # Event handlers and style never pass, whatever an admin-defined format lists.
        for name in list(names):
            if name.startswith("on") or name == "style":
                names.discard(name)
    schemes = set(settings.get("url_schemes", SAFE_URL_SCHEMES)) & set(SAFE_URL_SCHEMES)

    def check_url(tag: str, attribute: str, value: str) -> str | None:
        # nh3 already checks schemes; running the kernel's own policy too keeps formats and
        # render trees on exactly one definition of a safe URL.
        if attribute in URL_ATTRIBUTES:
            return safe_url(value, schemes=schemes)
        return value

    drop_content = {"script", "style"} - tags
    # html5ever's cost grows with nesting; balance() hands it only allowed, explicitly closed
    # markup of bounded depth, so the parse stays linear in the length of the text.
    text = balance(text, tags=tags, attributes=attributes, drop_content=drop_content)
    return nh3.clean(
        text,
        tags=tags,
        clean_content_tags=drop_content,
        attributes=attributes,
        attribute_filter=check_url,
        strip_comments=True,
        link_rel=settings.get("link_rel", "nofollow noopener") or None,
        url_schemes=schemes,
    )


@cache
def _markdown_parser() -> MarkdownIt:
    """The one Markdown parser, built on the first Markdown text (a process rendering none
    never imports markdown-it)."""
    from markdown_it import MarkdownIt

    # CommonMark with tables and strikethrough. Raw HTML is off: tags typed in Markdown come
    # out as text, so the only markup is what the parser builds (and html_sanitize checks).
    # Images are off too: a reader's browser should not fetch what an author points it at
    # (as in filtered_html); "![alt](url)" shows as "!" and a link. Bare URLs become links
    # through the same linkify-it rules as the other formats.
    parser = MarkdownIt(
        "commonmark", {"html": False, "linkify": True, "typographer": False}
    ).enable(["table", "strikethrough", "linkify"]).disable("image")
    parser.inline.ruler.disable("linkify")
    parser.linkify = _LINKS
    return parser


def _markdown(text: str, settings: Mapping[str, Any]) -> str:
    """Markdown (CommonMark, tables, strikethrough) to HTML; typed HTML stays text."""
    return str(_markdown_parser().render(text))


FILTERS: dict[str, TextFilter] = {}


def register_filter(text_filter: TextFilter) -> None:
    """Add a filter that format definitions can name (plugins' filters run host-side)."""
    FILTERS[text_filter.name] = text_filter


for _filter in (
    TextFilter("escape_html", "Escape all HTML", _escape_html, FilterSafety.ESCAPES),
    TextFilter(
        "url_to_link", "Convert URLs into links", _url_to_link, FilterSafety.PRESERVES,
        {"max_length": 72},
    ),
    TextFilter(
        "line_breaks", "Convert line breaks into HTML", _line_breaks, FilterSafety.PRESERVES
    ),
    TextFilter("html_sanitize", "Limit allowed HTML", _sanitize_html, FilterSafety.SANITIZES),
    # Escapes: every character of the input is text or Markdown syntax, never markup.
    TextFilter("markdown", "Convert Markdown into HTML", _markdown, FilterSafety.ESCAPES),
):
    register_filter(_filter)
