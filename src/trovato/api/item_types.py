"""``/api/v1/item-types``: list, read, create, change and delete item types and their fields.

Reading needs ``access content`` (clients need the shapes to build forms); changing needs
``administer content types``. The routes parse and call
:class:`~trovato.content.type_service.ItemTypes`; its refusals (``ItemTypeError``) reach the
kernel's error handler as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, PatchModel, ResponseModel, StrictModel
from trovato.api.routing import Param, api_routes, documented_by, operation, read_body
from trovato.content.access import ACCESS_CONTENT, ADMINISTER_TYPES
from trovato.content.fields import FIELD_NAME_MAX, MAX_CARDINALITY
from trovato.content.services import ContentServices
from trovato.content.types import LABEL_DISPLAYS, MAX_FIELDS, TYPE_DEFAULTS, TYPE_NAME_MAX
from trovato.errors import ServiceError
from trovato.files.styles import NAME as STYLE_NAME
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context

MACHINE_NAME = "[a-z][a-z0-9_]*"
NOT_BLANK = r"\S"  # the service refuses labels that are empty or only whitespace


def service_checked(**schema: Any) -> dict[str, Any]:
    """A rule the document shows and the service enforces: it checks the whole type and
    names every problem at once, which stopping at the model's first failure would hide."""
    return schema


# No field name twice: the service names the repeated one. JSON Schema can only say that no
# field is listed twice whole (``uniqueItems``), which is part of it.
FIELD_LIST = "The type's fields, each name once."
ONCE = service_checked(uniqueItems=True)


class FieldBody(StrictModel):
    """A field of an item type. Documented per field type (``FieldInstance_<type>``, whose
    settings follow the field type registry and are what the service checks them against)."""

    model_config = ConfigDict(json_schema_extra=documented_by("FieldInstance"))

    # The service checks names, labels and cardinality and names each problem by the
    # field's name.
    name: str = Field(max_length=FIELD_NAME_MAX,
                      json_schema_extra=service_checked(pattern=f"^{MACHINE_NAME}$"))
    type: str = Field(max_length=64)
    label: str = Field(max_length=255, json_schema_extra=service_checked(pattern=NOT_BLANK))
    description: str = Field(default="", max_length=2000)
    required: bool = False
    cardinality: int = Field(default=1, description="-1 for unlimited", json_schema_extra=(
        service_checked(minimum=-1, maximum=MAX_CARDINALITY, **{"not": {"const": 0}})))
    settings: dict[str, Any] = Field(default_factory=dict)
    widget: str = Field(default="", max_length=64, description=(
        "The widget editing the field: one its field type lists (see the field type's"
        " description); empty or left out, the field type's own."))
    # Not a nested model: the per-field-type schemas are this model's own shape.
    display: dict[str, Any] = Field(default_factory=dict, json_schema_extra=service_checked(
        description="How the full view shows the field; left out, as its field type does"
                    " (the label above it, hidden for formatted text).",
        properties={"label": {"type": "string", "enum": list(LABEL_DISPLAYS)},
                    "hidden": {"type": "boolean"},
                    "image_style": {"type": "string", "pattern": STYLE_NAME.pattern,
                                    "description": "An image field only: the image style it"
                                                   " is shown in; left out, the original."}},
        additionalProperties=False))


def _defaults_schema(schema: dict[str, Any]) -> None:
    """The keys of a type's defaults (the service refuses others), on the object itself or,
    where the property may be left out (PATCH), on its object choice."""
    schema["description"] = ("What a new item of the type is unless its editor says otherwise"
                             " (the add form's choices); left out: published, not promoted,"
                             " not sticky.")
    objects = [c for c in schema.get("anyOf", ()) if c.get("type") == "object"] or [schema]
    for target in objects:
        target.update(service_checked(
            properties={key: {"type": "boolean"} for key in TYPE_DEFAULTS},
            additionalProperties=False))


class ItemTypeBody(StrictModel):
    """A whole item type (POST, PUT)."""

    type: str = Field(max_length=TYPE_NAME_MAX,
                      json_schema_extra=service_checked(pattern=f"^{MACHINE_NAME}$"))
    label: str = Field(max_length=255, json_schema_extra=service_checked(pattern=NOT_BLANK))
    description: str = Field(default="", max_length=2000)
    has_title: bool = True
    title_label: str = Field(default="Title", max_length=255)
    defaults: dict[str, bool] = Field(default_factory=dict,
                                      json_schema_extra=_defaults_schema)
    fields: list[FieldBody] = Field(default_factory=list, max_length=MAX_FIELDS,
                                    description=FIELD_LIST, json_schema_extra=ONCE)


class ItemTypePutBody(ItemTypeBody):
    """A whole replacement. ``fields`` is required so that forgetting it cannot silently
    remove every field (and its data) from the type."""

    # Optional (empty): the path names the type.
    type: str = Field(default="", max_length=TYPE_NAME_MAX,
                      json_schema_extra=service_checked(pattern=f"^({MACHINE_NAME})?$"))
    fields: list[FieldBody] = Field(max_length=MAX_FIELDS, description=FIELD_LIST,
                                    json_schema_extra=ONCE)


