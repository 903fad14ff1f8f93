"""Validate and sanitize render trees from untrusted sources (plugins, stored configuration).

:func:`sanitize` returns a new tree that holds only what :data:`~trovato.render.elements.
ELEMENT_TYPES` allows: known ``#type`` values (others are dropped and logged), known
properties of the right kind, allow-listed attribute names, safe URLs, allow-listed tags and
template suggestions of the element's own type. There is no property that carries raw HTML:
text reaches a page either escaped or through ``#value`` + ``#format``, which the renderer
hands to :func:`trovato.render.formats.render_text`. An untrusted tree cannot use a restricted
format (``full_html``); such text is downgraded to ``filtered_html``, so trusted content that
passed through an alter tap keeps its formatting but loses anything unsafe.

Trees that are too deep or too large raise :class:`RenderTreeError` instead of being trimmed:
a plugin that builds a 100 000-node tree has a bug worth a clear error, and partial output
would hide it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from trovato.render.elements import (
    ELEMENT_TYPES,
    LABEL_DISPLAYS,
    MESSAGE_TYPES,
    URL_ATTRIBUTES,
    ElementType,
    Prop,
    RenderElement,
    allowed_attribute_name,
    safe_url,
)
from trovato.render.formats import FormatRegistry, default_registry

log = logging.getLogger(__name__)

MAX_DEPTH = 32
MAX_NODES = 5000
MAX_TEXT = 1_000_000  # characters in one string property
DOWNGRADE_FORMAT = "filtered_html"
_SLUG = re.compile(r"^[a-z0-9_]{1,64}\Z")
_CHILD_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}\Z")
_VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
MAX_VARIABLES = 64
MAX_OPTIONS = 1000  # choices of one form input
_DROPPED = object()  # a data value the sanitizer left out (None is a valid value)
_TEMPLATE = re.compile(r"^[a-z0-9_]+(?:--[a-z0-9_]+){1,4}\Z")


class RenderTreeError(ValueError):
    """A render tree breaks a hard limit (depth, size) and cannot be rendered at all."""


class _Walk:
    def __init__(
        self,
        *,
        source: str,
        formats: FormatRegistry,
        trusted: bool,
        allow_style: bool,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.source = source
        self.formats = formats
        self.trusted = trusted
        self.allow_style = allow_style
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.dropped: list[str] = []

    def drop(self, path: str, why: str) -> None:
        # Dropping is not an error for the visitor, but the plugin author needs to know; the
        # reasons are logged once per tree (see report()) so a bad tree cannot flood the log.
        self.dropped.append(f"{path or '<root>'} ({why})")

    def report(self) -> None:
        if self.dropped:
            shown = "; ".join(self.dropped[:20])
            more = f"; and {len(self.dropped) - 20} more" if len(self.dropped) > 20 else ""
            log.warning("render tree from %s: dropped %s%s", self.source, shown, more)

    def count(self, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise RenderTreeError(
                f"render tree from {self.source} has more than {self.max_nodes} nodes "
                f"(at {path or '<root>'})"
            )
        if depth > self.max_depth:
            raise RenderTreeError(
                f"render tree from {self.source} is nested more than {self.max_depth} levels "
                f"deep (at {path or '<root>'})"
            )

    def element(self, raw: object, path: str, depth: int) -> RenderElement | None:
        self.count(path, depth)
        if not isinstance(raw, Mapping):
            self.drop(path, f"not an object: {type(raw).__name__}")
            return None
        type_name = raw.get("#type", "container")
        spec = ELEMENT_TYPES.get(type_name) if isinstance(type_name, str) else None
        if spec is None:
            self.drop(path, f"unknown #type {type_name!r}")
            return None
        out: RenderElement = {"#type": spec.name}
        for key, value in raw.items():
            if not isinstance(key, str):
                self.drop(f"{path}[{key!r}]", "non-string key")
                continue
            if key == "#type":
                continue
            where = f"{path}.{key}" if path else key
            if key == "#tag":
                tag = self.tag(spec, value, where)
                if tag:
                    out["#tag"] = tag
                continue
            if key.startswith("#"):
                kind = spec.prop(key)
                if kind is None:
                    self.drop(where, f"property not allowed on {spec.name}")
                    continue
                clean = self.prop(spec, key, kind, value, where, depth)
                if clean is not None:
                    out[key] = clean
            elif not spec.children:
                self.drop(where, f"{spec.name} has no children")
            elif not _CHILD_NAME.match(key):
                self.drop(where, "invalid child name")
            else:
                child = self.element(value, where, depth + 1)
                if child is not None:
                    out[key] = child
        if "#tag" not in out and spec.default_tag:
            out["#tag"] = spec.default_tag
        missing = [k for k in spec.required if k not in out]
        if missing:
            self.drop(path, f"{spec.name} without {', '.join(sorted(missing))}")
            return None
        if spec.name in ("link", "image"):
            # The element's own #href/#src is the only URL of a link or image; a second one
            # in #attributes would be a duplicate attribute that browsers resolve first-wins.
            attributes = out.get("#attributes")
            if attributes:
                attributes.pop("href", None)
                attributes.pop("src", None)
        return out

    def prop(
        self, spec: ElementType, key: str, kind: Prop, value: Any, where: str, depth: int
    ) -> Any:
        match kind:
            case Prop.TEXT:
                return self.text(value, where)
            case Prop.INT:
                if isinstance(value, int) and not isinstance(value, bool):
                    return value
                self.drop(where, "not an integer")
                return None
            case Prop.NUMBER:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return value
                self.drop(where, "not a number")
                return None
            case Prop.BOOL:
                if isinstance(value, bool):
                    return value
                self.drop(where, "not a boolean")  # "false" is truthy; do not guess
                return None
            case Prop.URL:
                url = safe_url(value)
                if url is None:
                    self.drop(where, "unsafe or invalid URL")
                return url
            case Prop.FORMAT:
                return self.format_name(value, where)
            case Prop.SLUG:
                if isinstance(value, str) and _SLUG.match(value):
                    if key == "#label_display" and value not in LABEL_DISPLAYS:
                        self.drop(where, "unknown label display")
                        return None
                    return value
                self.drop(where, "not a machine name")
                return None
            case Prop.ATTRIBUTES:
                return self.attributes(value, where)
            case Prop.TEMPLATE:
                if (
                    isinstance(value, str)
                    and _TEMPLATE.match(value)
                    and value.startswith(spec.name + "--")
                ):
                    return value
                self.drop(where, f"template suggestion must look like {spec.name}--variant")
                return None
            case Prop.ITEMS | Prop.CELLS:
                return self.cells(value, where, depth)
            case Prop.ROWS:
                if not isinstance(value, list):
                    self.drop(where, "not a list")
                    return None
                rows = []
                for index, row in enumerate(value):
                    self.count(f"{where}[{index}]", depth + 1)
                    cells = self.cells(row, f"{where}[{index}]", depth + 1)
                    if cells is not None:
                        rows.append(cells)
                return rows
            case Prop.MESSAGES:
                return self.messages(value, where)
            case Prop.VARIABLES:
                return self.variables(value, where, depth)
            case Prop.OPTIONS:
                if not isinstance(value, Mapping):
                    self.drop(where, "not an object")
                    return None
                return {
                    str(k)[:256]: str(v)[:1024]
                    for k, v in list(value.items())[:MAX_OPTIONS]
                    if isinstance(v, str | int | float) and not isinstance(v, bool)
                }
            case Prop.QUERY:
                if not isinstance(value, Mapping):
                    self.drop(where, "not an object")
                    return None
                return {
                    str(k)[:64]: str(v)[:1024]
                    for k, v in list(value.items())[:32]
                    if isinstance(v, str | int | float) and not isinstance(v, bool)
                }
        return None  # pragma: no cover - the match is exhaustive

    def tag(self, spec: ElementType, value: Any, where: str) -> str | None:
        if isinstance(value, str) and value.lower() in spec.tags:
            return value.lower()
        self.drop(where, f"tag {value!r} not allowed on {spec.name}")
        return None

    def text(self, value: Any, where: str) -> str | None:
        if isinstance(value, bool) or value is None:
            self.drop(where, "not text")
            return None
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            self.drop(where, "not text")
            return None
        if len(value) > MAX_TEXT:
            raise RenderTreeError(
                f"render tree from {self.source} has a text longer than {MAX_TEXT} characters "
                f"(at {where})"
            )
        return value

    def variables(self, value: Any, where: str, depth: int) -> dict[str, Any] | None:
        """Template variables: names like ``reading_time``, values plain JSON data (text is
        escaped when a template prints it, so they can never carry markup)."""
        if not isinstance(value, Mapping):
            self.drop(where, "variables must be an object")
            return None
        clean: dict[str, Any] = {}
        for name, data in list(value.items())[:MAX_VARIABLES]:
            if not isinstance(name, str) or not _VARIABLE.match(name):
                self.drop(f"{where}[{name!r}]", "variable names look like reading_time")
                continue
            kept = self.data(data, f"{where}.{name}", depth + 1)
            if kept is not _DROPPED:
                clean[name] = kept
        if len(value) > MAX_VARIABLES:
            self.drop(where, f"more than {MAX_VARIABLES} variables")
        return clean

    def data(self, value: Any, where: str, depth: int) -> Any:
        """JSON data (scalars, lists, objects) inside the node and depth limits."""
        self.count(where, depth)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, list):
            items = (self.data(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
            return [v for v in items if v is not _DROPPED]
        if isinstance(value, Mapping):
            pairs = ((str(k), self.data(v, f"{where}.{k}", depth + 1)) for k, v in value.items())
            return {k: v for k, v in pairs if v is not _DROPPED}
        self.drop(where, f"not JSON data: {type(value).__name__}")
        return _DROPPED

    def format_name(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            self.drop(where, "format is not a name")
            return None
        if value not in self.formats:
            # Leaving the name would render escaped anyway; dropping makes that explicit.
            self.drop(where, f"unknown format {value!r}; the text will be escaped")
            return None
        if not self.trusted and value in self.formats.restricted():
            self.drop(where, f"restricted format {value!r} rendered as {DOWNGRADE_FORMAT!r}")
            return DOWNGRADE_FORMAT if DOWNGRADE_FORMAT in self.formats else None
        return value

    def attributes(self, value: Any, where: str) -> dict[str, str | bool] | None:
        if not isinstance(value, Mapping):
            self.drop(where, "attributes must be an object")
            return None
        out: dict[str, str | bool] = {}
        for raw_name, raw_value in value.items():
            name = raw_name.lower() if isinstance(raw_name, str) else raw_name
            at = f"{where}[{raw_name!r}]"
            if not allowed_attribute_name(name, allow_style=self.allow_style):
                self.drop(at, "attribute name not allowed")
                continue
            if raw_value is None or raw_value is False:
                continue
            if raw_value is True:
                out[name] = True
                continue
            if isinstance(raw_value, list | tuple):
                # Lists are for class: space-separated tokens.
                parts = [str(p) for p in raw_value if isinstance(p, str | int | float)]
                text: str | None = " ".join(p for p in parts if p)
            else:
                text = self.text(raw_value, at)
            if text is None:
                continue
            if name in URL_ATTRIBUTES and safe_url(text) is None:
                self.drop(at, "unsafe or invalid URL")
                continue
            if name == "style" and re.search(r"expression|url\s*\(|@import|\\", text, re.I):
                self.drop(at, "style value not allowed")
                continue
            out[name] = text[:4096]
        return out

    def cells(self, value: Any, where: str, depth: int) -> list[str | RenderElement] | None:
        if not isinstance(value, list):
            self.drop(where, "not a list")
            return None
        out: list[str | RenderElement] = []
        for index, cell in enumerate(value):
            at = f"{where}[{index}]"
            if isinstance(cell, Mapping):
                element = self.element(cell, at, depth + 1)
                if element is not None:
                    out.append(element)
                continue
            self.count(at, depth + 1)
            text = self.text(cell, at)
            if text is not None:
                out.append(text)
        return out

    def messages(self, value: Any, where: str) -> list[dict[str, str]] | None:
        if not isinstance(value, list):
            self.drop(where, "not a list")
            return None
        out = []
        for index, message in enumerate(value):
            at = f"{where}[{index}]"
            self.count(at, 1)
            if not isinstance(message, Mapping):
                self.drop(at, "message is not an object")
                continue
            kind = message.get("type", "status")
            text = self.text(message.get("text"), at)
            if text is None:
                continue
            out.append({"type": kind if kind in MESSAGE_TYPES else "status", "text": text})
        return out


def sanitize(
    tree: object,
    *,
    source: str = "plugin",
    trusted: bool = False,
    allow_style: bool = False,
    formats: FormatRegistry | None = None,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> RenderElement:
    """Return a sanitized copy of ``tree`` (the input is never modified).

    ``source`` names the tree's origin in log lines and errors (``"plugin:blog"``).
    ``trusted`` allows restricted formats (kernel-built trees only). ``allow_style`` keeps
    ``style`` attributes (minus ``expression()``/``url()``). An unknown root type gives an
    empty container. Raises :class:`RenderTreeError` past ``max_depth``/``max_nodes``.
    """
    walk = _Walk(
        source=source,
        formats=formats or default_registry(),
        trusted=trusted,
        allow_style=allow_style,
        max_depth=max_depth,
        max_nodes=max_nodes,
    )
    try:
        result = walk.element(tree, "", 1)
    finally:
        walk.report()
    return result if result is not None else {"#type": "container", "#tag": "div"}
