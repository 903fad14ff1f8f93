"""Text formats: named, ordered filter chains that turn stored text into safe HTML.

A text value (``{"value": "...", "format": "filtered_html"}``, DESIGN §5) is rendered by its
format's filter chain. Formats are data — a list of filter names with settings — so the admin
UI and configuration export can define new ones; the filters themselves live in a registry of
Python functions. Four formats ship:

- ``plain_text``: escape everything, turn URLs into links, newlines into ``<br>``/paragraphs.
- ``filtered_html``: URLs into links, line breaks, then an nh3 allow-list sanitizer (tags,
  attributes, http/https/mailto URLs, ``rel="nofollow noopener"`` on links).
- ``markdown``: CommonMark (markdown-it-py, raw HTML off, tables, strikethrough, bare URLs
  linked), then the same sanitizer with the tags Markdown produces.
- ``full_html``: no sanitizing. Who may *save* text in it (``use full_html``) is checked by the
  content service at save time; here it only matters that the format is marked restricted.

Safety does not rest on callers passing the right name: a format whose chain does not end in
safe output (an escape or sanitize step followed only by filters that keep output safe) must be
declared ``restricted``, and an unknown or missing format renders escaped, never as raw HTML.

Every filter runs in time linear in the length of its text, whatever the text holds: no
pattern here can backtrack over what it already matched, tags are found by the one-pass
tokenizer of :mod:`trovato.render.html_tokens`, URLs and e-mail addresses by linkify-it, and
the sanitizer's input is balanced and depth-capped first. Texts are bounded too: the content
service refuses to store more than :data:`MAX_TEXT_LENGTH` characters in one value, and a
longer one that reaches rendering anyway is cut to that length (with a warning in the log).
Rendering big texts off the event loop is the renderer's part (:data:`OFF_LOOP_LENGTH`).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from html import unescape
from typing import Any

import nh3
from linkify_it import LinkifyIt
from linkify_it.main import Match
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from trovato.caches import BytesLRU, text_cache
from trovato.render.elements import SAFE_URL_SCHEMES, URL_ATTRIBUTES, safe_url
from trovato.render.html_tokens import Kind, balance, tokenize

FALLBACK_FORMAT = "plain_text"
"""The format offered first to everyone; unknown formats render escaped much like it."""

MAX_TEXT_LENGTH = 1_000_000
"""The most characters one text value may hold (saved or rendered)."""

OFF_LOOP_LENGTH = 16 * 1024
"""The most characters of text (not already in the filtered-text cache) a render on the event
loop filters: a render that would filter more starts again in a worker thread, so a long text
never holds up the other requests of its process."""

FILTERED_TEXT_MAX_ENTRY = 256 * 1024
"""The largest text and its filtered HTML, in bytes, the filtered-text cache keeps: a longer
text is rare and filtered on each view rather than evicting many popular ones."""

log = logging.getLogger(__name__)


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


class FormatError(ValueError):
    """A format definition names an unknown filter or would let unsafe HTML through."""


# --- filters ----------------------------------------------------------------------------------


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


def _markdown_parser() -> MarkdownIt:
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


_MARKDOWN = _markdown_parser()


def _markdown(text: str, settings: Mapping[str, Any]) -> str:
    """Markdown (CommonMark, tables, strikethrough) to HTML; typed HTML stays text."""
    return str(_MARKDOWN.render(text))


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


# --- formats ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterStep:
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)


# Filters whose input is text, not HTML: an HTML editor must not write for their formats.
_TEXT_TO_HTML = frozenset({"escape_html", "markdown"})


@dataclass(frozen=True, slots=True)
class TextFormat:
    name: str
    label: str
    filters: tuple[FilterStep, ...]
    restricted: bool = False  # output may contain anything: only for trusted roles
    weight: int = 0
    # Saving text in this format needs "use <format>"; always so for restricted formats.
    # Unrestricted formats are open to everyone who may edit the text unless they opt in.
    needs_permission: bool = False

    def __post_init__(self) -> None:
        if self.restricted and not self.needs_permission:
            # A restricted format without a permission check would be open to everyone.
            object.__setattr__(self, "needs_permission", True)

    @property
    def permission(self) -> str:
        return permission_name(self.name)

    @property
    def takes_html(self) -> bool:
        """Whether the text is HTML, as an HTML editor writes it (no filter makes HTML of
        plain text or Markdown first)."""
        return not any(step.name in _TEXT_TO_HTML for step in self.filters)

    def allowed_tags(self) -> frozenset[str] | None:
        """The tags the format keeps: those every ``html_sanitize`` step allows; None when
        no step limits them."""
        allowed: frozenset[str] | None = None
        for step in self.filters:
            if step.name == "html_sanitize":
                tags = frozenset(str(t) for t in step.settings.get("tags", ()))
                allowed = tags if allowed is None else allowed & tags
        return allowed

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> TextFormat:
        """Build a format from its data form (``FORMATS`` entries, configuration import)."""
        steps = tuple(
            FilterStep(str(step["name"]), dict(step.get("settings", {})))
            for step in data.get("filters", ())
        )
        return cls(
            name=name,
            label=str(data.get("label", name)),
            filters=steps,
            restricted=bool(data.get("restricted", False)),
            weight=int(data.get("weight", 0)),
            needs_permission=bool(data.get("restricted") or data.get("needs_permission")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "weight": self.weight,
            "restricted": self.restricted,
            "needs_permission": self.needs_permission,
            "filters": [{"name": s.name, "settings": dict(s.settings)} for s in self.filters],
        }

    def produces_safe_html(self, filters: Mapping[str, TextFilter] | None = None) -> bool:
        """True when the chain's output is safe for any input: an escape or sanitize step,
        after which only filters that keep safe HTML safe."""
        registry = FILTERS if filters is None else filters
        safe = False
        for step in self.filters:
            safety = registry[step.name].safety
            if safety in (FilterSafety.ESCAPES, FilterSafety.SANITIZES):
                safe = True
            elif safety is FilterSafety.UNSAFE:
                safe = False
        return safe


def permission_name(format_name: str) -> str:
    return f"use {format_name}"


FILTERED_HTML_TAGS = (
    "a", "em", "strong", "b", "i", "u", "s", "cite", "blockquote", "code", "pre", "kbd", "q",
    "ul", "ol", "li", "dl", "dt", "dd", "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "sub",
    "sup", "abbr", "del", "ins", "mark", "small", "span",
)

# What the Markdown parser builds: filtered HTML's tags plus a top-level heading and tables.
MARKDOWN_TAGS = (*FILTERED_HTML_TAGS, "h1", "table", "thead", "tbody", "tr", "th", "td")

FORMATS: dict[str, dict[str, Any]] = {
    "plain_text": {
        "label": "Plain text",
        "weight": 10,
        "filters": [
            {"name": "escape_html"},
            {"name": "url_to_link", "settings": {"max_length": 72}},
            {"name": "line_breaks"},
        ],
    },
    "filtered_html": {
        "label": "Filtered HTML",
        "weight": 0,
        "filters": [
            {"name": "url_to_link", "settings": {"max_length": 72}},
            {"name": "line_breaks"},
            # Sanitizing runs last, so whatever earlier filters produced is checked too.
            {
                "name": "html_sanitize",
                "settings": {
                    "tags": list(FILTERED_HTML_TAGS),
                    "attributes": {
                        "a": ["href", "title", "hreflang"],
                        "abbr": ["title"],
                        "ol": ["start", "reversed"],
                        "*": ["lang", "dir"],
                    },
                    "url_schemes": ["http", "https", "mailto"],
                    "link_rel": "nofollow noopener",
                },
            },
        ],
    },
    "markdown": {
        "label": "Markdown",
        "weight": 5,
        "filters": [
            {"name": "markdown"},
            {
                "name": "html_sanitize",
                "settings": {
                    "tags": list(MARKDOWN_TAGS),
                    "attributes": {
                        "a": ["href", "title"],
                        "ol": ["start"],
                    },
                    "url_schemes": ["http", "https", "mailto"],
                    "link_rel": "nofollow noopener",
                },
            },
        ],
    },
    "full_html": {
        "label": "Full HTML",
        "weight": 20,
        "restricted": True,
        "filters": [],
    },
}

class FilteringTooLong(Exception):
    """Raised inside a render on the event loop that would filter more uncached text than
    :data:`OFF_LOOP_LENGTH`: the renderer starts it again in a worker thread."""


# The characters of uncached text the render under way may still filter (a one-item list, so
# nested calls share it); None outside an event-loop render, where any length may be filtered.
# Counting as the filters run, rather than walking every tree first, keeps the common case —
# short or cached texts — free: the walk cost a fifth of a front page's CPU.
LOOP_BUDGET: ContextVar[list[int] | None] = ContextVar("trovato_loop_budget", default=None)


def _spend(length: int) -> None:
    budget = LOOP_BUDGET.get()
    if budget is not None:
        budget[0] -= length
        if budget[0] < 0:
            raise FilteringTooLong


# Used when a format is unknown: never trust text whose format cannot be resolved.
_FALLBACK = TextFormat(
    "_fallback", "Escaped text", (FilterStep("escape_html"), FilterStep("line_breaks"))
)


# Filtered text by (registry generation, format, text), shared by every registry of the process.
FILTERED_TEXT: BytesLRU[tuple[int, str, str], Markup] = text_cache(
    "filtered_text", max_entry_bytes=FILTERED_TEXT_MAX_ENTRY)
_GENERATIONS = itertools.count()


class FormatRegistry:
    """The site's text formats. Built once per process from data; read-only while serving.

    Filtered text is remembered per (registry, format, text) — Drupal's filter cache, kept in
    process (:data:`FILTERED_TEXT`): filters are pure functions of the text and their settings,
    so a popular item's body is filtered once per process instead of on every view. The cache
    is bounded in bytes (least recently used entries leave first) and skips long texts; adding
    or replacing a format gives the registry a new key prefix, so what it filtered before is
    never read again and ages out.
    """

    def __init__(
        self,
        definitions: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        filters: Mapping[str, TextFilter] | None = None,
    ) -> None:
        self._filters = FILTERS if filters is None else filters
        self._formats: dict[str, TextFormat] = {}
        self._generation = next(_GENERATIONS)
        for name, data in (FORMATS if definitions is None else definitions).items():
            self.add(TextFormat.from_dict(name, data))

    def add(self, text_format: TextFormat) -> None:
        for step in text_format.filters:
            if step.name not in self._filters:
                raise FormatError(f"format {text_format.name!r}: unknown filter {step.name!r}")
        if not text_format.restricted and not text_format.produces_safe_html(self._filters):
            raise FormatError(
                f"format {text_format.name!r} does not end in escaped or sanitized HTML; "
                "declare it restricted (trusted roles only) or add html_sanitize last"
            )
        self._formats[text_format.name] = text_format
        self._generation = next(_GENERATIONS)

    def get(self, name: str | None) -> TextFormat | None:
        return self._formats.get(name) if name else None

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def all(self) -> list[TextFormat]:
        return sorted(self._formats.values(), key=lambda f: (f.weight, f.name))

    def names(self) -> frozenset[str]:
        return frozenset(self._formats)

    def restricted(self) -> frozenset[str]:
        return frozenset(f.name for f in self._formats.values() if f.restricted)

    def permission_map(self) -> dict[str, str]:
        """Format name → the permission needed to save text in it (only formats that need one),
        the shape the content service's ``format_permissions`` takes."""
        return {f.name: f.permission for f in self.all() if f.needs_permission}

    def render(self, value: object, format_name: str | None) -> Markup:
        text_format = self.get(format_name) or _FALLBACK
        text = "" if value is None else str(value)
        if len(text) > MAX_TEXT_LENGTH:
            log.warning("text of %d characters cut to %d before formatting in %s",
                        len(text), MAX_TEXT_LENGTH, text_format.name)
            text = text[:MAX_TEXT_LENGTH]
        key = (self._generation, text_format.name, text)
        cached = FILTERED_TEXT.get(key)
        if cached is not None:
            return cached
        _spend(len(text))
        for step in text_format.filters:
            text_filter = self._filters[step.name]
            settings = {**text_filter.defaults, **step.settings}
            text = text_filter.function(text, settings)
        result = Markup(text)  # noqa: S704 - the chain is safe or the format is restricted
        FILTERED_TEXT.put(key, result)
        return result

    def allowed_for(self, has_permission: Callable[[str], bool]) -> list[TextFormat]:
        """The formats a user may save text in; the fallback format is always among them."""
        return [
            f for f in self.all()
            if not f.needs_permission or has_permission(f.permission)
        ]


_default: FormatRegistry | None = None


def default_registry() -> FormatRegistry:
    """The process-wide registry of the shipped formats (built on first use)."""
    global _default
    if _default is None:
        _default = FormatRegistry()
    return _default


def render_text(
    value: object, format_name: str | None, *, registry: FormatRegistry | None = None
) -> Markup:
    """Render a text value in a format; unknown or missing formats render escaped."""
    return (registry or default_registry()).render(value, format_name)
