"""The Gather builder's form: a definition as form elements, a submission back into a
definition document, and the definition validator's error paths onto the form's inputs.

The form is built from the definition model itself (:mod:`trovato.gather.definition`): every
scalar property of the definition, its pager, its displays, its filters and sorts becomes an
input by its type — a ``Literal`` a select of its values, a text a text field, a number a
number input, a flag a checkbox, a list of texts a comma-separated field — so a property or a
display kind added to the model appears here without a change. What the model cannot say is
added from the site: the fields a filter, a sort or a column may name (the field registry for
the base), the operators of a field's kind, a value widget fitting that kind, the permissions.

Filters, filter groups and sorts are rows. Their ids live in the form's server-side state
(:class:`Rows`) and name their inputs (``filter.3.value``), so removing a row does not shift
what was typed in the others; "Add a filter" and "Remove" rebuild the form from that state.
A filter row either stands alone (all of them must match) or belongs to a group whose filters
are joined by AND or OR; a definition nesting groups deeper than that is edited as YAML.
Properties the form cannot show (say a list of objects a later version adds) are kept from
the stored document as they are.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from trovato.content.types import ItemType
from trovato.forms import form as forms
from trovato.gather.definition import (
    LIST_OPS,
    MAX_FILTERS,
    OPERATORS,
    SEARCH_FIELD,
    TEXT_OPS,
    Definition,
    Displays,
    FieldSpec,
    FilterDef,
    GroupDef,
    Op,
    SortDef,
    field_specs,
)
from trovato.render.elements import RenderElement

EDITOR_FORM: Final = "admin_gather_editor"
ADD_FILTER: Final = "add_filter"
ADD_GROUP: Final = "add_group"
ADD_SORT: Final = "add_sort"
REMOVE: Final = "remove_"  # remove_filter_3, remove_group_1, remove_sort_2
SAVE: Final = "save"
PREVIEW: Final = "preview"
PREVIEW_WITH: Final = "preview_with"  # not a property: the values a preview runs with
# Properties with inputs of their own (not drawn from the model's types).
def _as(display: str) -> str:
    """A display as the builder's checkbox names it: "a page", "a feed", … and "JSON"."""
    return title_of(display) if display == "json" else f"a {display}"


_SPECIAL: Final = frozenset({"name", "fields", "filters", "sorts", "pager", "displays",
                             "access"})
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


# -- what the site offers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choices:
    """What the builder offers on this site: the fields of the field registry (with the
    labels their types give them) and the permissions."""

    specs: Mapping[str, FieldSpec]
    labels: Mapping[str, str]
    permissions: Sequence[str]

    @classmethod
    def of(cls, types_: Mapping[str, ItemType], permissions: Sequence[str]) -> Choices:
        specs = field_specs(types_)
        labels = {name: name.replace("_", " ").capitalize() for name in specs}
        named: set[str] = set()
        for item_type in types_.values():
            for definition in item_type.fields:
                if definition.name in specs and definition.name not in named:
                    named.add(definition.name)
                    labels[definition.name] = f"{definition.label} ({definition.name})"
        return cls(specs, labels, permissions)

    def filterable(self) -> dict[str, str]:
        return {**self.labels, SEARCH_FIELD: "Search (the title and every text)"}

    def sortable(self) -> dict[str, str]:
        return {name: label for name, label in self.labels.items()
                if not self.specs[name].multiple}

    def kind(self, name: object) -> FieldSpec | None:
        if name == SEARCH_FIELD:
            return FieldSpec(SEARCH_FIELD, "text", column="*")
        return self.specs.get(name) if isinstance(name, str) else None


# -- the rows (server-side state) ----------------------------------------------------------------


