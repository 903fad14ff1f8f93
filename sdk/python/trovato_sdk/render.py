"""Render-tree builders: plugins return structure, never HTML (DESIGN §2.3, §7).

Every builder returns an :class:`Element`, a ``dict`` with ``#``-keys (``#type``, ``#weight``,
``#attributes``, ``#value``, ``#format``, ``#tag``, ``#href``, ``#items``, ``#ordered``,
``#header``, ``#rows``, ``#src``, ``#alt``) and named children under plain keys. Because an
element *is* a dict, it crosses the sandbox boundary as JSON unchanged and alter taps can edit
it in place.

Text without a ``format`` is escaped by the kernel; text with a format goes through that
format's sanitizer. Nothing here can produce raw HTML.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = ["Element", "container", "image", "link", "list", "markup", "table"]


class Element(dict[str, Any]):
    """A render element. The chaining methods return the element itself."""

    def child(self, name: str, element: Any) -> Element:
        """Add (or replace) the child ``name``. Names must not start with ``#``."""
        if not isinstance(name, str) or not name or name.startswith("#"):
            raise ValueError(f"child names are non-empty strings without '#': {name!r}")
        self[name] = element
        return self

    def weight(self, n: int) -> Element:
        """Order among siblings: lower weights render first."""
        self["#weight"] = int(n)
        return self

    def cls(self, name: str) -> Element:
        """Add a CSS class (kept once, in insertion order)."""
        classes = self._attributes().setdefault("class", [])
        if name not in classes:
            classes.append(name)
        return self

    def attr(self, key: str, value: Any) -> Element:
        """Set an HTML attribute; the kernel allow-lists names and URL schemes."""
        if key == "class":
            for name in value.split() if isinstance(value, str) else value:
                self.cls(name)
            return self
        self._attributes()[key] = value
        return self

    def _attributes(self) -> dict[str, Any]:
        attributes = self.get("#attributes")
        if not isinstance(attributes, dict):
            attributes = {}
            self["#attributes"] = attributes
        return attributes


def _element(type_: str, **props: Any) -> Element:
    element = Element({"#type": type_})
    for key, value in props.items():
        if value is not None:
            element["#" + key] = value
    return element


def container(
    cls: str | None = None, attrs: dict[str, Any] | None = None, tag: str = "div"
) -> Element:
    """A wrapper element whose children are rendered inside ``<tag>``."""
    element = _element("container", tag=tag)
    for key, value in (attrs or {}).items():
        element.attr(key, value)
    if cls:
        for name in cls.split():
            element.cls(name)
    return element


def markup(value: Any, tag: str = "div", format: str | None = None) -> Element:
    """Text in ``<tag>``: escaped when ``format`` is None, else filtered by that text format."""
    return _element("markup", value="" if value is None else str(value), tag=tag, format=format)


def link(href: str, text: str) -> Element:
    """A link; the kernel allow-lists URL schemes (no ``javascript:``)."""
    return _element("link", href=str(href), text=str(text))


def list(items: builtins.list[Any], ordered: bool = False) -> Element:
    """A list of elements or plain strings (strings are escaped); ``ordered`` numbers them.

    The kernel picks ``<ul>`` or ``<ol>`` from ``#ordered``; a list's ``#tag`` is only the
    wrapper around it (``div``, ``nav``, …), so none is set here."""
    return _element("list", items=builtins.list(items), ordered=bool(ordered))


def table(header: builtins.list[Any], rows: builtins.list[builtins.list[Any]]) -> Element:
    """A table: ``header`` cells and ``rows`` of cells (elements or plain strings)."""
    return _element(
        "table", header=builtins.list(header), rows=[builtins.list(row) for row in rows]
    )


def image(src: str, alt: str) -> Element:
    """An image; ``alt`` is required so every image has a text alternative."""
    return _element("image", src=str(src), alt=str(alt))
