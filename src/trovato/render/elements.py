"""Render elements as data: the element types, their properties, and builders for kernel code.

A render element is a JSON object. Keys starting with ``#`` are properties (``#type``,
``#weight``, ``#attributes``, ``#value``, ``#format``, ``#tag``, ``#href``, ``#text``,
``#items``, ``#ordered``, ``#header``, ``#rows``, ``#src``, ``#alt``, ``#title``,
``#template`` …); every other key names a child element. Plugins build these trees in the
guest and the kernel builds them with the helpers below; either way the same schema
(:data:`ELEMENT_TYPES`) decides what the sanitizer keeps and what the renderer draws.

This module also holds the two policies every layer shares, so the sanitizer, the text formats
and the renderer can never disagree about them: which URLs are safe (:func:`safe_url`) and which
attribute names are allowed (:func:`allowed_attribute_name`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from trovato.caches import BytesLRU, text_cache

RenderElement = dict[str, Any]
"""A render element: ``#``-keyed properties plus named children (JSON-compatible)."""

# --- URL policy -------------------------------------------------------------------------------

SAFE_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# The URL standard strips leading/trailing C0 controls and spaces and removes tab/CR/LF
# anywhere, which is how "java\tscript:" still runs script; mirror it before looking at the
# scheme. Zero-width and bidi characters are removed too: browsers do not, but a URL carrying
# them is never legitimate and removing them makes the check stricter, not weaker.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _scheme_of(url: str) -> str | None:
    """The scheme a browser would see, or ``""`` for a relative URL, or None if ambiguous."""
    cleaned = _INVISIBLE.sub("", url)
    match = _SCHEME.match(cleaned)
    if match:
        return match.group(1).lower()
    # A colon before the first "/", "?" or "#" without a valid scheme is not a relative URL
    # anyone means to write ("./a:b" is the unambiguous spelling) — refuse rather than guess how
    # some parser reads it.
    head = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    if ":" in head:
        return None
    return ""


def safe_url(value: object, *, schemes: Iterable[str] = SAFE_URL_SCHEMES) -> str | None:
    """Return ``value`` if it is a safe URL for an ``href``/``src``, else None.

    Safe means: a relative URL (path, query, fragment, or scheme-relative ``//host``), or an
    absolute URL whose scheme is in ``schemes`` (http, https, mailto by default). The scheme is
    checked on the raw text, on its entity-decoded forms and on its NFKC-normalized form, so
    entity, whitespace, control-character, case and full-width tricks all fail. The returned
    string is the original value; templates escape it when they put it in an attribute.
    """
    if not isinstance(value, str):
        return None
    length = len(value)
    if length > 8192:
        return None
    if schemes is not SAFE_URL_SCHEMES or length > 512:
        return value if _allows(value, frozenset(s.lower() for s in schemes)) else None
    # Pages repeat the same links (/item/…, menu paths) on every request; the check is a pure
    # function of the text, so each process decides each short URL once.
    allowed = _URL_DECISIONS.get(value)
    if allowed is None:
        allowed = _allows(value, SAFE_URL_SCHEMES)
        _URL_DECISIONS.put(value, allowed)
    return value if allowed else None


_URL_DECISIONS: BytesLRU[str, bool] = text_cache("url_policy", max_entry_bytes=4096,
                                                       recency=False)


def _allows(value: str, allowed: frozenset[str]) -> bool:
    candidates = {value, unicodedata.normalize("NFKC", value)}
    decoded = value
    for _ in range(3):  # entities nested inside entities ("&amp;#106;") decode in rounds
        step = html.unescape(decoded)
        if step == decoded:
            break
        decoded = step
        candidates.add(decoded)
        candidates.add(unicodedata.normalize("NFKC", decoded))
    for candidate in candidates:
        scheme = _scheme_of(candidate)
        if scheme is None or (scheme and scheme not in allowed):
            return False
    return True


# --- attribute names --------------------------------------------------------------------------

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9\-]{0,62}\Z")
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "class", "id", "title", "lang", "dir", "role", "hidden", "tabindex", "translate",
        "itemprop", "itemscope", "itemtype", "rel", "target", "hreflang", "download",
        "width", "height", "loading", "decoding", "colspan", "rowspan", "scope", "headers",
        "start", "reversed", "datetime", "cite", "href", "src",
    }
)
# Attributes whose value is a URL: they are only kept when safe_url accepts them.
URL_ATTRIBUTES: frozenset[str] = frozenset({"href", "src", "cite", "itemtype"})


