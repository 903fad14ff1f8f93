"""Python twins of the kernel's element templates, for the elements no theme overrides.

An item page renders dozens of small elements (each field, each value, each link). Drawing one
through Jinja2 costs a variables dict, an ``Attributes`` object, a template context, a
generator and a join — most of an uncached item page's render time. A twin reads the element
itself and returns its HTML as a ``str``, producing *exactly* the output of the kernel's
``render/templates/elements/<type>.html`` for that element. The engine uses a twin whenever the
template it resolves for an element is the kernel's own and no preprocess variables could
change what the template would see; a theme that provides any suggestion for an element
(``field.html``, ``field--field_body.html``, ``item--blog--teaser.html`` …) gets its template
rendered by Jinja as before.

Equality with the templates is enforced by ``tests/render/test_native.py``, which renders a
corpus of elements (the XSS corpus included) both ways: change a kernel element template and
that test names the twin to change with it. Every value reaches the output through
:func:`escape_html`, exactly as autoescaping would put it there, and the attribute and URL
policies are the ones every layer shares (:mod:`trovato.render.elements`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from markupsafe import Markup

from trovato.caches import BytesLRU, text_cache
from trovato.render.elements import (
    ELEMENT_TYPES,
    allowed_attribute_name,
    children,
    safe_url,
)
from trovato.render.formats import FormatRegistry

Element = Mapping[str, Any]


class Drawer(Protocol):
    """What a twin needs from the engine: its policies and a way to draw a child element."""

    allow_style: bool
    formats: FormatRegistry

    def html(self, element: Element) -> str: ...


Twin = Callable[[Drawer, Element], str]


try:  # markupsafe's own C escaper (what ``escape`` runs), returning a plain str
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - markupsafe built without its speedups
    def _escape_text(s: str, /) -> str:
        return (s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
                .replace("'", "&#39;").replace('"', "&#34;"))


def escape_many(values: Sequence[str]) -> list[str]:
    """``{{ value }}`` for each of ``values`` (plain ``str``, not Markup), in a few calls
    rather than one per value: joined by NUL (which no escaping touches), escaped, split —
    unless a value holds a NUL itself, when they are escaped one by one."""
    if not values:
        return []
    joined = "\0".join(values)
    if joined.count("\0") != len(values) - 1:
        return [_escape_text(value) for value in values]
    return _escape_text(joined).split("\0")


def escape_html(value: object) -> str:
    """``{{ value }}`` under autoescaping, as a plain ``str``: objects with ``__html__``
    (Markup, Attributes) pass through, anything else is ``str()``-ed and escaped with
    markupsafe's exact entities (``&#34;``/``&#39;`` for quotes) — without building a Markup
    object per value, which dominated rendering time."""
    if type(value) is str:  # the common case first: a plain string has no __html__
        return _escape_text(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    return _escape_text(str(value))


_e = escape_html


def plain(value: object) -> str:
    """``value`` as an ordinary ``str`` — never Markup, so escaping still applies."""
    text = str(value)
    return str.__str__(text) if isinstance(text, Markup) else text


# --- attributes -------------------------------------------------------------------------------
# One implementation of the attribute policy for the twins and for the templates' Attributes.


def attribute_values(
    raw: Mapping[str, Any] | None, classes: Iterable[object] = ()
) -> dict[str, str | bool]:
    """Attribute values as a template sees them: None/False dropped, True kept as a bare
    attribute, a list or tuple (``{"class": ["a", "b"]}``, as Drupal writes classes) its
    items' text joined by spaces, everything else plain text; ``classes`` are appended to
    ``class`` once each."""
    values: dict[str, str | bool] = {}
    if raw:
        for name, value in raw.items():
            if value is None or value is False:
                continue
            if isinstance(value, list | tuple):
                values[str(name)] = " ".join(plain(part) for part in value if part is not None)
            else:
                values[str(name)] = True if value is True else plain(value)
    if classes:
        current = str(values.get("class", "") or "").split()
        for extra in classes:
            text = plain(extra)
            if text and text not in current:
                current.append(text)
        if current:
            values["class"] = " ".join(current)
    return values


def attributes_html(values: Mapping[str, str | bool], *, allow_style: bool) -> str:
    """`` name="value"`` pairs: names allow-listed (never ``on*``), URL values checked."""
    parts = []
    for name, value in values.items():
        if not allowed_attribute_name(name, allow_style=allow_style):
            continue
        if name in ("href", "src", "cite") and safe_url(value) is None:
            continue
        parts.append(f" {name}" if value is True else f' {name}="{_e(value)}"')
    return "".join(parts)


# (style policy, classes, raw items) -> attribute text. Values can come from content: bounded
# in bytes, and a set of attributes longer than a short URL is rendered each time instead.
_ATTRIBUTE_TEXT: BytesLRU[tuple[object, ...], str] = text_cache(
    "attribute_text", max_entry_bytes=2048, recency=False)


def attribute_text(d: Drawer, e: Element, *classes: str) -> str:
    raw = e.get("#attributes")
    if not raw and not classes:
        return ""
    # The text is a pure function of the classes, the raw attributes and the style policy,
    # and kernel elements repeat the same few on every page (``field field--field_body …``,
    # ``{"class": "item__meta"}``): compute each combination once per process. Only string
    # values are remembered: True == 1 and False == 0 as keys, yet they render differently.
    key: tuple[object, ...] | None = (d.allow_style, classes)
    if raw:
        strings = all(type(value) is str for value in raw.values())
        key = (d.allow_style, classes, *raw.items()) if strings else None
    found = _ATTRIBUTE_TEXT.get(key) if key is not None else None
    if found is None:
        found = attributes_html(attribute_values(raw, classes), allow_style=d.allow_style)
        if key is not None:
            _ATTRIBUTE_TEXT.put(key, found)
    return found


def _has_attributes(e: Element) -> bool:
    """``{% if attributes %}``: any value that is not None/False, allowed or not."""
    raw = e.get("#attributes")
    return raw is not None and any(v is not None and v is not False for v in raw.values())


# --- element parts ----------------------------------------------------------------------------


def _tag(e: Element, type_name: str) -> str | None:
    """The element's ``#tag`` if its type allows it, else the type's default tag."""
    tag = e.get("#tag")
    spec = ELEMENT_TYPES[type_name]
    return tag if tag in spec.tags else spec.default_tag


def children_html(d: Drawer, e: Element) -> str:
    return "".join([d.html(child) for _, child in children(e)])


def _cell(d: Drawer, c: object) -> str:
    """One of ``#items``: an element drawn, anything else escaped as text (Markup included)."""
    return d.html(c) if isinstance(c, dict) else _e(c if type(c) is str else plain(c))


