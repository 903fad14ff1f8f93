"""The Gather builder's form: a definition as form elements, a submission back into a
definition document, and the definition validator's error paths onto the form's inputs.

The form is built from the definition model itself (:mod:`trovato.gather.definition`): every
scalar property of the definition, its pager, its displays, its filters and sorts becomes an
input by its type (:mod:`~trovato.web.admin.gather_inputs`) — a ``Literal`` a select of its
values, a text a text field, a number a number input, a flag a checkbox, a list of texts a
comma-separated field — so a property or a display kind added to the model appears here
without a change. What the model cannot say is
added from the site: the fields a filter, a sort or a column may name (the field registry for
the base), the operators of a field's kind, a value widget fitting that kind, the permissions.

Filters, filter groups and sorts are rows. Their ids live in the form's sealed state
(:class:`Rows`) and name their inputs (``filter.3.value``), so removing a row does not shift
what was typed in the others; "Add a filter" and "Remove" rebuild the form from that state.
A filter row either stands alone (all of them must match) or belongs to a group whose filters
are joined by AND or OR; a definition nesting groups deeper than that is edited as YAML.
Properties the form cannot show (say a list of objects a later version adds) are kept from
the stored document as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, get_args

from pydantic.fields import FieldInfo

from trovato.content.types import ItemType
from trovato.forms import form as forms
from trovato.gather.definition import (
    MAX_FILTERS,
    OPERATORS,
    Definition,
    Displays,
    FilterDef,
    GroupDef,
    Op,
    SortDef,
)
from trovato.gather.fields import SEARCH_FIELD, FieldSpec, field_specs
from trovato.render.elements import RenderElement
from trovato.web.admin.gather_inputs import (
    MAX_SORTS,
    filter_value,
    model_document,
    model_inputs,
    model_of,
    model_properties,
    model_values,
    property_input,
    shown_value,
    title_of,
    value_widget,
)

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


# -- the rows (the form's sealed state) ----------------------------------------------------------


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
        **model_inputs(FilterDef, prefix, _FILTER_OWN, weight=3),
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
            **model_inputs(GroupDef, prefix, frozenset({"filters"})),
            "remove": _button(f"{REMOVE}group_{group}", "Remove", weight=60,
                              label=f"Remove group {number}")}


def _sort_row(row: int, number: int, choices: Choices) -> RenderElement:
    prefix = f"sort.{row}"
    return {"#type": "fieldset", "#title": f"Sort {number}", "#error_key": prefix,
            "#weight": number, "#attributes": {"class": "gather-row"},
            "field": {"#type": "select", "#name": f"{prefix}.field", "#title": "Field",
                      "#options": choices.sortable(), "#empty_option": True,
                      "#required": True, "#weight": 0},
            **model_inputs(SortDef, prefix, frozenset({"field"}), weight=1),
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
    # The machine name comes after the label (weight 0, the model's first input), as every
    # admin form asks for it.
    if editing.listing is None:
        listing["name"] = {"#type": "textfield", "#name": "name", "#title": "Machine name",
                           "#required": True, "#maxlength": 64, "#weight": 0.5,
                           "#description": "Lowercase letters, digits and underscores,"
                                           " starting with a letter. It cannot be changed."}
    else:
        listing["name"] = {"#type": "markup", "#tag": "p", "#weight": 0.5,
                           "#value": f"Machine name: {editing.listing}"}
    listing.update(model_inputs(Definition, "", _SPECIAL))
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
                  **model_inputs(pager_model, "pager")},
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
            **model_inputs(model, f"displays.{key}", required=False)}
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
        **model_values(Definition, "", document, _SPECIAL),
    }

    def filter_row(raw: Mapping[str, Any], group: int | None) -> None:
        row = rows.take()
        rows.filters.append(row)
        prefix = f"filter.{row}"
        values[f"{prefix}.field"] = str(raw.get("field") or "")
        values[f"{prefix}.op"] = str(raw.get("op") or "")
        values[f"{prefix}.value"] = shown_value(raw.get("value"))
        values[f"{prefix}.in_group"] = "" if group is None else str(group)
        values.update(model_values(FilterDef, prefix, raw, _FILTER_OWN))

    for raw in document.get("filters") or []:
        if not isinstance(raw, Mapping):
            continue
        if "use" in raw:
            raise NotEditable("uses a plugin's filter")
        if "group" in raw:
            group = rows.take()
            rows.groups.append(group)
            values.update(model_values(GroupDef, f"group.{group}", raw, frozenset({"filters"})))
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
            values.update(model_values(SortDef, f"sort.{row}", raw, frozenset({"field"})))
    pager = document.get("pager")
    pager_model = model_of(Definition.model_fields["pager"])
    assert pager_model is not None
    values.update(model_values(pager_model, "pager", pager if isinstance(pager, Mapping) else {}))
    displays = document.get("displays")
    displays = displays if isinstance(displays, Mapping) else {}
    for key, info in _displays():
        model = model_of(info)
        shown = displays.get(key)
        if model is None:
            continue
        values[f"displays.{key}"] = "1" if isinstance(shown, Mapping) else ""
        values.update(model_values(model, f"displays.{key}",
                                 shown if isinstance(shown, Mapping) else {}))
    shown_keys = {info.alias or name for name, info in Definition.model_fields.items()}
    editable = {key for key, name, info in model_properties(Definition, "", _SPECIAL)
                if property_input(info, name, key) is not None}
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
    document.update(model_document(Definition, "", values, _SPECIAL))
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
        raw.update(model_document(FilterDef, prefix, values, _FILTER_OWN))
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
        part: dict[str, Any] = model_document(GroupDef, f"group.{group}", values,
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
                      **model_document(SortDef, f"sort.{row}", values, frozenset({"field"}))})
    document["sorts"] = sorts
    pager_model = model_of(Definition.model_fields["pager"])
    assert pager_model is not None
    document["pager"] = model_document(pager_model, "pager", values)
    displays: dict[str, Any] = {}
    for key, info in _displays():
        model = model_of(info)
        if model is not None and values.get(f"displays.{key}") == "1":
            displays[key] = model_document(model, f"displays.{key}", values)
    document["displays"] = displays
    return Built(document, origins)
