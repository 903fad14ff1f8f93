"""Definition models' properties as the Gather builder's inputs, and filter values as text.

A pydantic model's scalar properties become inputs by their type — a ``Literal`` a select of
its values, a text a text field, a number a number input, a flag a checkbox, a list of texts
a comma-separated field — with their titles and descriptions; a document's values become the
inputs' values and a submission's values a document again. A filter's value is shown as text
and read back by its field's kind, in a widget fitting that kind
(:mod:`~trovato.web.admin.gather_form` builds the builder's form from these).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from trovato.forms import form as forms
from trovato.gather.definition import (
    LIST_OPS,
    TEXT_OPS,
    Definition,
)
from trovato.gather.fields import FieldSpec
from trovato.render.elements import RenderElement

_TITLES: Final = {"label": "Label", "base": "Base", "empty_text": "Empty text",
                  "per_page": "Items per page", "type": "Pager", "path": "Path",
                  "title": "Title", "style": "Style", "format": "Format",
                  "exposed": "Exposed as query parameter", "argument": "Contextual argument",
                  "default": "Without the argument", "options": "Allowed values",
                  "direction": "Direction", "group": "Join the group's filters with",
                  "op": "Operator", "json": "JSON"}
_PATH = "Starts with /: lowercase letters, digits, '.', '_' or '-' between the slashes;" \
    " {name} takes a contextual argument."
_PARAMETER = "Lowercase letters, digits and underscores, starting with a letter: "
_DESCRIPTIONS: Final = {
    "FilterDef.exposed": _PARAMETER + "visitors may set the value with this query parameter"
                                      " (the value above is the default).",
    "FilterDef.label": "The exposed filter's label.",
    "FilterDef.options": "Comma-separated: the only values visitors may choose.",
    "FilterDef.argument": _PARAMETER + "the value comes from the page path's {placeholder} of"
                                       " this name (or a query parameter of the JSON display).",
    "Definition.empty_text": "Shown when nothing matches.",
    "PageDisplay.path": _PATH,
    "FeedDisplay.path": _PATH,
}


def title_of(name: str) -> str:
    return _TITLES.get(name, name.replace("_", " ").capitalize())


def _core(annotation: Any) -> tuple[Any, bool]:
    """The type of an annotation without ``None``, and whether it allowed ``None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        return (parts[0] if len(parts) == 1 else annotation), len(parts) < len(
            get_args(annotation))
    return annotation, False


def _limit(info: FieldInfo, name: str) -> Any:
    return next((getattr(m, name) for m in info.metadata if hasattr(m, name)), None)


MAX_SORTS: Final[int] = _limit(Definition.model_fields["sorts"], "max_length") or 5


def model_of(info: FieldInfo) -> type[BaseModel] | None:
    """The model a property holds (a display, the pager), or None."""
    core, _ = _core(info.annotation)
    return core if isinstance(core, type) and issubclass(core, BaseModel) else None


def property_input(info: FieldInfo, name: str, title: str, *, required: bool = True
           ) -> RenderElement | None:
    """The input of one scalar property by its type (module docstring), or None when it
    is not scalar. ``required`` False: the input may stay empty (a display's, which only
    needs its properties when it is shown: the validator says so then)."""
    core, optional = _core(info.annotation)
    element: RenderElement
    if get_origin(core) is Literal:
        element = {"#type": "select", "#options": {str(v): str(v) for v in get_args(core)}}
        if optional or info.default is None:
            element["#empty_option"] = True
    elif core is str:
        longest = _limit(info, "max_length")
        element = {"#type": "textarea" if longest and longest > 255 else "textfield"}
        if longest:
            element["#maxlength"] = longest
        element["#required"] = required and info.is_required()
    elif core is int:
        element = {"#type": "number", "#step": "1"}
        for key, limit in (("#min", "ge"), ("#max", "le")):
            if _limit(info, limit) is not None:
                element[key] = str(_limit(info, limit))
    elif core is bool:
        element = {"#type": "checkbox", "#return_value": "1"}
    elif get_origin(core) is list and get_args(core) == (str,):
        element = {"#type": "textfield", "#maxlength": 2000}
    else:
        return None
    element.update({"#name": name, "#title": title})
    return element


