"""Forms as data: building form element trees, reading a submission against one, checking it,
and putting the submitted values and the errors back into the tree for the next rendering.

A form is a render tree (:mod:`trovato.render.elements`) whose root has ``#type`` ``form``;
every input names what the browser submits under ``#name`` (``FORM_INPUT_TYPES``). Nothing here
writes HTML: the theme's ``elements/<type>.html`` templates draw every element, so a form looks
like every other form of the site and a theme restyles them all.

The values of a submission are read *from the tree*, never from what the browser happened to
send: an input the form does not have is ignored, a choice that is not among an input's options
is an error. :func:`check` does the checks every input type implies (required, e-mail, number
and its range, dates, choices, length); the form's owner and the ``form_validate`` taps add
theirs. Errors are keyed by the element's ``#error_key`` (else its ``#name``) and shown inline
next to that element *and* in a summary at the top of the form linking to each.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from trovato.render.elements import FORM_INPUT_TYPES, RenderElement, children

FormValue = str | list[str]
FormValues = dict[str, FormValue]
"""What a submission holds for each input of the form, by ``#name`` (a list for checkboxes)."""

FormErrors = dict[str, str]
"""Error messages by error key (an element's ``#error_key``, else its ``#name``)."""

# Longest text any single input accepts (a textarea's body): the body limit of the pipeline
# caps the request, this caps one value so a check never reads more.
TEXT_LIMIT = 1_000_000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]{1,63}(?:\.[^@\s.]{1,63})+\Z")
_ID_JUNK = re.compile(r"[^a-z0-9]+")


class Submission(Protocol):
    """What a browser posted: Starlette's ``FormData`` or ``QueryParams`` (or any multi-dict
    like them)."""

    def getlist(self, key: str) -> list[Any]: ...

    def multi_items(self) -> list[tuple[str, Any]]: ...


# -- walking a tree ----------------------------------------------------------------------------


def walk(tree: Mapping[str, Any]) -> list[RenderElement]:
    """Every element of ``tree`` (``tree`` first), children in ``#weight`` order (depth
    first). A list, built in one pass: a form is walked several times per request (read,
    check, fill, ids), and a generator paid a resumption per element each time."""
    found: list[RenderElement] = []
    _collect(tree, found)
    return found


def _collect(element: Mapping[str, Any], found: list[RenderElement]) -> None:
    found.append(element)  # type: ignore[arg-type]
    for _, child in children(element):
        _collect(child, found)


def copy_tree(value: Any) -> Any:
    """A copy of a form tree that can be changed (ids, values, errors) without touching the
    original: every dict and list copied, everything else shared. Elements are only ever
    reached through dicts, and the other values of a tree (text, numbers, Markup) are
    immutable; ``copy.deepcopy`` did the same at several times the cost."""
    if type(value) is dict:
        return {key: copy_tree(item) if type(item) is dict or type(item) is list else item
                for key, item in value.items()}
    if type(value) is list:
        return [copy_tree(item) if type(item) is dict or type(item) is list else item
                for item in value]
    return value


def inputs(tree: Mapping[str, Any]) -> list[RenderElement]:
    """The inputs of a form: elements of a ``FORM_INPUT_TYPES`` type with a ``#name``."""
    return _inputs(walk(tree))


def _inputs(elements: list[RenderElement]) -> list[RenderElement]:
    return [element for element in elements if element.get("#type") in FORM_INPUT_TYPES
            and isinstance(element.get("#name"), str)]


def error_key(element: Mapping[str, Any]) -> str | None:
    """The key of the errors ``element`` shows: its ``#error_key``, else its ``#name``."""
    key = element.get("#error_key", element.get("#name"))
    return key if isinstance(key, str) else None


def find(tree: RenderElement, key: str) -> RenderElement | None:
    """The element of ``tree`` with error key ``key`` that is not an input (a group, a
    fieldset: what a rebuild replaces), or None."""
    for element in walk(tree):
        if error_key(element) == key and element.get("#type") not in FORM_INPUT_TYPES:
            return element
    return None


def keys_within(tree: Mapping[str, Any], key: str) -> set[str]:
    """The error keys of the element showing ``key`` and of every element inside it (so an
    error about a whole group can be left out when one about its input is already shown)."""
    for element in walk(tree):
        if error_key(element) == key:
            return {k for k in map(error_key, walk(element)) if k is not None}
    return {key}


def element_id(key: str) -> str:
    """An HTML id for the element with error key or name ``key``: ``edit-fields-body-0``."""
    # The same names come on every rendering of a form: remembered, if short.
    return _short_id(key) if len(key) <= 200 else _id(key)


def _id(key: str) -> str:
    return "edit-" + (_ID_JUNK.sub("-", key.lower()).strip("-") or "field")


_short_id = functools.lru_cache(maxsize=4096)(_id)


