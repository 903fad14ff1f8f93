"""Text formats: named, ordered filter chains that turn stored text into safe HTML.

A text value (``{"value": "...", "format": "filtered_html"}``, DESIGN §5) is rendered by its
format's filter chain. Formats are data — a list of filter names with settings — so the admin
UI and configuration export can define new ones; the filters themselves live in a registry of
Python functions (:mod:`trovato.render.filters`). Four formats ship:

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

Every filter runs in time linear in the length of its text, whatever the text holds (see
:mod:`trovato.render.filters`). Texts are bounded too: the content
service refuses to store more than :data:`MAX_TEXT_LENGTH` characters in one value, and a
longer one that reaches rendering anyway is cut to that length (with a warning in the log).
Rendering big texts off the event loop is the renderer's part (:data:`OFF_LOOP_LENGTH`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from trovato.caches import BytesLRU, text_cache
from trovato.render.filters import FILTERS, FilterSafety, TextFilter

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


class FormatError(ValueError):
    """A format definition names an unknown filter or would let unsafe HTML through."""


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

    @property
    def generation(self) -> int:
        """A number that changes whenever a format is added or replaced: what is worked out
        from the formats can be kept under it."""
        return self._generation

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
