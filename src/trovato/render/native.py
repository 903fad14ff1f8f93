"""Python twins of the kernel's element templates, for the elements no theme overrides.

An item page renders dozens of small elements (each field, each value, each link), and a
Jinja2 ``Template.render`` costs a context, a generator and a join per element — most of an
uncached item page's render time. These functions produce *exactly* the output of the kernel's
``render/templates/elements/<type>.html`` from the same variables (the renderer's
``_variables``), so the engine uses them whenever the template it resolved for an element is
the kernel's own. A theme that provides any suggestion for an element (``field.html``,
``field--field_body.html``, ``item--blog--teaser.html`` …) gets its template rendered by Jinja
as before.

Equality with the templates is enforced by ``tests/render/test_native.py``, which renders a
corpus of elements (the XSS corpus included) both ways: change a kernel element template and
that test names the twin to change with it. Every value reaches the output through
:func:`markupsafe.escape`, exactly as autoescaping would put it there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Variables = Mapping[str, Any]
NativeRenderer = Callable[[Variables], str]


def escape_html(value: object) -> str:
    """``{{ value }}`` under autoescaping, as a plain ``str``: objects with ``__html__``
    (Markup, Attributes) pass through, anything else is ``str()``-ed and escaped with
    markupsafe's exact entities (``&#34;``/``&#39;`` for quotes) — without building a Markup
    object per value, which dominated rendering time."""
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    text = value if isinstance(value, str) else str(value)
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


_e = escape_html


def _cat(variables: Variables, name: str) -> str:
    """``"…" ~ name`` in a template: an undefined variable concatenates as ""."""
    return str(variables[name]) if name in variables else ""


def _tag(variables: Variables, default: str) -> str:
    return _e(variables.get("tag") or default)


def _attributes(variables: Variables, *classes: str) -> str:
    attributes = variables["attributes"]
    return _e(attributes.with_class(*classes) if classes else attributes)


def container(v: Variables) -> str:
    tag = _tag(v, "div")
    title = f"<h2>{_e(v['title'])}</h2>\n" if v.get("title") else ""
    return f"<{tag}{_attributes(v)}>\n{title}{_e(v['children'])}\n</{tag}>"


def field(v: Variables) -> str:
    display = v.get("label_display") or "above"
    tag = _tag(v, "div")
    name = v.get("field_name") or "unnamed"
    parts = [f"<{tag}{_attributes(v, 'field', f'field--{name}', f'field--label-{display}')}>\n"]
    if v.get("label") and display != "hidden":
        hidden = " visually-hidden" if display == "visually_hidden" else ""
        parts.append(f'<div class="field__label{hidden}">{_e(v["label"])}</div>\n')
    items = v.get("items") or []
    if len(items) == 1:
        parts.append(f'<div class="field__item">{_e(items[0])}</div>\n')
    else:
        parts.append('<div class="field__items">\n')
        parts.extend(f'<div class="field__item">{_e(item)}</div>\n' for item in items)
        parts.append("</div>\n")
    parts.append(f"</{tag}>")
    return "".join(parts)


def item(v: Variables) -> str:
    tag = _tag(v, "article")
    attributes = _attributes(v, "item", f"item--{_cat(v, 'item_type')}",
                             f"item--{_cat(v, 'view_mode')}")
    heading = ""
    title = v.get("title")
    if title and v.get("view_mode") != "full":
        href = v.get("href")
        text = _e(title) if href is None else f'<a href="{_e(href)}">{_e(title)}</a>'
        heading = f'<h2 class="item__title">{text}</h2>\n'
    return (f"<{tag}{attributes}>\n{heading}<div class=\"item__content\">\n"
            f"{_e(v['children'])}\n</div>\n</{tag}>")


def link(v: Variables) -> str:
    text = _e(v.get("text", ""))
    href = v.get("href")
    if href is None:
        return f"<span{_attributes(v)}>{text}</span>"
    title = f' title="{_e(v["title"])}"' if v.get("title") else ""
    return f'<a href="{_e(href)}"{title}{_attributes(v)}>{text}</a>'


def markup(v: Variables) -> str:
    value = _e(v.get("value", ""))
    tag = v.get("tag")
    if tag:
        return f"<{_e(tag)}{_attributes(v)}>{value}</{_e(tag)}>"
    if v["attributes"]:
        return f"<div{_attributes(v)}>{value}</div>"
    return value


def list_(v: Variables) -> str:
    list_tag = "ol" if v.get("ordered") else "ul"
    tag = _tag(v, "div")
    title = f"<h3>{_e(v['title'])}</h3>\n" if v.get("title") else ""
    rows = "".join(f"<li>{_e(entry)}</li>\n" for entry in v.get("items") or [])
    return (f"<{tag}{_attributes(v, 'item-list')}>\n{title}<{list_tag}>\n{rows}"
            f"</{list_tag}>\n</{tag}>")


def image(v: Variables) -> str:
    src = v.get("src")
    if src is None:
        return ""
    extra = "".join(f' {name}="{_e(v[name])}"' for name in ("title", "width", "height")
                    if v.get(name))
    return (f'<img src="{_e(src)}" alt="{_e(v.get("alt") or "")}"{extra}'
            f' loading="lazy"{_attributes(v)}>')


NATIVE: dict[str, NativeRenderer] = {
    "elements/container.html": container,
    "elements/field.html": field,
    "elements/item.html": item,
    "elements/link.html": link,
    "elements/markup.html": markup,
    "elements/list.html": list_,
    "elements/image.html": image,
}
"""Kernel element template name → its Python twin (tables, pagers and messages, rendered a
few times per page at most, stay with their templates)."""
