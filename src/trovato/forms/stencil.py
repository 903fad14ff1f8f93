"""Form stencils: a form's HTML drawn once per shape, the values of each request filled in.

An item's edit form is the same HTML for every item of its type but for what its inputs hold:
drawn through the renderer, every request copied the tree, walked it for ids, and drew some
fifty elements through their twins — most of the form page's Python. A :class:`Stencil` is
that HTML cut at every place a request's values go (*holes*):

- a text input's ``#default_value`` (textfield, textarea, hidden …): the value escaped, between
  the parts of the input's HTML drawn around it;
- a choice's ``#default_value`` (checkbox, select, radios): the element's HTML for each value
  it can show checked or selected, drawn once, and for any other value;
- a link, a button or formatted markup: drawn per request from the request's element (a
  file's name and link, the item's Delete link; formats may change);
- the form's ``#action``: its attribute as the form's twin writes it.

It is exact by construction, not by imitation: everything a stencil holds was drawn by the
renderer itself, and a stencil is used for a tree only when that tree, with its holes masked,
*equals* the masked tree the stencil was drawn from (one comparison of dicts; a form holding
Markup outside its holes gets no stencil, as Markup equals plain text yet is drawn
unescaped; numbers equal across types, 1 and 1.0, are taken alike, which a type's form,
built from the same definitions each time, never mixes) — any other
difference (a field added, another widget, the user's time zone in a date input, a plugin's
element) is another shape, drawn through the renderer. A stencil is made only when every
element of the form is drawn by a Python twin (no theme template, no preprocess variables: a
template might use a value any way it likes), and kept only when it draws its own tree exactly
as the renderer did. :class:`FormStencils` keeps a few shapes per form and makes new ones
within a budget, so a form whose shape changes on every request costs little more than the
renderer alone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from trovato.forms.form import copy_tree, prepare
from trovato.render.elements import children
from trovato.render.native import Element, escape_html, escape_many
from trovato.render.native_forms import action_attribute
from trovato.render.renderer import ThemeEngine


class _Mask:
    """What a hole holds in a stencil's shape (and, for a moment, in the tree compared)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<hole>"


MASK: Final = _Mask()

_TEXT, _CHOICE, _LIVE, _ACTION = range(4)
# Inputs whose twin writes their value, escaped, in exactly one place.
_TEXT_TYPES: Final = frozenset({"textfield", "email", "date", "datetime", "textarea", "number",
                                "url", "hidden"})
# Inputs whose twin marks one of a few values checked or selected.
_CHOICE_TYPES: Final = frozenset({"checkbox", "select", "radios"})
# Options beyond which a choice is drawn per request (its variants grow with the square).
_MAX_OPTIONS: Final = 64
# Drawn per request, and the properties that may differ from request to request.
_LIVE_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "link": ("#text", "#href", "#title"),
    "submit": ("#title", "#value"),
    "checkboxes": ("#default_value",),
}
# Shapes kept per form, and how many stencils a form may make: a few, then one per four
# requests it served (a form whose shape never repeats stops paying for new ones).
_SHAPES: Final = 8
_FREE_BUILDS: Final = 8


@dataclass(slots=True)
class _Hole:
    """A place in the form's HTML a request fills: the element's ``path`` of child keys from
    the root, the ``keys`` masked in the shape, how it is drawn (``kind``), and for a choice
    its HTML by value (``variants``) and for any other value (``other``)."""

    path: tuple[str, ...]
    keys: tuple[str, ...]
    kind: int
    ident: str | None = None  # a live input's id, given when the form is prepared
    variants: dict[Any, str] = field(default_factory=dict)
    other: str = ""


class _Recorder:
    """A drawer that draws every element with its twin, but each hole as its marker."""

    def __init__(self, engine: ThemeEngine, markers: Mapping[int, str]) -> None:
        self.engine = engine
        self.allow_style = engine.allow_style
        self.formats = engine.formats
        self.markers = markers

    def html(self, element: Element) -> str:
        marker = self.markers.get(id(element))
        if marker is not None:
            return marker
        twin = self.engine.twin_for(element)
        if twin is None:  # an element of a list's items (the walk sees children only): the
            return self.engine.html(element)  # renderer's, and in the shape as it is
        return twin(self, element)


def _elements(element: dict[str, Any], path: tuple[str, ...],
              found: list[tuple[tuple[str, ...], dict[str, Any]]]) -> None:
    found.append((path, element))
    for key, child in children(element):
        _elements(child, (*path, key), found)


