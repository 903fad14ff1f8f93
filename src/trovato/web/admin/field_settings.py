"""What the field screens of an item type share: the inputs of a field's settings, made from
its field type's settings model (its JSON schema, so a field type brings its settings screen
with it; the service checks them with that same model), the inputs every field has (required,
number of values, help text), and reading both back from a submission.

A reference field's targets (``target_bundles``) are the one setting not typed: they are ticked
among what exists (:class:`Targets`) — the site's item types when the field points at items,
its vocabularies when it points at tags — so a name that is no type or vocabulary cannot be
given; one given before and since gone stays a choice (marked so) until it is unticked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.requests import Request

from trovato.content.fields import FieldDefinition, FieldRegistry, FieldType, UnknownFieldTypeError
from trovato.content.types import ItemType
from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.render.elements import RenderElement
from trovato.web.admin._structure import content, type_path

PREFIX = "field_"
CARDINALITIES = {**{str(n): str(n) for n in range(1, 11)}, "-1": "Unlimited"}
# What the summary calls errors no input of the form shows.
LABELS = {"type": "Field type", "order": "Field order", "fields": "Fields"}
# A reference field's settings: what it points at, and which types or vocabularies of it.
TARGET_TYPE: Final = "target_type"
TARGETS: Final = "target_bundles"
# The vocabularies' checkboxes: a second input for the one setting, read when the field
# points at tags (their names may be item types' names too).
VOCABULARIES: Final = "target_vocabularies"
_ITEMS, _TAGS = "item", "category_tag"


@dataclass(frozen=True, slots=True)
class Targets:
    """What a reference field may be limited to: the item types and the vocabularies (machine
    name → label) there are."""

    types: dict[str, str] = field(default_factory=dict)
    vocabularies: dict[str, str] = field(default_factory=dict)


async def targets_for(request: Request, field_type: FieldType | None) -> Targets:
    """The targets offered to ``field_type``'s settings: none (and nothing read) unless it
    has a ``target_bundles`` setting."""
    if field_type is None or TARGETS not in (field_type.settings_schema().get("properties")
                                             or {}):
        return Targets()
    types = await content(request).types.cached()
    names = await request_context(request).kernel.categories.vocabulary_names()
    return Targets({name: f"{t.label} ({name})" for name, t in sorted(
        types.items(), key=lambda pair: pair[1].label)}, {name: name for name in names})


def field_types(request: Request) -> FieldRegistry:
    """The field types the site knows (the core's and the enabled plugins')."""
    return content(request).fields


def fields_path(current: ItemType) -> str:
    """Where the fields of ``current`` are listed (and every field form goes back to)."""
    return f"{type_path(current)}/fields"


def type_label(registry: FieldRegistry, name: str) -> str:
    """A field type as shown: "Integer (integer)", or its name when no longer registered."""
    try:
        return f"{registry.get(name).label} ({name})"
    except UnknownFieldTypeError:
        return name


def values_label(cardinality: int) -> str:
    return "Unlimited" if cardinality == -1 else str(cardinality)


def common_inputs(definition: FieldDefinition | None) -> dict[str, RenderElement]:
    """The inputs every field has (required, number of values, help text), showing
    ``definition``'s (None: a new field's defaults)."""
    return {
        "required": {"#type": "checkbox", "#name": "required", "#return_value": "1",
                     "#title": "Required", "#weight": 10,
                     "#default_value": "1" if definition and definition.required else ""},
        "cardinality": {"#type": "select", "#name": "cardinality", "#weight": 11,
                        "#title": "Number of values", "#required": True,
                        "#options": {**CARDINALITIES,
                                     **({str(definition.cardinality):
                                         values_label(definition.cardinality)}
                                        if definition else {})},
                        "#default_value": str(definition.cardinality) if definition else "1",
                        "#description": "How many values an item may hold. A field name"
                                        " keeps single or multiple values on every type."},
        "description": {"#type": "textarea", "#name": "description", "#title": "Help text",
                        "#maxlength": 2000, "#weight": 12,
                        "#default_value": definition.description if definition else "",
                        "#description": "Shown to editors below the field."},
    }


def instance(values: forms.FormValues) -> dict[str, Any]:
    """The instance properties a field form holds (label, help text, required, values)."""
    text = forms.text_values(values)
    return {"label": text.get("label", ""), "description": text.get("description", ""),
            "required": text.get("required") == "1",
            "cardinality": int(text.get("cardinality") or 1)}


# -- settings inputs from a field type's settings model -----------------------------------------


def _shape(prop: Mapping[str, Any]) -> tuple[str, bool]:
    """A settings property's kind (``boolean``, ``integer``, ``number``, ``string``, ``array``,
    ``object``) and whether it may be null."""
    options = prop.get("anyOf")
    if isinstance(options, list):
        kinds = [str(o.get("type")) for o in options if isinstance(o, Mapping)]
        real = [k for k in kinds if k != "null"]
        # A property taking a map or a list (a list field's allowed values) is edited as the
        # map: "key|label" lines, of which a plain list is the special case.
        kind = "object" if "object" in real else (real[0] if real else "string")
        return kind, "null" in kinds
    return str(prop.get("type", "string")), False


def _settings_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "1" if value else ""
    if kind == "array" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if kind == "object":
        if isinstance(value, Mapping):
            return "\n".join(k if k == v else f"{k}|{v}" for k, v in value.items())
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
    return str(value)


def _settings_element(key: str, prop: Mapping[str, Any], required: bool, value: Any,
                      formats: list[str], weight: int) -> RenderElement:
    kind, _nullable = _shape(prop)
    # The model's title (its own, else pydantic's "Min Length" from the name) and description.
    help_text = str(prop.get("description") or "")
    element: RenderElement = {"#name": f"settings[{key}]", "#error_key": f"settings.{key}",
                              "#title": str(prop.get("title") or key.replace("_", " "))
                              .capitalize(),
                              "#weight": weight, "#required": required,
                              "#default_value": _settings_text(kind, value)}
    enum = prop.get("enum")
    if key == "default_format":
        shown = [*formats, *([str(value)] if value and value not in formats else [])]
        element.update({"#type": "select", "#options": {f: f for f in shown}})
    elif isinstance(enum, list):
        element.update({"#type": "select", "#options": {str(v): str(v) for v in enum}})
    elif kind == "boolean":
        element.update({"#type": "checkbox", "#return_value": "1", "#required": False})
    elif kind in ("integer", "number"):
        element.update({"#type": "number", "#step": "1" if kind == "integer" else "any"})
    elif kind == "array":
        element.update({"#type": "textarea",
                        "#description": " ".join(filter(None, ("One per line.", help_text)))})
    elif kind == "object":
        element.update({"#type": "textarea",
                        "#description": "One per line: the stored key, a | and the label"
                                        " shown (a line without | is both)."})
    else:
        element.update({"#type": "textfield", "#maxlength": int(prop.get("maxLength", 255))})
    if help_text and "#description" not in element:
        element["#description"] = help_text
    return element


def _target_inputs(settings: Mapping[str, Any], targets: Targets,
                   weight: int) -> dict[str, RenderElement]:
    """A reference field's targets as checkboxes: the item types, and the vocabularies when
    there are any; what ``settings`` gives shown ticked in the one its target type reads."""
    given = [str(name) for name in settings.get(TARGETS) or ()]
    pointed = settings.get(TARGET_TYPE, _ITEMS)

    def choices(existing: dict[str, str], used: bool) -> dict[str, str]:
        # The targets given first, in their order (the boxes are sent in the order shown, and
        # free tagging creates a tag in the first vocabulary): an untouched form keeps them.
        first = {name: existing.get(name, f"{name} (no longer exists)")
                 for name in (given if used else ())}
        return {**first, **{k: v for k, v in existing.items() if k not in first}}

    inputs: dict[str, RenderElement] = {TARGETS: {
        "#type": "checkboxes", "#name": f"settings[{TARGETS}]",
        "#error_key": f"settings.{TARGETS}", "#title": "Item types", "#weight": weight,
        "#options": choices(targets.types, pointed == _ITEMS),
        "#default_value": given if pointed == _ITEMS else [],
        "#description": "When the target type is item: the types a value may point at."
                        " None ticked allows every type."}}
    vocabularies = choices(targets.vocabularies, pointed == _TAGS)
    if vocabularies:
        inputs[VOCABULARIES] = {
            "#type": "checkboxes", "#name": f"settings[{VOCABULARIES}]",
            "#error_key": f"settings.{VOCABULARIES}", "#title": "Vocabularies",
            "#weight": weight + 0.5, "#options": vocabularies,
            "#default_value": given if pointed == _TAGS else [],
            "#description": "When the target type is category_tag: the vocabularies whose"
                            " tags a value may be; a tag typed by a new name is created in the"
                            " first ticked, in the order shown. None ticked allows every"
                            " vocabulary, each tag then given by id."}
    return inputs


def target_errors(field_type: FieldType, values: forms.FormValues) -> dict[str, str]:
    """Targets ticked that the chosen target type does not read (item types for tags,
    vocabularies for items, either for users): named, rather than dropped unsaid."""
    if TARGETS not in (field_type.settings_schema().get("properties") or {}):
        return {}
    pointed = forms.text_values(values).get(f"settings[{TARGET_TYPE}]", _ITEMS)
    errors: dict[str, str] = {}
    if pointed != _ITEMS and _ticked(values, TARGETS):
        errors[f"settings.{TARGETS}"] = ("Item types apply only when the target type is"
                                         " item: untick them or choose item.")
    if pointed != _TAGS and _ticked(values, VOCABULARIES):
        errors[f"settings.{VOCABULARIES}"] = ("Vocabularies apply only when the target type"
                                              " is category_tag: untick them or choose"
                                              " category_tag.")
    return errors


def _ticked(values: forms.FormValues, name: str) -> list[str]:
    """The boxes of ``settings[name]`` ticked (an empty value is none: a box has a name)."""
    chosen = values.get(f"settings[{name}]")
    return [v for v in chosen if v] if isinstance(chosen, list) else []


def settings_fieldset(field_type: FieldType, settings: Mapping[str, Any],
                      formats: list[str], targets: Targets) -> RenderElement | None:
    """The inputs of ``field_type``'s settings showing ``settings`` (None: it has none), a
    reference field's targets chosen among ``targets``."""
    schema = field_type.settings_schema()
    properties = schema.get("properties") or {}
    if not properties:
        return None
    required = set(schema.get("required") or ())
    # A rule about several settings together (min not above max) is shown on the fieldset.
    fieldset: RenderElement = {"#type": "fieldset", "#title": f"{field_type.label} settings",
                               "#weight": 20, "#error_key": "settings.settings"}
    for weight, (key, prop) in enumerate(properties.items()):
        if key == TARGETS:
            fieldset.update(_target_inputs(settings, targets, weight))
            continue
        fieldset[key] = _settings_element(key, prop, key in required,
                                          settings.get(key, prop.get("default")), formats,
                                          weight)
    return fieldset