def allowed_attribute_name(name: object, *, allow_style: bool = False) -> bool:
    """Whether an attribute NAME may appear in rendered output.

    Event handlers (``on*``) never pass; ``style`` only when the caller allows it; ``data-*``
    and ``aria-*`` pass with a conservative character set.
    """
    if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
        return False
    if name.startswith("on"):
        return False
    if name == "style":
        return allow_style
    if name.startswith(("data-", "aria-")):
        return len(name) > 5
    return name in ALLOWED_ATTRIBUTES


# --- element schema ---------------------------------------------------------------------------


class Prop(Enum):
    """The kind of value a ``#`` property holds; the sanitizer checks and coerces by kind."""

    TEXT = "text"  # a plain string, escaped on output
    INT = "int"
    NUMBER = "number"
    BOOL = "bool"
    URL = "url"  # checked with safe_url
    FORMAT = "format"  # a text format name (#format)
    SLUG = "slug"  # a machine name: [a-z0-9_]+, used in template suggestions
    ATTRIBUTES = "attributes"
    TEMPLATE = "template"  # a suggestion of the element's own type
    ITEMS = "items"  # a list of strings or elements
    ROWS = "rows"  # a list of lists of strings or elements
    CELLS = "cells"  # a list of strings or elements (a table header)
    MESSAGES = "messages"  # a list of {"type", "text"}
    QUERY = "query"  # a flat {name: value} mapping of strings
    VARIABLES = "variables"  # {name: JSON data}: template variables from preprocess taps
    OPTIONS = "options"  # a flat {key: label} mapping of strings (choices of a form input)


COMMON_PROPS: dict[str, Prop] = {
    "#type": Prop.SLUG,
    "#weight": Prop.NUMBER,
    "#attributes": Prop.ATTRIBUTES,
    "#template": Prop.TEMPLATE,
    "#title": Prop.TEXT,
}

BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "div", "section", "article", "aside", "header", "footer", "nav", "main", "span", "p",
        "ul", "ol", "blockquote", "figure", "figcaption", "h2", "h3", "h4", "h5", "h6",
    }
)
INLINE_TAGS: frozenset[str] = frozenset(
    {"span", "p", "div", "strong", "em", "small", "code", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "figcaption", "li", "dt", "dd", "time"}
)


@dataclass(frozen=True, slots=True)
class ElementType:
    """What one ``#type`` accepts: its properties, its tags and whether it has children."""

    name: str
    props: Mapping[str, Prop]
    tags: frozenset[str] = frozenset()
    default_tag: str | None = None
    children: bool = True
    required: frozenset[str] = field(default_factory=frozenset)

    def prop(self, key: str) -> Prop | None:
        return COMMON_PROPS.get(key) or self.props.get(key)


# -- form elements (the form API, :mod:`trovato.forms`) ----------------------------------------
# An input names what the browser submits (``#name``) and shows ``#default_value``; the form
# API fills in ``#id`` and, after a failed submission, ``#error`` (``#error_key`` names the
# error an element shows when it is not its ``#name``: a widget's group, a whole field;
# ``#error_title`` what its messages call it when its ``#title`` alone is ambiguous).
_INPUT: dict[str, Prop] = {
    "#name": Prop.TEXT, "#default_value": Prop.TEXT, "#required": Prop.BOOL,
    "#description": Prop.TEXT, "#error": Prop.TEXT, "#error_key": Prop.TEXT, "#id": Prop.TEXT,
    "#error_title": Prop.TEXT,
    "#placeholder": Prop.TEXT, "#maxlength": Prop.INT, "#autocomplete": Prop.TEXT,
    "#disabled": Prop.BOOL,
}
_GROUP: dict[str, Prop] = {
    "#description": Prop.TEXT, "#error": Prop.TEXT, "#error_key": Prop.TEXT, "#id": Prop.TEXT,
    "#required": Prop.BOOL,
}
_CHOICES: dict[str, Prop] = {**_INPUT, "#options": Prop.OPTIONS}
FORM_INPUT_TYPES: frozenset[str] = frozenset({
    "textfield", "textarea", "password", "email", "url", "number", "date", "datetime",
    "hidden", "file", "checkbox", "checkboxes", "radios", "select",
})
"""Form element types whose value the browser submits under ``#name``."""