class ItemTypePatchBody(PatchModel):
    """Any part of an item type; ``fields``, when given, is the complete new list."""

    label: str | None = Field(default=None, max_length=255,
                              json_schema_extra=service_checked(pattern=NOT_BLANK))
    description: str | None = Field(default=None, max_length=2000)
    has_title: bool | None = None
    title_label: str | None = Field(default=None, max_length=255)
    defaults: dict[str, bool] | None = Field(default=None,
                                             json_schema_extra=_defaults_schema)
    fields: list[FieldBody] | None = Field(default=None, max_length=MAX_FIELDS,
                                           description=FIELD_LIST, json_schema_extra=ONCE)


class ItemType(ResponseModel):
    type: str = Field(max_length=TYPE_NAME_MAX, pattern=f"^{MACHINE_NAME}$")
    label: str = Field(max_length=255)
    description: str = Field(max_length=2000)
    fields: list[FieldBody]
    defaults: dict[str, bool] = Field(default_factory=dict,
                                      json_schema_extra=_defaults_schema)


class ItemTypeList(ResponseModel):
    item_types: list[ItemType]


class ItemTypeDeleted(ResponseModel):
    type: str
    deleted_items: int
    message: str


TYPE_PATH = "/api/v1/item-types/{type}"
# ``ItemTypeName`` lists the existing types (the document follows them).
TYPE_PARAM = Param("type", "path", {"$ref": "#/components/schemas/ItemTypeName"},
                   "An item type")


def content_services(request: Request) -> ContentServices:
    """The kernel's content services (``kernel.content``)."""
    services = getattr(request_context(request).kernel, "content", None)
    if not isinstance(services, ContentServices):
        raise RuntimeError("the content services are not started (Kernel.start wiring)")
    return services


def _document(body: StrictModel) -> dict[str, Any]:
    # Only what the client sent: PATCH keeps the rest, and defaults live in the service.
    return body.model_dump(exclude_unset=True)


@operation("GET", "/api/v1/item-types", operation_id="listItemTypes",
           summary="List item types", tag="Item types", responses={200: ItemTypeList})
async def list_types(request: Request) -> Response:
    require_permission(request, ACCESS_CONTENT)
    types = await content_services(request).types.all()
    return JSON({"item_types": [t.public() for t in types]})


@operation("GET", TYPE_PATH, operation_id="getItemType", summary="Get an item type",
           tag="Item types", responses={200: ItemType}, problems=(404,), params=(TYPE_PARAM,))
async def get_type(request: Request) -> Response:
    require_permission(request, ACCESS_CONTENT)
    item_type = await content_services(request).types.get(request.path_params["type"])
    if item_type is None:
        raise ServiceError(404, "No such item type.")
    return JSON(item_type.public())


@operation("POST", "/api/v1/item-types", operation_id="createItemType",
           summary="Create an item type", tag="Item types", responses={201: ItemType},
           body=ItemTypeBody, problems=(409,),
           description="Needs `administer content types`. A field name keeps one field type"
                       " and cardinality on every item type.")
async def create_type(request: Request) -> Response:
    user = require_permission(request, ADMINISTER_TYPES)
    body = await read_body(request, ItemTypeBody)
    created = await content_services(request).types.create(_document(body), actor=user.id)
    return JSON(created.public(), status_code=201,
                headers={"location": f"/api/v1/item-types/{created.type}"})


@operation("PATCH", TYPE_PATH, operation_id="patchItemType",
           summary="Change part of an item type", tag="Item types", responses={200: ItemType},
           body=ItemTypePatchBody, problems=(404, 409), params=(TYPE_PARAM,))
@operation("PUT", TYPE_PATH, operation_id="putItemType", summary="Replace an item type",
           tag="Item types", responses={200: ItemType}, body=ItemTypePutBody, problems=(404, 409),
           params=(TYPE_PARAM,))
async def update_type(request: Request) -> Response:
    user = require_permission(request, ADMINISTER_TYPES)
    partial = request.method == "PATCH"
    body: StrictModel = await read_body(
        request, ItemTypePatchBody if partial else ItemTypePutBody
    )
    document = _document(body)
    if not partial and not document.get("type"):
        document.pop("type", None)
    updated = await content_services(request).types.update(
        request.path_params["type"], document, actor=user.id, partial=partial
    )
    return JSON(updated.public())


@operation("DELETE", TYPE_PATH, operation_id="deleteItemType",
           summary="Delete an item type", tag="Item types", responses={200: ItemTypeDeleted},
           problems=(404, 409, 422),
           params=(TYPE_PARAM, Param("force", "query", {"type": "boolean", "default": False},
                                     "Also delete the type's items (refused with 409"
                                     " otherwise)")))
async def delete_type(request: Request) -> Response:
    user = require_permission(request, ADMINISTER_TYPES)
    force_param = request.query_params.get("force", "false").lower()
    if force_param not in ("true", "false", "1", "0"):
        raise ServiceError(422, "force must be true or false.", errors={"force": "must be"
                                                                        " true or false"})
    services = content_services(request)
    result = await services.types.delete(
        request.path_params["type"], actor=user.id, force=force_param in ("true", "1"),
        purge=services.items.purge_type,
    )
    return JSON({"type": result.type, "deleted_items": result.deleted_items,
                 "message": result.message})


routes = api_routes(list_types, create_type, get_type, update_type, delete_type)