@dataclass(slots=True)
class Rows:
    """The ids of the filter rows (each with the group it belongs to, "" for none), the
    groups and the sorts the form shows; ``next`` is the next free id."""

    filters: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    sorts: list[int] = field(default_factory=list)
    next: int = 0

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Rows:
        """The rows of a form state's data (ints only, bounded: the state is the server's,
        but what it holds is checked like anything read back)."""
        def ids(key: str, limit: int) -> list[int]:
            raw = data.get(key)
            found = [i for i in raw if type(i) is int and 0 <= i < 10_000] \
                if isinstance(raw, list) else []
            return list(dict.fromkeys(found))[:limit]

        rows = cls(ids("filters", MAX_FILTERS), ids("groups", MAX_FILTERS),
                   ids("sorts", MAX_SORTS))
        used = [*rows.filters, *rows.groups, *rows.sorts]
        nxt = data.get("next")
        rows.next = max([nxt if type(nxt) is int else 0, *(i + 1 for i in used)])
        return rows

    def data(self) -> dict[str, Any]:
        return {"filters": self.filters, "groups": self.groups, "sorts": self.sorts,
                "next": self.next}

    def take(self) -> int:
        self.next += 1
        return self.next - 1

    def buttons(self) -> list[str]:
        """The values of every button of a form with these rows."""
        return [SAVE, PREVIEW, ADD_FILTER, ADD_GROUP, ADD_SORT,
                *(f"{REMOVE}filter_{i}" for i in self.filters),
                *(f"{REMOVE}group_{i}" for i in self.groups),
                *(f"{REMOVE}sort_{i}" for i in self.sorts)]

    def rebuild(self, op: str) -> str | None:
        """Apply the rebuild button ``op``; the error key of the part it rebuilt, or None
        when ``op`` is not a rebuild (saving, previewing)."""
        if op == ADD_FILTER:
            if len(self.filters) < MAX_FILTERS:
                self.filters.append(self.take())
            return "filters"
        if op == ADD_GROUP:
            if len(self.groups) < MAX_FILTERS:
                self.groups.append(self.take())
            return "filters"
        if op == ADD_SORT:
            if len(self.sorts) < MAX_SORTS:
                self.sorts.append(self.take())
            return "sorts"
        match = re.fullmatch(rf"{REMOVE}(filter|group|sort)_(\d+)", op)
        if match is None:
            return None
        kind, row = match.group(1), int(match.group(2))
        rows = {"filter": self.filters, "group": self.groups, "sort": self.sorts}[kind]
        if row in rows:
            rows.remove(row)
        return "sorts" if kind == "sort" else "filters"


# -- model properties as inputs ------------------------------------------------------------------


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


