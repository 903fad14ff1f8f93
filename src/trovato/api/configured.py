"""The schemas of the OpenAPI document that follow the site's configuration, built per request.

Everything else in the document comes from the routes' pydantic models; these depend on what
the site holds now: the names a request may use (permissions, roles, stages, item types), one
schema per field type for a field of an item type (``FieldInstance_<field type>``: its
settings), and per item type the exact shape of its items (``Item_<type>``) and of a new one
(``ItemCreate_<type>``). A model that such a schema documents says so with
:func:`~trovato.api.routing.documented_by`; the per-type schemas are that model's own schema
with what the configuration fixes filled in, so the model stays the one source of its shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from trovato.api.gather import gather_schemas
from trovato.api.item_types import MACHINE_NAME, FieldBody
from trovato.api.items import FILLED_LINE, Item, ItemCreateBody
from trovato.api.routing import DOCUMENTED_BY
from trovato.content.fields import FieldRegistry
from trovato.content.types import TYPE_NAME_MAX, ItemType
from trovato.stages import LIVE

Schema = dict[str, Any]
REF_TEMPLATE = "#/components/schemas/{model}"


def ref(name: str) -> Schema:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _shape(model: type[BaseModel], mode: Literal["validation", "serialization"]) -> Schema:
    """The model's own schema, without the mark that it is documented by another component."""
    schema = model.model_json_schema(mode=mode, ref_template=REF_TEMPLATE)
    if "$defs" in schema:
        raise TypeError(f"{model.__name__} nests models: it cannot be a per-type shape")
    schema.pop(DOCUMENTED_BY, None)
    schema.pop("title", None)
    return schema


def _refined(
    shape: Schema, properties: Schema, *, required: list[str] | None = None, description: str
) -> Schema:
    """``shape`` with some properties replaced (and the required list, when given)."""
    schema: Schema = {
        **shape,
        "properties": {**shape["properties"], **properties},
        "description": description,
    }
    if required is not None:
        schema["required"] = required
    return schema


def _name_schemas(
    permissions: list[str], stages: list[str], roles: list[str], types: list[ItemType],
    vocabularies: list[str], languages: list[str],
) -> dict[str, Schema]:
    """The names a request may use, as they are now (anything else is refused)."""
    machine_name: Schema = {
        "type": "string",
        "pattern": f"^{MACHINE_NAME}$",
        "maxLength": TYPE_NAME_MAX,
    }
    return {
        "PermissionName": (
            {"type": "string", "enum": permissions} if permissions else {"type": "string"}
        ),
        "RoleId": (
            {"type": "string", "format": "uuid", "enum": roles}
            if roles
            else {"type": "string", "format": "uuid"}
        ),
        "StageName": {"type": "string", "enum": [LIVE, *stages]},
        "ItemTypeName": (
            {**machine_name, "enum": [t.type for t in types]} if types else machine_name
        ),
        "VocabularyName": (
            {**machine_name, "enum": vocabularies} if vocabularies else machine_name
        ),
        # The database's text search configurations (``pg_ts_config``).
        "SearchLanguageName": (
            {"type": "string", "enum": languages} if languages else {"type": "string"}
        ),
    }


def _field_instance_schemas(fields: FieldRegistry) -> dict[str, Schema]:
    """One schema per field type (its settings differ), joined by a discriminator."""
    shape = _shape(FieldBody, "validation")
    schemas: dict[str, Schema] = {}
    mapping: dict[str, str] = {}
    for field_type in fields.all():
        name = f"FieldInstance_{field_type.name}"
        settings = field_type.settings_schema()
        display = shape["properties"]["display"]
        if field_type.name != "image":  # only an image is shown in an image style
            display = {**display, "properties": {
                k: v for k, v in display["properties"].items() if k != "image_style"}}
        schemas[name] = _refined(
            shape,
            {"type": {"type": "string", "const": field_type.name}, "settings": settings,
             "widget": {**shape["properties"]["widget"],
                        "enum": ["", *field_type.widgets()]},
             "display": display},
            # Left out, the settings are {}: refused when some setting has no default.
            required=[*shape["required"], "settings"] if settings.get("required") else None,
            description=(
                f"{field_type.label}: {field_type.description} Stored value properties:"
                f" {', '.join(field_type.properties)}. Widget `{field_type.widget}`"
                f"{''.join(f' (or `{w}`)' for w in field_type.other_widgets)},"
                f" formatter `{field_type.formatter}`."
            ),
        )
        mapping[field_type.name] = ref(name)["$ref"]
    schemas["FieldInstance"] = {
        "oneOf": [{"$ref": target} for target in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return schemas


def _item_schemas(types: list[ItemType], fields: FieldRegistry) -> dict[str, Schema]:
    """Per item type, its items (``Item_<type>``) and a new one (``ItemCreate_<type>``);
    ``ItemResponse`` and ``ItemCreate`` choose among them by ``type``."""
    item = _shape(Item, "serialization")
    create = _shape(ItemCreateBody, "validation")
    schemas: dict[str, Schema] = {}
    mapping: dict[str, str] = {}
    for item_type in types:
        values = {d.name: fields.field_schema(d) for d in item_type.fields}
        typed_fields: Schema = {
            "type": "object",
            "properties": values,
            "additionalProperties": False,
        }
        required = [d.name for d in item_type.fields if d.required]
        # A new item may give a field it need not have as null: no value.
        create_fields: Schema = {
            **typed_fields,
            "properties": {
                name: schema if name in required else {"anyOf": [schema, {"type": "null"}]}
                for name, schema in values.items()
            },
        }
        if required:
            create_fields["required"] = required
        const = {"type": "string", "const": item_type.type}
        description = item_type.description or item_type.label
        schemas[f"Item_{item_type.type}"] = _refined(
            item,
            {"type": const, "fields": typed_fields},
            description=f"{item_type.label}: {description}",
        )
        title = create["properties"]["title"]
        if item_type.has_title:  # required, and not blank
            title = {k: v for k, v in title.items() if k != "default"} | {"pattern": FILLED_LINE}
        create_required = ["type", "title"] if item_type.has_title else ["type"]
        if required:
            create_required.append("fields")
        schemas[f"ItemCreate_{item_type.type}"] = _refined(
            create,
            {
                "type": const,
                "title": title,
                "fields": create_fields,
            },
            required=create_required,
            description=f"A new {item_type.label}.",
        )
        mapping[item_type.type] = ref(f"ItemCreate_{item_type.type}")["$ref"]
    schemas["ItemResponse"] = (
        {"oneOf": [ref(f"Item_{t.type}") for t in types]} if types else ref(Item.__name__)
    )
    # No types yet: nothing can be created, but the shape is still documented.
    schemas["ItemCreate"] = (
        {
            "oneOf": [{"$ref": target} for target in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }
        if mapping
        else {**create, "description": "A new item."}
    )
    return schemas


def configured_schemas(
    types: list[ItemType],
    fields: FieldRegistry,
    *,
    permissions: list[str],
    stages: list[str],
    roles: list[str],
    vocabularies: list[str] | None = None,
    languages: list[str] | None = None,
) -> dict[str, Schema]:
    """Every component schema that follows the configuration, as it is now."""
    return {
        **_name_schemas(permissions, stages, roles, types, vocabularies or [], languages or []),
        **_field_instance_schemas(fields),
        **_item_schemas(types, fields),
        **gather_schemas(types),
    }
