"""Text formats: named, ordered filter chains that turn stored text into safe HTML.

A text value (``{"value": "...", "format": "filtered_html"}``, DESIGN §5) is rendered by its
format's filter chain. Formats are data — a list of filter names with settings — so the admin
UI and configuration export can define new ones; the filters themselves live in a registry of
Python functions. Three formats ship:

- ``plain_text``: escape everything, turn URLs into links, newlines into ``<br>``/paragraphs.
- ``filtered_html``: URLs into links, line breaks, then an nh3 allow-list sanitizer (tags,
  attributes, http/https/mailto URLs, ``rel="nofollow noopener"`` on links).
- ``full_html``: no sanitizing. Who may *save* text in it (``use full_html``) is checked by the
  content service at save time; here it only matters that the format is marked restricted.

Safety does not rest on callers passing the right name: a format whose chain does not end in
safe output (an escape or sanitize step followed only by filters that keep output safe) must be
declared ``restricted``, and an unknown or missing format renders escaped, never as raw HTML.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from html import unescape
from typing import Any

import nh3
from markupsafe import Markup, escape

from trovato.render.elements import SAFE_URL_SCHEMES, URL_ATTRIBUTES, safe_url
from trovato.users.permissions import Permission

FALLBACK_FORMAT = "plain_text"
"""The format offered first to everyone; unknown formats render escaped much like it."""


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


# Tags whose text the link and line-break filters must leave alone.
_SKIP_TAGS = ("a", "pre", "code", "script", "style", "textarea")
_TAG_OR_TEXT = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_URL = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"'`]+)|(?P<mail>[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+)",
    re.I,
)
_TRAILING = ".,;:!?)]}'\""
# After escaping, quotes and brackets appear as entities; a URL ends where one starts.
_ENTITY_END = re.compile(r"&(?:lt|gt|quot|#34|#39|#x27|#x22);", re.I)


def _link_one(match: re.Match[str], max_length: int) -> str:
    raw = match.group(0)
    cut = _ENTITY_END.search(raw)
    tail = ""
    if cut:
        raw, tail = raw[: cut.start()], raw[cut.start():]
    while raw and raw[-1] in _TRAILING:
        raw, tail = raw[:-1], raw[-1] + tail
    if not raw:
        return match.group(0)
    # The text may already hold entities (&amp;) because escaping ran first; decode them once
    # for the href, which escape() re-encodes, so "&amp;" never becomes "&amp;amp;".
    plain = unescape(raw)
    if match.group("mail"):
        href = "mailto:" + plain
    elif plain.lower().startswith("www."):
        href = "http://" + plain
    else:
        href = plain
    if safe_url(href) is None:
        return match.group(0)
    shown = plain if len(plain) <= max_length else plain[: max_length - 1] + "…"
    return f'<a href="{escape(href)}">{escape(shown)}</a>{tail}'


def _url_to_link(text: str, settings: Mapping[str, Any]) -> str:
    """Turn bare URLs and e-mail addresses in text (not in tags, links or code) into links."""
    max_length = int(settings.get("max_length", 72))
    out: list[str] = []
    skip_depth = 0
    for part in _TAG_OR_TEXT.split(text):
        if not part:
            continue
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in _SKIP_TAGS:
                skip_depth += -1 if part.startswith("</") else 1
                skip_depth = max(skip_depth, 0)
            out.append(part)
        elif skip_depth:
            out.append(part)
        else:
            out.append(_URL.sub(lambda m: _link_one(m, max_length), part))
    return "".join(out)


_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|ul|ol|dl|li|table|thead|tbody|tr|blockquote|pre|h[1-6]|hr|figure|section|"
    r"article|aside|header|footer|nav|address|details)[\s>/]",
    re.I,
)


def _line_breaks(text: str, settings: Mapping[str, Any]) -> str:
    """Blank-line separated chunks become paragraphs, single newlines ``<br>``.

    Chunks that already start with a block-level tag are left as written, so HTML typed with
    its own structure is not wrapped twice; text inside ``<pre>`` keeps its newlines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        return ""
    # Protect <pre> blocks: their newlines are content, not layout.
    pres: list[str] = []

    def keep(match: re.Match[str]) -> str:
        pres.append(match.group(0))
        return f"\x00pre{len(pres) - 1}\x00"

    text = re.sub(r"<pre[\s>].*?</pre>", keep, text, flags=re.S | re.I)
    chunks = [c.strip("\n") for c in re.split(r"\n\s*\n", text) if c.strip()]
    rendered: list[str] = []
    for chunk in chunks:
        if _BLOCK_START.match(chunk) or chunk.startswith("\x00pre"):
            rendered.append(chunk)
        else:
            rendered.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    result = "\n".join(rendered)
    return re.sub(r"\x00pre(\d+)\x00", lambda m: pres[int(m.group(1))], result)


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

    return nh3.clean(
        text,
        tags=tags,
        clean_content_tags={"script", "style"} - tags,
        attributes=attributes,
        attribute_filter=check_url,
        strip_comments=True,
        link_rel=settings.get("link_rel", "nofollow noopener") or None,
        url_schemes=schemes,
    )


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
):
    register_filter(_filter)


# --- formats ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterStep:
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)


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
    "full_html": {
        "label": "Full HTML",
        "weight": 20,
        "restricted": True,
        "filters": [],
    },
}

# Used when a format is unknown: never trust text whose format cannot be resolved.
_FALLBACK = TextFormat(
    "_fallback", "Escaped text", (FilterStep("escape_html"), FilterStep("line_breaks"))
)


class FormatRegistry:
    """The site's text formats. Built once per process from data; read-only while serving.

    Filtered text is remembered per (format, text) — Drupal's filter cache, kept in process:
    filters are pure functions of the text and their settings, so a popular item's body is
    filtered once per process instead of on every view. The cache is bounded (oldest entries
    leave first), skips long texts, and is emptied whenever a format is added or replaced.
    """

    CACHE_ENTRIES = 4096
    CACHE_MAX_TEXT = 64 * 1024

    def __init__(
        self,
        definitions: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        filters: Mapping[str, TextFilter] | None = None,
    ) -> None:
        self._filters = FILTERS if filters is None else filters
        self._formats: dict[str, TextFormat] = {}
        self._rendered: dict[tuple[str, str], Markup] = {}
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
        self._rendered.clear()

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
        key = (text_format.name, text)
        cached = self._rendered.get(key)
        if cached is not None:
            return cached
        source = text
        for step in text_format.filters:
            text_filter = self._filters[step.name]
            settings = {**text_filter.defaults, **step.settings}
            text = text_filter.function(text, settings)
        result = Markup(text)  # noqa: S704 - the chain is safe or the format is restricted
        if len(source) <= self.CACHE_MAX_TEXT:
            if len(self._rendered) >= self.CACHE_ENTRIES:
                # Insertion order is age; another thread may have evicted it already.
                with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                    del self._rendered[next(iter(self._rendered))]
            self._rendered[key] = result
        return result

    def permissions(self, provider: str = "system") -> list[Permission]:
        return [
            Permission(
                f.permission,
                f"Use the {f.label} text format",
                "Text in this format is shown without any HTML filtering." if f.restricted
                else "",
                restricted=f.restricted,
                provider=provider,
            )
            for f in self.all()
            if f.needs_permission
        ]

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


def format_permissions(registry: FormatRegistry | None = None) -> list[Permission]:
    """``use <format>`` permissions for the permission registry."""
    return (registry or default_registry()).permissions()