def assign_ids(tree: RenderElement) -> None:
    """Give every input and group without one a unique ``#id`` (labels, error links and
    ``aria-describedby`` point at it)."""
    _assign_ids(walk(tree))


_ID_TYPES = FORM_INPUT_TYPES | {"fieldset", "details"}


def _assign_ids(elements: list[RenderElement]) -> None:
    seen: set[str] = set()
    for element in elements:
        get = element.get
        if get("#type") not in _ID_TYPES:
            continue
        current = get("#id")
        if not current or not isinstance(current, str):
            key = get("#error_key", get("#name"))  # error_key(), inline: once per element
            if not isinstance(key, str):
                continue
            current = _short_id(key) if len(key) <= 200 else _id(key)
        unique, n = current, 2
        while unique in seen:
            unique, n = f"{current}--{n}", n + 1
        seen.add(unique)
        element["#id"] = unique


# -- reading a submission ----------------------------------------------------------------------


def read(tree: Mapping[str, Any], submitted: Submission) -> FormValues:
    """The value of each input of ``tree`` in ``submitted``: text as sent (``""`` when
    absent), a list for checkboxes, ``""`` for an unchecked checkbox. Files are left out
    (uploads are not handled by forms yet)."""
    return _read(inputs(tree), submitted)


def read_and_check(tree: Mapping[str, Any], submitted: Submission
                   ) -> tuple[FormValues, FormErrors]:
    """:func:`read` and then :func:`check` of the values read, walking ``tree`` once."""
    elements = inputs(tree)
    values = _read(elements, submitted)
    return values, _check(elements, values)


def _read(elements: list[RenderElement], submitted: Submission) -> FormValues:
    # The submission by name, in one pass: ``getlist`` scans every pair for each input.
    sent: dict[str, list[str]] = {}
    for name, value in submitted.multi_items():
        if type(value) is str or isinstance(value, str):
            sent.setdefault(name, []).append(value)
    values: FormValues = {}
    for element in elements:
        name, kind = element["#name"], element["#type"]
        if kind == "file":
            continue
        given = sent.get(name, ())
        if kind == "checkboxes":
            values[name] = list(given)
        else:
            values[name] = given[0] if given else ""
    return values


def text_values(values: Mapping[str, FormValue]) -> dict[str, str]:
    """The single-text values only (what field widgets parse)."""
    return {name: value for name, value in values.items() if isinstance(value, str)}


# -- checks every input type implies -----------------------------------------------------------


def _title(element: Mapping[str, Any]) -> str:
    """What an input's messages call it: its ``#error_title`` (when its label alone is
    ambiguous, like the "Text" of a field's fieldset), else its ``#title``."""
    title = element.get("#error_title") or element.get("#title")
    return title if isinstance(title, str) and title else "This field"


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def check_input(element: Mapping[str, Any], value: FormValue) -> str | None:
    """The error message of one input's value, or None when it passes."""
    problem = _problem(element, value)
    return None if problem is None else _title(element) + problem


def _problem(element: Mapping[str, Any], value: FormValue) -> str | None:
    """What is wrong with ``value``, as the rest of a sentence after the input's title (only
    a failing input needs its title)."""
    kind = element["#type"]
    if kind in ("hidden", "file"):
        return None
    if value == "" or value == []:
        return " is required." if element.get("#required") else None
    if kind == "password":
        return None
    if type(value) is not str and isinstance(value, list):  # (most values: text)
        options = element.get("#options") or {}
        if any(v not in options for v in value):
            return ": a chosen value is not one of the options."
        return None
    if len(value) > TEXT_LIMIT:
        return " is too long."
    maxlength = element.get("#maxlength")
    if isinstance(maxlength, int) and len(value) > maxlength:
        return f" must be at most {maxlength} characters."
    match kind:
        case "select" | "radios":
            if value not in (element.get("#options") or {}):
                return ": the chosen value is not one of the options."
        case "checkbox":
            if value != (element.get("#return_value") or "1"):
                return ": the box sent an unexpected value."
        case "email":
            if len(value) > 254 or not _EMAIL.match(value):
                return " must be an e-mail address, like ada@example.com."
        case "number":
            return _check_number(element, value)
        case "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                return " must be a date, like 2024-05-01."
        case "datetime":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                return " must be a date and time, like 2024-05-01T12:00."
        case "textfield":
            if "\n" in value or "\r" in value:
                return " must be a single line of text."
    if "\x00" in value:
        return " must not contain NUL characters."
    return None


def _check_number(element: Mapping[str, Any], value: str) -> str | None:
    number = _number(value.strip()) if len(value) <= 64 else None
    if number is None:
        return " must be a number."
    if element.get("#step") == "1" and not number.is_integer():
        return " must be a whole number."
    low, high = (_number(str(element.get(k, ""))) for k in ("#min", "#max"))
    if low is not None and number < low:
        return f" must be at least {element['#min']}."
    if high is not None and number > high:
        return f" must be at most {element['#max']}."
    return None