def _input(info: FieldInfo, name: str, title: str, *, required: bool = True
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


def _properties(model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset()
                ) -> list[tuple[str, str, FieldInfo]]:
    """(document key, input name, property) of ``model``'s properties, ``skip`` aside."""
    found = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        key = info.alias or name
        found.append((key, f"{prefix}.{key}" if prefix else key, info))
    return found


def _inputs(model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset(),
            weight: int = 0, required: bool = True) -> dict[str, RenderElement]:
    elements: dict[str, RenderElement] = {}
    for n, (key, name, info) in enumerate(_properties(model, prefix, skip)):
        element = _input(info, name, title_of(key), required=required)
        if element is not None:
            description = _DESCRIPTIONS.get(f"{model.__name__}.{key}")
            if description:
                element["#description"] = description
            elements[key] = {**element, "#weight": weight + n}
    return elements


def _values_of(model: type[BaseModel], prefix: str, document: Mapping[str, Any],
               skip: frozenset[str] = frozenset()) -> forms.FormValues:
    return {name: _shown(info, document.get(key))
            for key, name, info in _properties(model, prefix, skip)
            if _input(info, name, key) is not None}


def _document_of(model: type[BaseModel], prefix: str, values: Mapping[str, forms.FormValue],
                 skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, name, info in _properties(model, prefix, skip):
        if _input(info, name, key) is None or name not in values:
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


# -- the form ------------------------------------------------------------------------------------

_FILTER_OWN: Final = frozenset({"field", "op", "value"})
_ALL_OPS: Final = tuple(get_args(Op))


@dataclass(frozen=True, slots=True)
class Editing:
    """What one builder form edits: ``listing`` (None: a new one) posting to ``action``;
    ``kept`` the stored properties the form cannot show; ``access`` the stored permission
    (offered even when no provider declares it any more)."""

    listing: str | None
    action: str
    kept: Mapping[str, Any] = field(default_factory=dict)
    access: str = "access content"

    def state(self, rows: Rows) -> dict[str, Any]:
        return {"listing": self.listing, "kept": dict(self.kept), "access": self.access,
                **rows.data()}

    @classmethod
    def of_state(cls, data: Mapping[str, Any], action: str) -> Editing:
        listing, kept, access = data.get("listing"), data.get("kept"), data.get("access")
        return cls(listing if isinstance(listing, str) else None, action,
                   kept if isinstance(kept, dict) else {},
                   access if isinstance(access, str) else "access content")


def _button(value: str, title: str, *, weight: float, ajax: bool = True,
            label: str | None = None) -> RenderElement:
    button = forms.submit(value, title=title, weight=weight)
    attributes: dict[str, Any] = {"class": "button--small"}
    if ajax:
        attributes["data-ajax"] = "rebuild"
    if label:
        attributes["aria-label"] = label
    button["#attributes"] = attributes
    return button


def _filter_row(row: int, number: int, choices: Choices, current: Mapping[str, Any],
                groups: Mapping[int, int]) -> RenderElement:
    prefix = f"filter.{row}"
    spec = choices.kind(current.get(f"{prefix}.field"))
    op = current.get(f"{prefix}.op")
    ops = sorted(OPERATORS[spec.kind]) if spec is not None and spec.name != SEARCH_FIELD \
        else (["fulltext"] if spec is not None else list(_ALL_OPS))
    if isinstance(op, str) and op and op not in ops:
        ops = list(_ALL_OPS)  # the validator names what the field allows
    element: RenderElement = {
        "#type": "fieldset", "#title": f"Filter {number}", "#error_key": prefix,
        "#weight": number, "#attributes": {"class": "gather-row"},
        "field": {"#type": "select", "#name": f"{prefix}.field", "#title": "Field",
                  "#options": choices.filterable(), "#empty_option": True, "#required": True,
                  "#weight": 0},
        "op": {"#type": "select", "#name": f"{prefix}.op", "#title": "Operator",
               "#options": {o: o.replace("_", " ") for o in ops}, "#required": True,
               "#weight": 1},
        "value": {**value_widget(spec, op if isinstance(op, str) else "", f"{prefix}.value"),
                  "#weight": 2},
        **_inputs(FilterDef, prefix, _FILTER_OWN, weight=3),
    }
    if groups:
        element["group"] = {
            "#type": "select", "#name": f"{prefix}.in_group", "#title": "Belongs to",
            "#options": {"": "No group (every filter must match)",
                         **{str(g): f"Group {n}" for g, n in groups.items()}},
            "#weight": 50}
    element["remove"] = _button(f"{REMOVE}filter_{row}", "Remove", weight=60,
                                label=f"Remove filter {number}")
    return element


def _group_row(group: int, number: int) -> RenderElement:
    prefix = f"group.{group}"
    return {"#type": "fieldset", "#title": f"Group {number}", "#error_key": prefix,
            "#weight": 500 + number, "#attributes": {"class": "gather-row gather-group"},
            **_inputs(GroupDef, prefix, frozenset({"filters"})),
            "remove": _button(f"{REMOVE}group_{group}", "Remove", weight=60,
                              label=f"Remove group {number}")}


def _sort_row(row: int, number: int, choices: Choices) -> RenderElement:
    prefix = f"sort.{row}"
    return {"#type": "fieldset", "#title": f"Sort {number}", "#error_key": prefix,
            "#weight": number, "#attributes": {"class": "gather-row"},
            "field": {"#type": "select", "#name": f"{prefix}.field", "#title": "Field",
                      "#options": choices.sortable(), "#empty_option": True,
                      "#required": True, "#weight": 0},
            **_inputs(SortDef, prefix, frozenset({"field"}), weight=1),
            "remove": _button(f"{REMOVE}sort_{row}", "Remove", weight=60,
                              label=f"Remove sort {number}")}


def _displays() -> list[tuple[str, FieldInfo]]:
    return [(info.alias or name, info) for name, info in Displays.model_fields.items()]


def _columns(choices: Choices, chosen: object) -> dict[str, str]:
    """The fields a column may show: the chosen ones first, in their order (the order of the
    columns), then the others."""
    first = [c for c in chosen if c in choices.labels] if isinstance(chosen, list) else []
    return {name: choices.labels[name] for name in dict.fromkeys([*first, *choices.labels])}


def editor_tree(editing: Editing, rows: Rows, choices: Choices,
                current: Mapping[str, Any]) -> RenderElement:
    """The builder's form for ``rows``; ``current`` (what the form shows or was sent)
    chooses each filter's operators and value widget from its field's kind."""
    listing: RenderElement = {"#type": "fieldset", "#title": "Listing", "#weight": 0}
    if editing.listing is None:
        listing["name"] = {"#type": "textfield", "#name": "name", "#title": "Machine name",
                           "#required": True, "#maxlength": 64, "#weight": -1,
                           "#description": "Lowercase letters, digits and underscores,"
                                           " starting with a letter. It cannot be changed."}
    else:
        listing["name"] = {"#type": "markup", "#tag": "p", "#weight": -1,
                           "#value": f"Machine name: {editing.listing}"}
    listing.update(_inputs(Definition, "", _SPECIAL))
    permissions = dict.fromkeys([*choices.permissions, editing.access])
    listing["access"] = {"#type": "select", "#name": "access", "#title": "Access",
                         "#options": {p: p for p in permissions}, "#required": True,
                         "#weight": 90,
                         "#description": "The permission a reader needs to see the listing."}
    groups = {g: n for n, g in enumerate(rows.groups, start=1)}
    filters: RenderElement = {
        "#type": "fieldset", "#title": "Filters", "#error_key": "filters", "#weight": 20,
        "#attributes": {"data-ajax-region": True},
        **{f"f{row}": _filter_row(row, n, choices, current, groups)
           for n, row in enumerate(rows.filters, start=1)},
        **{f"g{group}": _group_row(group, n) for group, n in groups.items()},
        "actions": {"#type": "actions", "#weight": 1000,
                    "add": _button(ADD_FILTER, "Add a filter", weight=0),
                    "group": _button(ADD_GROUP, "Add a filter group", weight=1)},
    }
    sorts: RenderElement = {
        "#type": "fieldset", "#title": "Sorts", "#error_key": "sorts", "#weight": 30,
        "#attributes": {"data-ajax-region": True},
        **{f"s{row}": _sort_row(row, n, choices) for n, row in enumerate(rows.sorts, start=1)},
        "actions": {"#type": "actions", "#weight": 1000,
                    "add": _button(ADD_SORT, "Add a sort", weight=0)},
    }
    pager_info = Definition.model_fields["pager"]
    pager_model = model_of(pager_info)
    assert pager_model is not None
    elements: dict[str, RenderElement] = {
        "listing": listing,
        "fields": {"#type": "checkboxes", "#name": "fields", "#title": "Columns",
                   "#options": _columns(choices, current.get("fields")), "#weight": 10,
                   "#description": "The fields the list and table styles show (after the"
                                   " title)."},
        "filters": filters,
        "sorts": sorts,
        "pager": {"#type": "fieldset", "#title": "Pager", "#weight": 40,
                  **_inputs(pager_model, "pager")},
    }
    for n, (key, info) in enumerate(_displays()):
        model = model_of(info)
        if model is None:
            continue
        elements[f"display_{key}"] = {
            "#type": "fieldset", "#title": f"{title_of(key)} display", "#weight": 50 + n,
            "#error_key": f"displays.{key}",
            "enabled": {"#type": "checkbox", "#name": f"displays.{key}",
                        "#title": f"Show the listing as {_as(key)}", "#return_value": "1",
                        "#weight": -1},
            **_inputs(model, f"displays.{key}", required=False)}
    elements["preview_with"] = {
        "#type": "textfield", "#name": PREVIEW_WITH, "#title": "Preview with",
        "#maxlength": 2000, "#weight": 990,
        "#description": "The exposed filters' and contextual arguments' values the preview"
                        " uses, as a query string: q=news&topic=jazz. Not saved."}
    elements["actions"] = {"#type": "actions", "#weight": 1000,
                           "save": forms.submit(SAVE, title="Save"),
                           "preview": forms.submit(PREVIEW, title="Preview")}
    return forms.form(EDITOR_FORM, editing.action, elements)


# -- a document as the form's values -------------------------------------------------------------


class NotEditable(ValueError):
    """A definition the form cannot show (groups nested in groups, a plugin's filter or
    sort); its message says which, after "This listing"."""


def form_of(document: Mapping[str, Any], choices: Choices) -> tuple[Rows, forms.FormValues,
                                                                     dict[str, Any]]:
    """The rows and input values showing ``document``, and the properties the form cannot
    show (kept as they are)."""
    rows = Rows()
    values: forms.FormValues = {
        "name": str(document.get("name") or ""),
        "fields": [f for f in document.get("fields") or [] if isinstance(f, str)],
        "access": str(document.get("access") or "access content"),
        **_values_of(Definition, "", document, _SPECIAL),
    }

    def filter_row(raw: Mapping[str, Any], group: int | None) -> None:
        row = rows.take()
        rows.filters.append(row)
        prefix = f"filter.{row}"
        values[f"{prefix}.field"] = str(raw.get("field") or "")
        values[f"{prefix}.op"] = str(raw.get("op") or "")
        values[f"{prefix}.value"] = shown_value(raw.get("value"))
        values[f"{prefix}.in_group"] = "" if group is None else str(group)
        values.update(_values_of(FilterDef, prefix, raw, _FILTER_OWN))

    for raw in document.get("filters") or []:
        if not isinstance(raw, Mapping):
            continue
        if "use" in raw:
            raise NotEditable("uses a plugin's filter")
        if "group" in raw:
            group = rows.take()
            rows.groups.append(group)
            values.update(_values_of(GroupDef, f"group.{group}", raw, frozenset({"filters"})))
            for inner in raw.get("filters") or []:
                if isinstance(inner, Mapping) and "group" in inner:
                    raise NotEditable("nests filter groups in groups")
                if isinstance(inner, Mapping) and "use" in inner:
                    raise NotEditable("uses a plugin's filter")
                if isinstance(inner, Mapping):
                    filter_row(inner, group)
        else:
            filter_row(raw, None)
    for raw in document.get("sorts") or []:
        if isinstance(raw, Mapping) and "use" in raw:
            raise NotEditable("uses a plugin's sort")
        if isinstance(raw, Mapping):
            row = rows.take()
            rows.sorts.append(row)
            values[f"sort.{row}.field"] = str(raw.get("field") or "")
            values.update(_values_of(SortDef, f"sort.{row}", raw, frozenset({"field"})))
    pager = document.get("pager")
    pager_model = model_of(Definition.model_fields["pager"])
    assert pager_model is not None
    values.update(_values_of(pager_model, "pager", pager if isinstance(pager, Mapping) else {}))
    displays = document.get("displays")
    displays = displays if isinstance(displays, Mapping) else {}
    for key, info in _displays():
        model = model_of(info)
        shown = displays.get(key)
        if model is None:
            continue
        values[f"displays.{key}"] = "1" if isinstance(shown, Mapping) else ""
        values.update(_values_of(model, f"displays.{key}",
                                 shown if isinstance(shown, Mapping) else {}))
    shown_keys = {info.alias or name for name, info in Definition.model_fields.items()}
    editable = {key for key, name, info in _properties(Definition, "", _SPECIAL)
                if _input(info, name, key) is not None}
    kept = {key: value for key, value in document.items()
            if key not in shown_keys or (key not in _SPECIAL and key not in editable)}
    return rows, values, kept


# -- the form's values as a document -------------------------------------------------------------


@dataclass(slots=True)
class Built:
    """A document made of a submission, and where each of its parts came from: a document
    path (``filters.2``) → the error key of the form's part (``filter.7``)."""

    document: dict[str, Any]
    origins: dict[str, str]

    def error_key(self, path: str, known: set[str]) -> str:
        """The form's element showing the validator's error at ``path`` (module docstring):
        the row the path's prefix came from, then the longest known key; ``form`` when no
        element fits."""
        candidate = path
        for prefix in sorted(self.origins, key=len, reverse=True):
            if path == prefix or path.startswith(prefix + "."):
                candidate = self.origins[prefix] + path[len(prefix):]
                break
        if candidate.startswith("group.") and candidate.count(".") > 2:
            candidate = ".".join(candidate.split(".")[:2])
        while candidate not in known and "." in candidate:
            candidate = candidate.rsplit(".", 1)[0]
        return candidate if candidate in known else "form"


def document_of(values: Mapping[str, forms.FormValue], rows: Rows, editing: Editing,
                choices: Choices) -> Built:
    """The definition document a submission describes (module docstring)."""
    document: dict[str, Any] = dict(editing.kept)
    document.update(_document_of(Definition, "", values, _SPECIAL))
    name = editing.listing if editing.listing is not None else values.get("name", "")
    document["name"] = name.strip() if isinstance(name, str) else ""
    fields = values.get("fields")
    document["fields"] = list(fields) if isinstance(fields, list) else []
    document["access"] = values.get("access") or "access content"
    origins: dict[str, str] = {}

    def one_filter(row: int) -> dict[str, Any]:
        prefix = f"filter.{row}"
        name = values.get(f"{prefix}.field", "")
        op = values.get(f"{prefix}.op", "")
        raw: dict[str, Any] = {"field": name, "op": op}
        value = filter_value(choices.kind(name), str(op), values.get(f"{prefix}.value", ""))
        if value is not None:
            raw["value"] = value
        raw.update(_document_of(FilterDef, prefix, values, _FILTER_OWN))
        return raw

    top: list[dict[str, Any]] = []
    members: dict[int, list[int]] = {g: [] for g in rows.groups}
    for row in rows.filters:
        chosen = values.get(f"filter.{row}.in_group", "")
        if isinstance(chosen, str) and chosen.isdigit() and int(chosen) in members:
            members[int(chosen)].append(row)
            continue
        origins[f"filters.{len(top)}"] = f"filter.{row}"
        top.append(one_filter(row))
    for group, inside in members.items():
        where = f"filters.{len(top)}"
        origins[where] = f"group.{group}"
        part: dict[str, Any] = _document_of(GroupDef, f"group.{group}", values,
                                            frozenset({"filters"}))
        part["filters"] = []
        for n, row in enumerate(inside):
            origins[f"{where}.filters.{n}"] = f"filter.{row}"
            part["filters"].append(one_filter(row))
        top.append(part)
    document["filters"] = top
    sorts = []
    for n, row in enumerate(rows.sorts):
        origins[f"sorts.{n}"] = f"sort.{row}"
        sorts.append({"field": values.get(f"sort.{row}.field", ""),
                      **_document_of(SortDef, f"sort.{row}", values, frozenset({"field"}))})
    document["sorts"] = sorts
    pager_model = model_of(Definition.model_fields["pager"])
    assert pager_model is not None
    document["pager"] = _document_of(pager_model, "pager", values)
    displays: dict[str, Any] = {}
    for key, info in _displays():
        model = model_of(info)
        if model is not None and values.get(f"displays.{key}") == "1":
            displays[key] = _document_of(model, f"displays.{key}", values)
    document["displays"] = displays
    return Built(document, origins)