def _shown(info: FieldInfo, value: Any) -> forms.FormValue:
    """A property's value as its input shows it."""
    if value is None and not info.is_required():
        default = info.get_default(call_default_factory=True)
        value = default if default is not None and not isinstance(default, BaseModel) else None
    if value is None:
        return ""
    core, _ = _core(info.annotation)
    if core is bool:
        return "1" if value else ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _read(info: FieldInfo, text: forms.FormValue) -> Any:
    """A property's value from its input (None: left out of the document); a text the type
    does not take is passed on as it is, for the validator to name."""
    if not isinstance(text, str):
        return None
    core, _ = _core(info.annotation)
    if core is bool:
        return text == "1"
    text = text.strip() if core is not str else text
    if text == "":
        return None
    if core is int:
        return int(text) if re.fullmatch(r"-?\d{1,18}", text.strip()) else text
    if get_origin(core) is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def model_properties(model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset()
                ) -> list[tuple[str, str, FieldInfo]]:
    """(document key, input name, property) of ``model``'s properties, ``skip`` aside."""
    found = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        key = info.alias or name
        found.append((key, f"{prefix}.{key}" if prefix else key, info))
    return found


def model_inputs(model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset(),
            weight: int = 0, required: bool = True) -> dict[str, RenderElement]:
    elements: dict[str, RenderElement] = {}
    for n, (key, name, info) in enumerate(model_properties(model, prefix, skip)):
        element = property_input(info, name, title_of(key), required=required)
        if element is not None:
            description = _DESCRIPTIONS.get(f"{model.__name__}.{key}")
            if description:
                element["#description"] = description
            elements[key] = {**element, "#weight": weight + n}
    return elements


def model_values(model: type[BaseModel], prefix: str, document: Mapping[str, Any],
               skip: frozenset[str] = frozenset()) -> forms.FormValues:
    return {name: _shown(info, document.get(key))
            for key, name, info in model_properties(model, prefix, skip)
            if property_input(info, name, key) is not None}


def model_document(model: type[BaseModel], prefix: str, values: Mapping[str, forms.FormValue],
                 skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, name, info in model_properties(model, prefix, skip):
        if property_input(info, name, key) is None or name not in values:
            continue
        value = _read(info, values[name])
        if value is not None:
            document[key] = value
    return document


# -- filter values -------------------------------------------------------------------------------


def _one(spec: FieldSpec | None, text: str) -> Any:
    kind = spec.kind if spec is not None else "text"
    if kind == "int" and re.fullmatch(r"-?\d{1,19}", text):
        return int(text)
    if kind == "float" and re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?",
                                        text):
        return float(text)
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    return text


def filter_value(spec: FieldSpec | None, op: str, text: forms.FormValue) -> Any:
    """A filter's value from its input: typed by the field's kind, a list for the operators
    taking several; None when empty."""
    if not isinstance(text, str) or not text.strip():
        return None
    if op in LIST_OPS or op == "between":
        return [_one(spec, part.strip()) for part in text.split(",") if part.strip()]
    return text if op in TEXT_OPS else _one(spec, text.strip())


def shown_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(shown_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_widget(spec: FieldSpec | None, op: str, name: str) -> RenderElement:
    """The input of a filter's value fitting its field's kind and operator."""
    title = "Value"
    if op in LIST_OPS or op == "between":
        return {"#type": "textfield", "#name": name, "#title": title, "#maxlength": 10_000,
                "#description": "Two values, comma-separated: low, high." if op == "between"
                else "Comma-separated values."}
    kind = spec.kind if spec is not None else "text"
    if op in ("is_null", "is_not_null", "current_user"):
        return {"#type": "textfield", "#name": name, "#title": title, "#maxlength": 1000,
                "#description": "This operator takes no value: leave it empty."}
    if kind == "bool":
        return {"#type": "select", "#name": name, "#title": title, "#empty_option": True,
                "#options": {"true": "Yes (true)", "false": "No (false)"}}
    if spec is not None and spec.options and op not in TEXT_OPS:
        return {"#type": "select", "#name": name, "#title": title, "#empty_option": True,
                "#options": {o: o for o in spec.options}}
    if kind in ("int", "decimal", "float"):
        return {"#type": "number", "#name": name, "#title": title,
                "#step": "1" if kind == "int" else "any"}
    element: RenderElement = {"#type": "textfield", "#name": name, "#title": title,
                              "#maxlength": 1000}
    if kind in ("date", "datetime"):
        element["#description"] = ("A date (2024-05-01)" if kind == "date" else
                                   "A date and time (2024-05-01T12:00:00Z)") + \
            ", or relative: now, today, -7 days."
    elif kind in ("uuid", "tag"):
        element["#description"] = "An id (UUID)" + (
            "; a tag's id." if kind == "tag" else ".")
    return element