def parse_settings(field_type: FieldType, values: forms.FormValues) -> dict[str, Any]:
    """The raw settings a submission holds, for the service to check against the model (the
    number inputs' own checks already refused text that is not a number)."""
    text = forms.text_values(values)
    schema = field_type.settings_schema()
    raw: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        kind, nullable = _shape(prop)
        value = text.get(f"settings[{key}]", "")
        if key == TARGETS:
            # The checkboxes the target type reads (target_errors refused ticks in the other).
            pointed = text.get(f"settings[{TARGET_TYPE}]", _ITEMS)
            raw[key] = _ticked(values, {_ITEMS: TARGETS, _TAGS: VOCABULARIES}[pointed]) \
                if pointed in (_ITEMS, _TAGS) else []
        elif kind == "boolean":
            raw[key] = value == "1"
        elif kind == "array":
            raw[key] = [line.strip() for line in value.splitlines() if line.strip()]
        elif kind == "object":
            pairs = [line.strip().partition("|") for line in value.splitlines()
                     if line.strip()]
            if pairs:
                raw[key] = {k.strip(): (label.strip() if sep else k.strip())
                            for k, sep, label in pairs}
        elif value.strip() == "":
            if nullable:
                raw[key] = None
            # else: left out, the model's default applies
        elif kind in ("integer", "number"):
            try:
                raw[key] = int(value) if kind == "integer" else float(value)
            except ValueError:
                raw[key] = value  # the service names the setting and what it must be
        else:
            raw[key] = value
    return raw


def text_formats(request: Request) -> list[str]:
    """The text formats a long text field may default to."""
    return sorted(request_context(request).kernel.theme.formats.names())