FORM_ELEMENT_TYPES: tuple[ElementType, ...] = (
    ElementType("form", {"#action": Prop.URL, "#method": Prop.SLUG, "#form_id": Prop.SLUG,
                         "#multipart": Prop.BOOL}),
    *(ElementType(name, _INPUT, children=False)
      for name in ("textfield", "textarea", "password", "email", "url", "date", "hidden",
                   "file")),
    ElementType("number", {**_INPUT, "#step": Prop.TEXT, "#min": Prop.TEXT, "#max": Prop.TEXT},
                children=False),
    ElementType("datetime", {**_INPUT, "#timezone": Prop.TEXT}, children=False),
    ElementType("checkbox", {**_INPUT, "#return_value": Prop.TEXT}, children=False),
    ElementType("checkboxes", {**_CHOICES, "#default_value": Prop.ITEMS}, children=False),
    ElementType("radios", _CHOICES, children=False),
    ElementType("select", {**_CHOICES, "#empty_option": Prop.BOOL}, children=False),
    ElementType("fieldset", _GROUP),
    ElementType("details", {**_GROUP, "#open": Prop.BOOL}),
    ElementType("actions", {}),
    ElementType("submit", {"#name": Prop.TEXT, "#value": Prop.TEXT, "#id": Prop.TEXT},
                children=False),
)

ELEMENT_TYPES: dict[str, ElementType] = {
    t.name: t
    for t in (
        ElementType("container", {}, BLOCK_TAGS, "div"),
        ElementType(
            "markup",
            {"#value": Prop.TEXT, "#format": Prop.FORMAT},
            INLINE_TAGS | BLOCK_TAGS,
            None,
            children=False,
        ),
        ElementType(
            "link",
            {"#href": Prop.URL, "#text": Prop.TEXT},
            children=False,
            required=frozenset({"#text"}),
        ),
        ElementType(
            "list",
            {"#items": Prop.ITEMS, "#ordered": Prop.BOOL},
            frozenset({"div", "nav", "section", "aside"}),
            "div",
            children=False,
        ),
        ElementType(
            "table",
            {"#header": Prop.CELLS, "#rows": Prop.ROWS, "#caption": Prop.TEXT,
             "#empty": Prop.TEXT},
            children=False,
        ),
        ElementType(
            "image",
            {"#src": Prop.URL, "#alt": Prop.TEXT, "#width": Prop.INT, "#height": Prop.INT},
            children=False,
            required=frozenset({"#src"}),
        ),
        ElementType(
            "field",
            {"#field_name": Prop.SLUG, "#field_type": Prop.SLUG, "#label": Prop.TEXT,
             "#label_display": Prop.SLUG, "#items": Prop.ITEMS},
            frozenset({"div", "section"}),
            "div",
            children=False,
        ),
        ElementType(
            "item",
            {"#item_type": Prop.SLUG, "#view_mode": Prop.SLUG, "#href": Prop.URL,
             "#variables": Prop.VARIABLES},
            frozenset({"article", "div", "section"}),
            "article",
        ),
        ElementType(
            "pager",
            {"#page": Prop.INT, "#pages": Prop.INT, "#href": Prop.URL, "#query": Prop.QUERY},
            children=False,
        ),
        ElementType("status_messages", {"#messages": Prop.MESSAGES}, children=False),
        *FORM_ELEMENT_TYPES,
    )
}


LABEL_DISPLAYS = frozenset({"above", "inline", "hidden", "visually_hidden"})
MESSAGE_TYPES = frozenset({"status", "warning", "error"})


def element_type(element: Mapping[str, Any]) -> str:
    """The ``#type`` of an element; an element without one is a container."""
    value = element.get("#type", "container")
    return value if isinstance(value, str) else ""


def children(element: Mapping[str, Any]) -> list[tuple[str, RenderElement]]:
    """Named children in ``#weight`` order; equal weights keep their insertion order."""
    # A plain loop with inline tests (no comprehension, no ``items()``, no ``startswith`` or
    # ``isinstance`` per key): every walk and every rendering asks this of every element, and
    # most are leaves, which now cost no call beyond this one.
    found: list[tuple[str, RenderElement]] = []
    for k in element:
        if k[:1] != "#":
            v = element[k]
            if type(v) is dict or isinstance(v, dict):
                found.append((k, v))
    if len(found) > 1:
        # list.sort is stable, so equal weights keep the order the builder (or plugin) chose.
        found.sort(key=_child_weight)
    return found


def _child_weight(child: tuple[str, Mapping[str, Any]]) -> float:
    weight: object = child[1].get("#weight", 0)
    if type(weight) is int or type(weight) is float:  # the common case, without isinstance
        return weight
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return 0.0
    return float(weight)


# --- builders ---------------------------------------------------------------------------------
# Small typed helpers so kernel code never spells "#"-keys by hand. Each returns a plain dict,
# exactly what a plugin would send, so both paths end in the same renderer (plugin trees pass
# the sanitizer first).