def _hole(engine: ThemeEngine, path: tuple[str, ...], element: dict[str, Any]) -> _Hole | None:
    """The hole ``element`` is (None: it is drawn the same for every tree of the shape)."""
    kind = element.get("#type")
    if kind in _TEXT_TYPES:
        return _Hole(path, ("#default_value",), _TEXT)
    if "#format" in element or kind in _LIVE_KEYS:
        keys = _LIVE_KEYS.get(str(kind), ("#value",))
        return _Hole(path, keys, _LIVE, ident=element.get("#id"))
    if kind not in _CHOICE_TYPES:
        return None
    options = element.get("#options") or {}
    if kind == "checkbox":
        candidates: list[Any] = [element.get("#return_value") or "1"]
    elif type(options) is dict and len(options) <= _MAX_OPTIONS:
        candidates = list(options)
    else:
        return _Hole(path, ("#default_value",), _LIVE, ident=element.get("#id"))
    hole = _Hole(path, ("#default_value",), _CHOICE)
    for value in candidates:
        hole.variants[value] = engine.html({**element, "#default_value": value})
    # A value that is none of the options (nothing selected); "" for a checkbox (unchecked).
    hole.other = engine.html({**element, "#default_value": "" if kind == "checkbox"
                              else f"\x00{secrets.token_hex(8)}"})
    return hole


class Stencil:
    """One shape of a form: its HTML cut at the holes, and the masked tree it was drawn from."""

    __slots__ = ("holes", "keys", "out", "shape", "slots", "texts")

    def __init__(self, holes: list[_Hole], parts: list[str], shape: dict[str, Any]) -> None:
        self.holes = holes  # in the order their HTML comes
        self.shape = shape
        self.keys = [key for hole in holes for key in hole.keys]  # every masked key, in order
        # The page as a list to fill: the HTML around the holes at even places, each hole's
        # at the odd place after its part; a text hole by its masked value's place (its
        # value escaped with the others), any other by its own.
        self.out: list[str] = [""] * (2 * len(holes) + 1)
        self.out[0::2] = parts
        self.texts: list[tuple[int, int]] = []
        self.slots: list[tuple[int, int, _Hole]] = []
        offset = 0
        for n, hole in enumerate(holes):
            if hole.kind == _TEXT:
                self.texts.append((2 * n + 1, offset))
            else:
                self.slots.append((2 * n + 1, offset, hole))
            offset += len(hole.keys)

    @classmethod
    def build(cls, tree: dict[str, Any], engine: ThemeEngine) -> Stencil | None:
        """The stencil of ``tree`` (a form as :meth:`Forms.render` draws it, its hidden inputs
        in), or None when a template or a preprocess step draws any of its elements."""
        form = prepare(tree)
        elements: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        _elements(form, (), elements)
        if any(engine.twin_for(element) is None for _, element in elements):
            return None
        token = secrets.token_hex(8)
        holes: list[_Hole] = []
        markers: dict[int, str] = {}
        for path, element in elements[1:]:
            hole = _hole(engine, path, element)
            if hole is not None:
                markers[id(element)] = f"\x00{token}:{len(holes)}\x00"
                holes.append(hole)
        action = f"/stencil-{token}"
        if form.get("#type") == "form" and "#action" in form:
            form["#action"] = action
            holes.append(_Hole((), ("#action",), _ACTION))
        html = _Recorder(engine, markers).html(form)
        attribute = f' action="{action}"'
        if holes and holes[-1].kind == _ACTION:
            if html.count(attribute) != 1:
                return None
            html = html.replace(attribute, f"\x00{token}:{len(holes) - 1}\x00")
        pieces = re.split(f"\x00{token}:(\\d+)\x00", html)
        order = [int(n) for n in pieces[1::2]]
        if sorted(order) != list(range(len(holes))):
            return None  # a hole drawn twice or not at all: no stencil for this form
        parts = pieces[0::2]
        for n, index in enumerate(order):
            hole = holes[index]
            if hole.kind != _TEXT:
                continue
            element = _at(form, hole.path)
            sentinel = f"\x00{token}:value\x00"
            around = engine.html({**element, "#default_value": sentinel}).split(sentinel)
            if len(around) != 2 or engine.html({**element, "#default_value": ""}) != (
                    around[0] + around[1]):
                return None  # the value is not written once, as it is: drawn per request
            parts[n] += around[0]
            parts[n + 1] = around[1] + parts[n + 1]
        shape = copy_tree(tree)
        for hole in holes:
            node = _at(shape, hole.path)
            for key in hole.keys:
                node[key] = MASK
        if _has_markup(shape):
            return None
        return cls([holes[index] for index in order], parts, shape)

    def draw(self, tree: dict[str, Any], engine: ThemeEngine) -> str | None:
        """The HTML of ``tree`` if it has this stencil's shape, else None. ``tree`` is masked
        for the comparison and left as it was."""
        holes, keys = self.holes, self.keys
        count = len(keys)
        nodes: list[Any] = [None] * count
        olds: list[Any] = [MASK] * count  # MASK: the key was not there
        done = 0
        try:
            for hole in holes:
                node = tree
                for key in hole.path:
                    node = node[key]
                for key in hole.keys:
                    if key in node:
                        old = node[key]
                        if old is MASK:  # one element in two places: the renderer's
                            raise KeyError(key)
                        olds[done] = old
                    node[key] = MASK
                    nodes[done] = node
                    done += 1
            same = tree == self.shape
        except (KeyError, TypeError, IndexError):
            same = False
        finally:
            for n in range(done - 1, -1, -1):
                if olds[n] is MASK:
                    del nodes[n][keys[n]]
                else:
                    nodes[n][keys[n]] = olds[n]
        return self._fill(olds, nodes, engine) if same else None

    def _fill(self, olds: list[Any], nodes: list[Any], engine: ThemeEngine) -> str:
        out = self.out[:]
        texts = [olds[offset] for _, offset in self.texts]
        texts = ["" if text is MASK or not text else text for text in texts]
        escaped = (escape_many(texts) if set(map(type, texts)) <= {str}
                   else [escape_html(text) for text in texts])
        for (place, _), html in zip(self.texts, escaped, strict=True):
            out[place] = html
        for place, offset, hole in self.slots:
            old = olds[offset]
            if hole.kind == _CHOICE:
                try:
                    # As the twins read it: no value (or an empty one) is "".
                    out[place] = hole.variants.get("" if old is MASK else old or "",
                                                   hole.other)
                except TypeError:  # an unhashable value: never equal to an option's key
                    out[place] = hole.other
            elif hole.kind == _ACTION:
                out[place] = action_attribute({} if old is MASK else {"#action": old})
            else:
                element = nodes[offset]
                out[place] = engine.html(element if hole.ident is None
                                         else {**element, "#id": hole.ident})
        return "".join(out)


