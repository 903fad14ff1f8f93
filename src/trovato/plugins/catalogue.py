"""THE tap catalogue: every tap a plugin may implement, and how the kernel calls it.

For each tap: the payload (named arguments the SDK passes to the author's function by parameter
name) and result JSON schemas, the aggregation rule, and whether a failing plugin fails open or
closed (DESIGN §6.4-6.5). This module is the documented contract; ``docs/plugins.md`` mirrors it.

Aggregation rules:

* ``all`` — every implementation runs in order; the caller gets each plugin's non-null result.
* ``alter`` — every implementation edits ``subject`` in turn; each sees the previous plugin's
  changes. Plugins send an RFC 7396 merge patch (the SDK computes it), never a whole new tree.
* ``access`` — votes: any ``deny`` wins, else any ``grant``, else ``neutral`` (roles decide).
* ``first`` — the first non-null result wins; later plugins are not called.
* ``none`` — notifications: results are ignored.

Failure modes: ``open`` — a failing plugin is logged, counted and skipped (its element or change
is left out). ``closed`` — for access taps the failure is a ``deny`` vote; for every other tap
the operation is aborted by raising the :class:`~trovato.plugins.errors.PluginError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from trovato.plugins.schema import Schema

Aggregate = Literal["all", "alter", "access", "first", "none"]
FailMode = Literal["open", "closed"]

# -- shared shapes --------------------------------------------------------------------------
ANY: Schema = {}
NAME = r"^[a-z][a-z0-9_]*\Z"
OBJECT: Schema = {"type": "object"}
ITEM: Schema = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "id": {"type": ["string", "null"]},
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "author_id": {"type": ["string", "null"]},
        "fields": {"type": "object"},
    },
}
USER: Schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
RENDER: Schema = {
    "type": "object",
    "required": ["#type"],
    "properties": {
        "#type": {"type": "string", "pattern": NAME},
        "#weight": {"type": "number"},
        "#attributes": {"type": "object"},
        "#tag": {"type": "string", "pattern": r"^[a-z][a-z0-9]*\Z"},
        "#format": {"type": ["string", "null"]},
    },
}
RENDER_OR_NULL: Schema = {"anyOf": [{"type": "null"}, RENDER]}
ACCESS: Schema = {"type": "string", "enum": ["grant", "deny", "neutral"]}
NOTHING: Schema = ANY  # notification taps may return anything; it is ignored
# One row of the status report (Drupal's hook_requirements): ``error`` refuses install/enable.
SEVERITIES = ("ok", "info", "warning", "error")
REQUIREMENT_PHASES = ("install", "enable", "runtime")
REQUIREMENT: Schema = {
    "type": "object", "required": ["title", "severity"], "additionalProperties": False,
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                   "value": {"type": "string", "maxLength": 500},
                   "severity": {"type": "string", "enum": list(SEVERITIES)},
                   "description": {"type": "string", "maxLength": 2000}},
}
ERRORS: Schema = {
    "type": ["array", "null"],
    "items": {"type": "object", "required": ["message"],
              "properties": {"message": {"type": "string"}, "field": {"type": "string"}}},
}


def _list_of(item: Schema) -> Schema:
    return {"type": ["array", "null"], "items": item}


def _payload(**properties: Schema) -> Schema:
    return {"type": "object", "required": list(properties), "properties": properties}


PERMISSION: Schema = {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 128},
                   "title": {"type": "string"}, "description": {"type": "string"},
                   "restricted": {"type": "boolean"}},
}
MENU: Schema = {
    "type": "object", "required": ["path", "title", "callback"],
    "properties": {
        "path": {"type": "string", "pattern": r"^[a-z0-9_\-/{}]*\Z", "maxLength": 255},
        "title": {"type": "string"},
        "callback": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*\Z"},
        "permission": {"type": ["string", "null"]},
        "weight": {"type": "integer"},
        "method": {"type": "string", "enum": ["GET", "POST"]},
    },
}
ITEM_TYPE: Schema = {
    "type": "object", "required": ["type", "label", "fields"],
    "properties": {
        "type": {"type": "string", "pattern": NAME},
        "label": {"type": "string"},
        "fields": {"type": "array", "items": {
            "type": "object", "required": ["name", "label", "type"],
            "properties": {"name": {"type": "string", "pattern": NAME},
                           "type": {"type": "string", "pattern": NAME},
                           "cardinality": {"type": "integer"}}}},
    },
}


@dataclass(frozen=True, slots=True)
class TapSpec:
    name: str
    group: str
    description: str
    payload: Schema
    result: Schema
    aggregate: Aggregate
    fail: FailMode
    subject: str | None = None  # the payload key an alter tap edits

    def as_doc(self) -> dict[str, Any]:
        return {"name": self.name, "group": self.group, "description": self.description,
                "aggregate": self.aggregate, "fail": self.fail, "subject": self.subject}


def _tap(name: str, group: str, description: str, payload: Schema, result: Schema,
         aggregate: Aggregate, fail: FailMode, subject: str | None = None) -> TapSpec:
    return TapSpec(name, group, description, payload, result, aggregate, fail, subject)


_NO_ARGS = _payload()
_ITEM_ARGS = _payload(item=ITEM)

TAPS: tuple[TapSpec, ...] = (
    # Lifecycle
    _tap("install", "lifecycle", "The plugin is being installed (after its tables exist).",
         _NO_ARGS, NOTHING, "none", "closed"),
    _tap("uninstall", "lifecycle", "The plugin is being removed (before its tables are dropped).",
         _NO_ARGS, NOTHING, "none", "open"),
    _tap("enable", "lifecycle", "The plugin is being enabled.", _NO_ARGS, NOTHING, "none",
         "closed"),
    _tap("disable", "lifecycle", "The plugin is being disabled.", _NO_ARGS, NOTHING, "none",
         "open"),
    _tap("requirements", "lifecycle", "Checks for the status report and for install/enable: a "
         "list of {title, value, severity, description}; an error refuses install or enable.",
         _payload(phase={"type": "string", "enum": list(REQUIREMENT_PHASES)}),
         _list_of(REQUIREMENT), "all", "open"),
    # Content
    _tap("item_info", "content", "Item types the plugin provides.", _NO_ARGS,
         _list_of(ITEM_TYPE), "all", "open"),
    _tap("item_presave", "content", "Change or refuse an item before it is saved "
         "(raise Refused with a message to refuse).", _ITEM_ARGS, OBJECT, "alter", "closed",
         "item"),
    _tap("item_insert", "content", "An item was created.", _ITEM_ARGS, NOTHING, "none", "open"),
    _tap("item_update", "content", "An item was updated.", _ITEM_ARGS, NOTHING, "none", "open"),
    _tap("item_delete", "content", "An item was deleted.", _ITEM_ARGS, NOTHING, "none", "open"),
    _tap("item_view", "content", "Add a render element to an item's page.",
         _payload(item=ITEM, view_mode={"type": "string"}), RENDER_OR_NULL, "all", "open"),
    _tap("item_view_alter", "content", "Change an item's built render tree.",
         _payload(build=RENDER, item=ITEM), OBJECT, "alter", "open", "build"),
    _tap("item_access", "content", "Vote on an operation (view, update, delete) on an item.",
         _payload(item=ITEM, op={"type": "string", "enum": ["view", "create", "update",
                                                             "delete"]}),
         ACCESS, "access", "closed"),
    _tap("field_access", "content", "Vote on viewing or editing one field of an item.",
         _payload(field={"type": "string"}, op={"type": "string", "enum": ["view", "edit"]},
                  item=ITEM), ACCESS, "access", "closed"),
    _tap("preprocess_item", "content",
         "Add template variables for an item's template (plain data; printed escaped).",
         _payload(variables=OBJECT, item=ITEM, view_mode={"type": "string"}), OBJECT, "alter",
         "open", "variables"),
    _tap("item_update_index", "content", "Extra text to index for search.", _ITEM_ARGS,
         {"type": ["string", "null"]}, "all", "open"),
    # Categories
    _tap("tag_insert", "categories", "A category tag was created.", _payload(tag=OBJECT),
         NOTHING, "none", "open"),
    _tap("tag_update", "categories", "A category tag was updated.", _payload(tag=OBJECT),
         NOTHING, "none", "open"),
    _tap("tag_delete", "categories", "A category tag was deleted.", _payload(tag=OBJECT),
         NOTHING, "none", "open"),
    # Forms
    _tap("form_alter", "forms", "Change a form before it is shown.",
         _payload(form=OBJECT, form_id={"type": "string"}), OBJECT, "alter", "open", "form"),
    _tap("form_validate", "forms", "Validation errors: a list of {field, message}.",
         _payload(form_id={"type": "string"}, values=OBJECT), ERRORS, "all", "closed"),
    _tap("form_submit", "forms", "A valid form was submitted and saved; `result` holds what "
         "the form made (e.g. the item's id).",
         {**_payload(form_id={"type": "string"}, values=OBJECT),
          "properties": {"form_id": {"type": "string"}, "values": OBJECT, "result": OBJECT}},
         NOTHING, "none", "open"),
    _tap("form_ajax", "forms", "Add a render element to the part of a form a rebuild button "
         "(`trigger`, e.g. `add_more:field_tags`) rebuilt, with or without JavaScript.",
         _payload(form_id={"type": "string"}, trigger={"type": "string"}, values=OBJECT),
         RENDER_OR_NULL, "first", "open"),
    # Routing and access
    _tap("menu", "routing", "Routes: a list of Menu(path, title, callback, permission).",
         _NO_ARGS, _list_of(MENU), "all", "open"),
    _tap("perm", "routing", "Permissions the plugin defines.", _NO_ARGS,
         _list_of(PERMISSION), "all", "open"),
    # Theme
    _tap("theme", "theme", "Templates the plugin provides: {hook, template, variables}.",
         _NO_ARGS, _list_of({"type": "object", "required": ["hook"]}), "all", "open"),
    _tap("preprocess_page", "theme", "Add page template variables.", _payload(page=OBJECT),
         OBJECT, "alter", "open", "page"),
    _tap("tile_info", "theme", "Tiles the plugin provides: {name, title}.", _NO_ARGS,
         _list_of({"type": "object", "required": ["name", "title"],
                   "properties": {"name": {"type": "string", "pattern": NAME},
                                  "title": {"type": "string", "minLength": 1,
                                            "maxLength": 255}}}), "all", "open"),
    _tap("tile_view", "theme", "Render one of the plugin's tiles (sent to that plugin only).",
         _payload(tile={"type": "string"}, settings=OBJECT), RENDER_OR_NULL, "first", "open"),
    # Gather
    _tap("gather_info", "gather", "Named filters and sorts for Gather definitions: {filters: "
         "[{name, label?, group?, filters: [definition filters]}], sorts: [{name, label?, "
         "sorts: [definition sorts]}]}.",
         _NO_ARGS, {"type": ["object", "null"]}, "all", "open"),
    _tap("gather_alter", "gather", "Change a Gather query definition before it runs.",
         _payload(query=OBJECT), OBJECT, "alter", "open", "query"),
    _tap("gather_result_alter", "gather", "Change a Gather result.",
         _payload(result=OBJECT, query=OBJECT), OBJECT, "alter", "open", "result"),
    # Users
    _tap("user_login", "users", "A user logged in.", _payload(user=USER), NOTHING, "none",
         "open"),
    _tap("user_logout", "users", "A user logged out.", _payload(user=USER), NOTHING, "none",
         "open"),
    _tap("user_register", "users", "An account was created.", _payload(user=USER), NOTHING,
         "none", "open"),
    _tap("user_update", "users", "An account was changed.", _payload(user=USER), NOTHING,
         "none", "open"),
    # Closed: dispatched inside the deletion's transaction so a plugin can refuse (Refused) and
    # a broken plugin cannot lose the chance to clean up its data about the user; either way
    # the account stays and the administrator sees why.
    _tap("user_delete", "users", "An account is being deleted (inside the deletion's "
         "transaction; raise Refused to keep it).", _payload(user=USER), NOTHING, "none",
         "closed"),
    # Stages
    _tap("stage_publish_before", "stages", "Check a stage before it is published: errors.",
         _payload(stage={"type": "string"}, items={"type": "array"}), ERRORS, "all", "closed"),
    _tap("stage_publish_after", "stages", "A stage was published.",
         _payload(stage={"type": "string"}, items={"type": "array"}), NOTHING, "none", "open"),
    # Background
    _tap("cron", "background", "Periodic work (run by `trovato cron`).", _NO_ARGS, NOTHING,
         "none", "open"),
    _tap("queue_info", "background", "Queues the plugin works: {queue, title, lease}.",
         _NO_ARGS, _list_of({"type": "object", "required": ["queue"]}), "all", "open"),
    _tap("queue_worker", "background", "Process one job of one of the plugin's queues.",
         _payload(queue={"type": "string"}, job=ANY), NOTHING, "none", "closed"),
)

CATALOGUE: dict[str, TapSpec] = {spec.name: spec for spec in TAPS}

# Taps whose subsystem does not exist yet, with what they wait for. Nothing fires them, so a
# plugin implementing one is refused at install and enable rather than silently never run.
NOT_YET_AVAILABLE: dict[str, str] = {
    "field_access": "field access",
    "item_update_index": "search",
    **dict.fromkeys(("theme", "preprocess_page"), "theme templates"),
}


def unavailable(taps: set[str] | frozenset[str]) -> str | None:
    """What refuses a plugin implementing ``taps``: the not-yet-available ones named with
    their subsystem, or None when every tap is available."""
    waiting = sorted(taps & NOT_YET_AVAILABLE.keys())
    if not waiting:
        return None
    named = ", ".join(f"{tap} ({NOT_YET_AVAILABLE[tap]})" for tap in waiting)
    return (f"implements tap(s) that are not available yet: {named}; nothing would call "
            f"them, so remove them until their subsystem exists")


def spec(tap: str) -> TapSpec:
    """The catalogue entry for ``tap``; KeyError names the tap."""
    try:
        return CATALOGUE[tap]
    except KeyError:
        raise KeyError(f"unknown tap {tap!r}") from None