def _cells(d: Drawer, e: Element) -> list[str]:
    return [_cell(d, c) for c in e.get("#items") or ()]


def value_html(d: Drawer, e: Element) -> str:
    """``#value`` through its format's filter chain; without a format, escaped as written."""
    if "#value" not in e:
        return ""
    fmt = e.get("#format")
    if fmt is None:
        return _e(plain(e["#value"]))
    return str(d.formats.render(e["#value"], fmt))


# --- the twins --------------------------------------------------------------------------------


def container(d: Drawer, e: Element) -> str:
    tag = _e(_tag(e, "container") or "div")
    title = e.get("#title")
    heading = f"<h2>{_e(title)}</h2>\n" if title else ""
    return f"<{tag}{attribute_text(d, e)}>\n{heading}{children_html(d, e)}\n</{tag}>"


def field(d: Drawer, e: Element) -> str:
    display = e.get("#label_display") or "above"
    tag = _e(_tag(e, "field") or "div")
    name = e.get("#field_name") or "unnamed"
    classes = attribute_text(d, e, "field", f"field--{name}", f"field--label-{display}")
    parts = [f"<{tag}{classes}>\n"]
    label = e.get("#label")
    if label and display != "hidden":
        hidden = " visually-hidden" if display == "visually_hidden" else ""
        parts.append(f'<div class="field__label{hidden}">{_e(label)}</div>\n')
    values: Sequence[object] = e.get("#items") or ()
    if len(values) == 1:  # most fields: one value, drawn without a list of one
        parts.append(f'<div class="field__item">{_cell(d, values[0])}</div>\n')
    else:
        parts.append('<div class="field__items">\n')
        parts.extend(f'<div class="field__item">{_cell(d, value)}</div>\n' for value in values)
        parts.append("</div>\n")
    parts.append(f"</{tag}>")
    return "".join(parts)


def item(d: Drawer, e: Element) -> str:
    tag = _e(_tag(e, "item") or "article")
    item_type = str(e["#item_type"]) if "#item_type" in e else ""
    view_mode = e.get("#view_mode")
    mode = str(view_mode) if "#view_mode" in e else ""
    attributes = attribute_text(d, e, "item", f"item--{item_type}", f"item--{mode}")
    heading = ""
    title = e.get("#title")
    if title and view_mode != "full":
        href = safe_url(e["#href"]) if "#href" in e else None
        text = _e(title) if href is None else f'<a href="{_e(href)}">{_e(title)}</a>'
        heading = f'<h2 class="item__title">{text}</h2>\n'
    return (f"<{tag}{attributes}>\n{heading}<div class=\"item__content\">\n"
            f"{children_html(d, e)}\n</div>\n</{tag}>")