def _base(
    type_: str,
    *,
    weight: float | None,
    attributes: Mapping[str, Any] | None,
    template: str | None = None,
) -> RenderElement:
    element: RenderElement = {"#type": type_}
    if weight is not None:
        element["#weight"] = weight
    if attributes:
        element["#attributes"] = dict(attributes)
    if template:
        element["#template"] = template
    return element


def container(
    children_: Mapping[str, RenderElement] | None = None,
    *,
    tag: str = "div",
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> RenderElement:
    """A wrapper for named children (``children_`` keys must not start with ``#``)."""
    element = _base("container", weight=weight, attributes=attributes)
    element["#tag"] = tag
    if title is not None:
        element["#title"] = title
    for name, child in (children_ or {}).items():
        if name.startswith("#"):
            raise ValueError(f"child name {name!r} must not start with '#'")
        element[name] = child
    return element


def markup(
    value: str,
    *,
    format: str | None = None,
    tag: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    """Text: escaped when ``format`` is None, else run through that text format's filters."""
    element = _base("markup", weight=weight, attributes=attributes)
    element["#value"] = value
    if format is not None:
        element["#format"] = format
    if tag is not None:
        element["#tag"] = tag
    return element


def link(
    text: str,
    href: str,
    *,
    title: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    element = _base("link", weight=weight, attributes=attributes)
    element["#text"] = text
    element["#href"] = href
    if title is not None:
        element["#title"] = title
    return element


def item_list(
    items: Sequence[str | RenderElement],
    *,
    ordered: bool = False,
    title: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    element = _base("list", weight=weight, attributes=attributes)
    element["#items"] = list(items)
    element["#ordered"] = ordered
    if title is not None:
        element["#title"] = title
    return element


def table(
    header: Sequence[str | RenderElement],
    rows: Sequence[Sequence[str | RenderElement]],
    *,
    caption: str | None = None,
    empty: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    element = _base("table", weight=weight, attributes=attributes)
    element["#header"] = list(header)
    element["#rows"] = [list(row) for row in rows]
    if caption is not None:
        element["#caption"] = caption
    if empty is not None:
        element["#empty"] = empty
    return element


def image(
    src: str,
    alt: str,
    *,
    title: str | None = None,
    width: int | None = None,
    height: int | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    """An image; ``alt`` is required (pass ``""`` for a decorative image)."""
    element = _base("image", weight=weight, attributes=attributes)
    element["#src"] = src
    element["#alt"] = alt
    if title is not None:
        element["#title"] = title
    if width is not None:
        element["#width"] = width
    if height is not None:
        element["#height"] = height
    return element


def field_element(
    field_name: str,
    items: Sequence[str | RenderElement],
    *,
    label: str | None = None,
    label_display: str = "above",
    field_type: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    """One field of an item: its label and one rendered element (or string) per value."""
    if label_display not in LABEL_DISPLAYS:
        raise ValueError(f"label_display must be one of {sorted(LABEL_DISPLAYS)}")
    element = _base("field", weight=weight, attributes=attributes)
    element["#field_name"] = field_name
    element["#items"] = list(items)
    element["#label_display"] = label_display
    if label is not None:
        element["#label"] = label
    if field_type is not None:
        element["#field_type"] = field_type
    return element


def item_element(
    item_type: str,
    view_mode: str,
    children_: Mapping[str, RenderElement] | None = None,
    *,
    title: str | None = None,
    href: str | None = None,
    weight: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> RenderElement:
    """An item in a view mode (``full``, ``teaser`` …); children are usually its fields."""
    element = container(children_, tag="article", weight=weight, attributes=attributes)
    element["#type"] = "item"
    element["#item_type"] = item_type
    element["#view_mode"] = view_mode
    if title is not None:
        element["#title"] = title
    if href is not None:
        element["#href"] = href
    return element


def pager(
    page: int,
    pages: int,
    *,
    href: str | None = None,
    query: Mapping[str, str] | None = None,
    weight: float | None = None,
) -> RenderElement:
    """Page links for a listing; ``page`` is 0-based, links carry ``?page=N`` plus ``query``."""
    element = _base("pager", weight=weight, attributes=None)
    element["#page"] = page
    element["#pages"] = pages
    if href is not None:
        element["#href"] = href
    if query:
        element["#query"] = dict(query)
    return element


def status_messages(
    messages: Iterable[tuple[str, str]], *, weight: float | None = None
) -> RenderElement:
    """Status/warning/error messages, given as ``(type, text)`` pairs."""
    element = _base("status_messages", weight=weight, attributes=None)
    element["#messages"] = [{"type": kind, "text": text} for kind, text in messages]
    return element