def check(tree: Mapping[str, Any], values: Mapping[str, FormValue]) -> FormErrors:
    """The errors of ``values`` against the inputs of ``tree`` (the first per error key)."""
    return _check(inputs(tree), values)


def _check(elements: list[RenderElement], values: Mapping[str, FormValue]) -> FormErrors:
    errors: FormErrors = {}
    for element in elements:
        kind = element["#type"]
        if kind == "hidden" or kind == "file":  # nothing to check (as in _problem)
            continue
        problem = _problem(element, values.get(element["#name"], ""))
        if problem is not None:
            key = error_key(element)
            if key is not None:
                errors.setdefault(key, _title(element) + problem)
    return errors


# -- showing a submission again ----------------------------------------------------------------


def fill(tree: RenderElement, values: Mapping[str, FormValue]) -> None:
    """Show ``values`` in the inputs of ``tree`` (nothing the user typed is lost on a failed
    submission); passwords and files are never shown again, hidden inputs keep their own."""
    _fill(inputs(tree), values)


def _fill(elements: list[RenderElement], values: Mapping[str, FormValue]) -> None:
    for element in elements:
        kind, name = element["#type"], element["#name"]
        if kind in ("password", "file", "hidden") or name not in values:
            continue
        value = values[name]
        if kind == "checkboxes":
            element["#default_value"] = list(value) if isinstance(value, list) else []
        elif isinstance(value, str):
            element["#default_value"] = value


def prepare(tree: RenderElement, values: Mapping[str, FormValue] | None = None
            ) -> RenderElement:
    """A copy of ``tree`` to render: ``values`` shown in its inputs (:func:`fill`) and ids
    given (:func:`assign_ids`), walking it once for both."""
    form: RenderElement = copy_tree(tree)
    elements = walk(form)
    if values is not None:
        _fill(_inputs(elements), values)
    _assign_ids(elements)
    return form


def mark_errors(tree: RenderElement, errors: Mapping[str, str], *,
                labels: Mapping[str, str] | None = None) -> None:
    """Put each error next to its element (``#error``), open the ``details`` holding one, and
    add the summary at the top of the form: every message, linking to its element when there
    is one. ``labels`` names the elements of errors no element shows (``{key: label}``)."""
    if not errors:
        return
    assign_ids(tree)
    shown: dict[str, str] = {}  # error key -> the id of the element showing it
    _mark(tree, errors, shown)
    items: list[str | RenderElement] = []
    for key, message in errors.items():
        if key in shown:
            items.append({"#type": "link", "#text": message, "#href": f"#{shown[key]}"})
        else:
            label = (labels or {}).get(key)
            items.append(f"{label}: {message}" if label else message)
    count = len(errors)
    tree["form_errors"] = {
        "#type": "container", "#tag": "div", "#weight": -1000,
        "#attributes": {"class": "form-errors messages error", "role": "alert",
                        "id": "form-errors", "tabindex": "-1"},
        "heading": {"#type": "markup", "#tag": "h2",
                    "#value": "1 error has been found:" if count == 1
                    else f"{count} errors have been found:"},
        "list": {"#type": "list", "#items": items, "#ordered": False},
    }


def _mark(element: RenderElement, errors: Mapping[str, str], shown: dict[str, str]) -> bool:
    """Mark ``element`` and its children; whether any of them shows an error."""
    found = False
    key = error_key(element)
    if key is not None and key in errors and key not in shown and "#id" in element:
        element["#error"] = errors[key]
        shown[key] = element["#id"]
        found = True
    for _, child in children(element):
        found = _mark(child, errors, shown) or found
    if found and element.get("#type") == "details":
        element["#open"] = True
    return found


# -- building ----------------------------------------------------------------------------------


def form(form_id: str, action: str, elements: Mapping[str, RenderElement], *,
         method: str = "post") -> RenderElement:
    """A form element named ``form_id`` posting to ``action``, holding ``elements``."""
    tree: RenderElement = {"#type": "form", "#form_id": form_id, "#action": action,
                           "#method": method, "#attributes": {"id": element_id(form_id)}}
    tree.update(elements)
    return tree


def submit(value: str, *, title: str | None = None, name: str = "op",
           weight: float | None = None) -> RenderElement:
    """A submit button sending ``value`` under ``name`` (``op``), reading ``title``."""
    button: RenderElement = {"#type": "submit", "#name": name, "#value": value}
    if title is not None:
        button["#title"] = title
    if weight is not None:
        button["#weight"] = weight
    return button


def hidden(name: str, value: str) -> RenderElement:
    return {"#type": "hidden", "#name": name, "#default_value": value}


def pressed(submitted: Submission, buttons: Sequence[str], name: str = "op") -> str | None:
    """Which of ``buttons`` (their values) sent the form, or None."""
    sent = [v for v in submitted.getlist(name) if isinstance(v, str)]
    return next((v for v in sent if v in buttons), None)