def link(d: Drawer, e: Element) -> str:
    text = _e(e.get("#text", ""))
    href = safe_url(e["#href"]) if "#href" in e else None
    if href is None:
        return f"<span{attribute_text(d, e)}>{text}</span>"
    title = e.get("#title")
    title_attribute = f' title="{_e(title)}"' if title else ""
    return f'<a href="{_e(href)}"{title_attribute}{attribute_text(d, e)}>{text}</a>'


def markup(d: Drawer, e: Element) -> str:
    value = value_html(d, e)
    tag = _tag(e, "markup")
    if tag:
        return f"<{_e(tag)}{attribute_text(d, e)}>{value}</{_e(tag)}>"
    if _has_attributes(e):
        return f"<div{attribute_text(d, e)}>{value}</div>"
    return value


def list_(d: Drawer, e: Element) -> str:
    list_tag = "ol" if e.get("#ordered") else "ul"
    tag = _e(_tag(e, "list") or "div")
    title = e.get("#title")
    heading = f"<h3>{_e(title)}</h3>\n" if title else ""
    rows = "".join(f"<li>{entry}</li>\n" for entry in _cells(d, e))
    return (f"<{tag}{attribute_text(d, e, 'item-list')}>\n{heading}<{list_tag}>\n{rows}"
            f"</{list_tag}>\n</{tag}>")


def image(d: Drawer, e: Element) -> str:
    src = safe_url(e["#src"]) if "#src" in e else None
    if src is None:
        return ""
    extra = "".join(f' {name}="{_e(e[key])}"'
                    for name, key in (("title", "#title"), ("width", "#width"),
                                      ("height", "#height"))
                    if e.get(key))
    return (f'<img src="{_e(src)}" alt="{_e(e.get("#alt") or "")}"{extra}'
            f' loading="lazy"{attribute_text(d, e)}>')


def pager_variables(e: Element) -> dict[str, Any]:
    """What ``elements/pager.html`` shows of a pager element (its template's variables)."""
    pages = max(int(e.get("#pages", 0)), 0)
    page = min(max(int(e.get("#page", 0)), 0), max(pages - 1, 0))
    base = safe_url(e.get("#href")) or ""
    query = {k: v for k, v in dict(e.get("#query", {})).items() if k != "page"}

    def href(number: int) -> str:
        params = {**query, **({"page": str(number)} if number else {})}
        if not params:
            return base or "?"
        return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"

    # A window of pages around the current one keeps long listings' pagers short.
    first, last = max(page - 4, 0), min(page + 5, pages)
    return {
        "page": page,
        "pages": pages,
        "links": [
            {"number": n + 1, "href": href(n), "current": n == page}
            for n in range(first, last)
        ],
        "previous": href(page - 1) if page > 0 else None,
        "next": href(page + 1) if page + 1 < pages else None,
        "first": href(0) if first > 0 else None,
        "last": href(pages - 1) if last < pages else None,
    }


def pager(d: Drawer, e: Element) -> str:
    v = pager_variables(e)
    if not v["pages"] > 1:
        return ""
    parts = ['<nav class="pager" aria-label="Pages">\n<ul>\n']
    if v["first"]:
        parts.append(f'<li><a href="{_e(v["first"])}">« First</a></li>')
    if v["previous"]:
        parts.append(f'<li><a href="{_e(v["previous"])}" rel="prev">\u2039 Previous</a></li>')
    for link in v["links"]:
        number = _e(link["number"])
        parts.append(f'<li><span aria-current="page">{number}</span></li>\n' if link["current"]
                     else f'<li><a href="{_e(link["href"])}">{number}</a></li>\n')
    if v["next"]:
        parts.append(f'<li><a href="{_e(v["next"])}" rel="next">Next \u203a</a></li>')
    if v["last"]:
        parts.append(f'<li><a href="{_e(v["last"])}">Last »</a></li>')
    parts.append("</ul>\n</nav>\n")
    return "".join(parts)


TWINS: dict[str, Twin] = {
    "elements/container.html": container,
    "elements/field.html": field,
    "elements/item.html": item,
    "elements/link.html": link,
    "elements/markup.html": markup,
    "elements/list.html": list_,
    "elements/image.html": image,
    "elements/pager.html": pager,
}
"""Kernel element template name → its Python twin (tables and messages, rendered a few
times per page at most, stay with their templates)."""