def _has_markup(value: object) -> bool:
    """Whether ``value`` holds HTML (Markup: anything with ``__html__``) outside the holes.
    Markup equals the plain text of the same characters, and is drawn unescaped: a stencil
    drawn from it would show that text unescaped for a tree holding it as text."""
    if type(value) is dict:
        return any(_has_markup(item) for item in value.values())
    if type(value) is list or type(value) is tuple:
        return any(_has_markup(item) for item in value)
    return hasattr(value, "__html__")


def _at(tree: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = tree
    for key in path:
        node = node[key]
    return node


class FormStencils:
    """The stencils of one form (the item form of one item type, in one process): a few
    shapes, the most recently used first."""

    __slots__ = ("_engine", "_stencils", "builds", "hits")

    def __init__(self) -> None:
        self._engine: ThemeEngine | None = None
        self._stencils: list[Stencil] = []
        self.hits = 0
        self.builds = 0

    def draw(self, tree: dict[str, Any], engine: ThemeEngine) -> str | None:
        """``tree``'s HTML from a stencil of its shape, or None when none has it."""
        if engine is not self._engine:
            return None
        for n, stencil in enumerate(self._stencils):
            html = stencil.draw(tree, engine)
            if html is not None:
                self.hits += 1
                if n:
                    self._stencils.insert(0, self._stencils.pop(n))
                return html
        return None

    def learn(self, tree: dict[str, Any], html: str, engine: ThemeEngine) -> None:
        """Keep a stencil of ``tree``, which the renderer drew as ``html`` (within the budget,
        and only a stencil that draws ``tree`` exactly so)."""
        if self.builds >= _FREE_BUILDS + self.hits // 4:
            return
        self.builds += 1
        if engine is not self._engine:
            self._engine, self._stencils = engine, []
        stencil = Stencil.build(tree, engine)
        if stencil is None or stencil.draw(tree, engine) != html:
            return
        self._stencils.insert(0, stencil)
        del self._stencils[_SHAPES:]
