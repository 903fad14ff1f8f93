"""The plugins page (``/admin/plugins``): every plugin with its state, and the steps that
install, enable, disable and uninstall one.

* ``/admin/plugins`` — each discovered or installed plugin: version, status (enabled,
  disabled, not installed, failed), the capabilities it asks for, the permissions it defines,
  what it depends on and what depends on it, and the operations its status allows; below,
  the enabled plugins' requirements (the ``requirements`` tap's status report).
* ``/admin/plugins/{name}/{operation}`` — GET is the confirmation step of one operation
  (``install``, ``enable``, ``disable``, ``uninstall``); POST does it and returns to the list
  with a message.

Installing or enabling a plugin that asks for capabilities (or for limits above the defaults)
needs the box "I approve these capabilities" ticked: the same rule as the CLI's question
(:meth:`PluginInfo.needs_approval <trovato.plugins.info.PluginInfo.needs_approval>`). What the
plugin manager refuses (a dependency missing or depending on it, a failed requirement, a
plugin that does not load) is shown on the form, never as a crash. All of it needs
"administer plugins".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.forms.service import EXPIRED
from trovato.forms.state import FormState, FormStateError
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.plugins import BuildError, PluginError, PluginLoadError
from trovato.render import elements as el
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.item_edit import TAMPERED, acting, load_state, session_token

log = logging.getLogger("trovato.web")

PERMISSION = "administer plugins"
FORM_ID = "plugin_operation_form"
APPROVE = "approve"
_STATUS_LABELS = {"enabled": "Enabled", "disabled": "Disabled", "not installed": "Not installed",
                  "failed": "Failed"}


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing an administrator may do to a plugin, and when."""

    name: str
    label: str  # the link and the button
    allowed: frozenset[str]  # the statuses it applies to
    done: str  # "enabled": for the message after it
    approval: bool  # whether it asks for the capability approval
    warning: str = ""


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("install", "Install and enable", frozenset({"not installed"}),
              "installed and enabled", approval=True),
    Operation("enable", "Enable", frozenset({"disabled"}), "enabled", approval=True),
    Operation("disable", "Disable", frozenset({"enabled", "failed"}), "disabled",
              approval=False, warning="Its data stays; its pages, taps and permissions stop."),
    Operation("uninstall", "Uninstall", frozenset({"disabled"}), "uninstalled", approval=False,
              warning="Its tables and settings are dropped. This cannot be undone."),
)}


# -- the list -----------------------------------------------------------------------------------


def _lines(lines: list[str], empty: str) -> str | el.RenderElement:
    return el.item_list(list(lines)) if lines else empty


def _relations(plugin: Mapping[str, Any]) -> el.RenderElement:
    parts: dict[str, el.RenderElement] = {}
    if plugin["dependencies"]:
        parts["requires"] = el.markup("Requires: " + ", ".join(plugin["dependencies"]),
                                      tag="p")
    if plugin["dependents"]:
        parts["required_by"] = el.markup("Required by: " + ", ".join(plugin["dependents"]),
                                         tag="p")
    if not parts:
        parts["none"] = el.markup("none", tag="p")
    return el.container(parts)


def _operations(plugin: Mapping[str, Any]) -> el.RenderElement:
    links = {op.name: el.link(op.label, f"/admin/plugins/{plugin['name']}/{op.name}",
                              attributes={"class": "button",
                                          "aria-label": f"{op.label} {plugin['name']}"})
             for op in OPERATIONS.values()
             if plugin["status"] in op.allowed and (plugin["available"] or op.name == "disable")}
    return el.container(links, attributes={"class": "plugin-operations"})


def _row(plugin: Mapping[str, Any]) -> list[str | el.RenderElement]:
    status = plugin["status"]
    status_cell: dict[str, el.RenderElement] = {
        "status": el.markup(_STATUS_LABELS.get(status, status), tag="span",
                            attributes={"class": f"plugin-status plugin-status--"
                                                 f"{status.replace(' ', '-')}"}),
    }
    if plugin["problem"]:
        status_cell["problem"] = el.markup(plugin["problem"], tag="p",
                                           attributes={"class": "description"})
    return [
        el.container({"name": el.markup(plugin["name"], tag="strong"),
                      "description": el.markup(plugin["description"], tag="p",
                                               attributes={"class": "description"})},
                     attributes={"id": f"plugin-{plugin['name']}"}),
        plugin["version"],
        el.container(status_cell),
        _lines(plugin["capabilities"], "none"),
        _lines(plugin["permissions"],
               "none" if status == "enabled" else "known once enabled"),
        _relations(plugin),
        _operations(plugin),
    ]


async def plugin_list(request: Request) -> Response:
    require_admin(request, PERMISSION)
    kernel = request_context(request).kernel
    plugins = await kernel.plugins.overview()
    table = el.table(
        ["Plugin", "Version", "Status", "Asks for", "Permissions", "Dependencies",
         "Operations"],
        [_row(p) for p in plugins], empty="No plugin was found in the plugin folders.",
        attributes={"class": "plugins", "aria-label": "Plugins"})  # the heading: no caption
    requirements = await kernel.plugins.requirements()
    report = el.table(
        ["Plugin", "Requirement", "Value", "Severity", "Description"],
        [[r.plugin, r.title, r.value,
          el.markup(r.severity, tag="span", attributes={"class": f"severity severity--"
                                                                 f"{r.severity}"}),
          r.description] for r in requirements],
        caption="Requirements of the enabled plugins",
        empty="No enabled plugin reports requirements.")
    render = kernel.templates.render_tree
    return render_admin(request, "admin/plugins.html", {
        "title": "Plugins", "plugins": render(table), "requirements": render(report)})


# -- one operation ---------------------------------------------------------------------------


async def _target(request: Request) -> tuple[dict[str, Any], Operation]:
    """The plugin and operation the path names (404 for either unknown; 409 when the
    plugin's status does not allow the operation)."""
    require_admin(request, PERMISSION)
    operation = OPERATIONS.get(request.path_params["operation"])
    name = request.path_params["name"]
    plugins = await request_context(request).kernel.plugins.overview()
    plugin = next((p for p in plugins if p["name"] == name), None)
    if operation is None or plugin is None:
        raise ServiceError(404, "There is no such plugin or operation.")
    if plugin["status"] not in operation.allowed:
        raise ServiceError(409, f"Plugin {name} is {plugin['status']}: it cannot be "
                                f"{operation.done} now.")
    return plugin, operation


def _asks_approval(plugin: Mapping[str, Any], operation: Operation) -> bool:
    return operation.approval and bool(plugin["needs_approval"])


def _tree(plugin: Mapping[str, Any], operation: Operation) -> el.RenderElement:
    name = plugin["name"]
    elements: dict[str, el.RenderElement] = {
        "question": el.markup(f"{operation.label} the plugin {name}?", tag="p",
                              attributes={"class": "confirm__question"}, weight=-10),
    }
    if operation.warning:
        elements["warning"] = el.markup(operation.warning, tag="p", weight=-9)
    if operation.approval:
        elements["capabilities"] = el.item_list(
            plugin["capabilities"] or ["No capabilities."],
            title="Capabilities it asks for", weight=-5)
        elements["limits"] = el.item_list(plugin["limits"],
                                          title="Resource limits of each call", weight=-4)
    if _asks_approval(plugin, operation):
        elements[APPROVE] = {"#type": "checkbox", "#name": APPROVE, "#weight": 0,
                             "#title": "I approve these capabilities"}
    elements["actions"] = {"#type": "actions", "#weight": 10,
                           "confirm": forms.submit("confirm", title=operation.label),
                           "cancel": el.link("Cancel", "/admin/plugins", weight=1,
                                             attributes={"class": "button"})}
    return forms.form(FORM_ID, f"/admin/plugins/{name}/{operation.name}", elements)


def _state(plugin: Mapping[str, Any], operation: Operation) -> dict[str, object]:
    return {"plugin": plugin["name"], "operation": operation.name}


async def _page(request: Request, plugin: Mapping[str, Any], operation: Operation,
                tree: el.RenderElement, state: FormState, *, status: int = 200,
                values: forms.FormValues | None = None,
                errors: Mapping[str, str] | None = None,
                messages: list[tuple[str, str]] | None = None) -> Response:
    ctx = request_context(request)
    content = ctx.kernel.forms.render(tree, csrf_token=session_token(ctx), state=state,
                                      values=values, errors=errors)
    return render_admin(request, "admin/plugin_confirm.html", {
        "title": f"{operation.label} {plugin['name']}", "content": content,
    }, status_code=status, messages=messages, form=True)


async def _built(request: Request, plugin: Mapping[str, Any],
                 operation: Operation) -> el.RenderElement:
    ctx = request_context(request)
    return await ctx.kernel.forms.build(_tree(plugin, operation), user=ctx.current_user)


async def confirm(request: Request) -> Response:
    ctx = request_context(request)
    plugin, operation = await _target(request)
    state = ctx.kernel.forms.states.create(FORM_ID, session_token(ctx),
                                           _state(plugin, operation))
    return await _page(request, plugin, operation, await _built(request, plugin, operation),
                       state)


@form_post
async def submit(request: Request) -> Response:
    ctx = request_context(request)
    kernel, user = ctx.kernel, ctx.current_user
    plugin, operation = await _target(request)
    submitted = await request.form()
    expected = _state(plugin, operation)
    state, expired = await load_state(request, FORM_ID, submitted, expected)
    if state.data != expected:
        raise ServiceError(400, TAMPERED)
    tree = await _built(request, plugin, operation)
    values = forms.read(tree, submitted)
    if expired is not None:
        return await _page(request, plugin, operation, tree, state, status=expired.status,
                           values=values, messages=[("error", expired.message)])
    errors = forms.check(tree, values)
    if _asks_approval(plugin, operation) and values.get(APPROVE) != "1":
        errors.setdefault(APPROVE, f"Approve the capabilities of {plugin['name']} to "
                                   f"{operation.name} it.")
    for key, message in (await kernel.forms.validate(tree, values, user=user)).items():
        errors.setdefault(key, message)
    if errors:
        return await _page(request, plugin, operation, tree, state, status=400, values=values,
                           errors=errors)
    try:
        # Once: installing, enabling, disabling or uninstalling twice would fail or act twice.
        async with acting(request, state):
            refused = await _perform(request, plugin["name"], operation)
    except FormStateError:
        return await _page(request, plugin, operation, tree, state, status=400, values=values,
                           messages=[("error", EXPIRED)])
    if refused is not None:
        await kernel.forms.states.release(state)  # nothing was done: it may be sent again
        return await _page(request, plugin, operation, tree, state, status=409, values=values,
                           errors={"plugin": refused})
    for failure in await kernel.forms.submitted(tree, values, user=user,
                                                result={"plugin": plugin["name"]}):
        flash(request, "warning", failure)
    flash(request, "status", f"The plugin “{plugin['name']}” has been {operation.done}.")
    return RedirectResponse("/admin/plugins", status_code=303)


async def _perform(request: Request, name: str, operation: Operation) -> str | None:
    """Do ``operation``; the manager's refusal as a message for the form, or None."""
    ctx = request_context(request)
    manager, actor = ctx.kernel.plugins, ctx.current_user.id
    try:
        match operation.name:
            case "install":
                await manager.install(name, enable=True, actor=actor)
            case "enable":
                await manager.enable(name, actor=actor)
            case "disable":
                await manager.disable(name, actor=actor)
            case "uninstall":
                await manager.uninstall(name, actor=actor)
    except (PluginLoadError, BuildError) as exc:
        return f"The plugin {name} could not be {operation.done}: {exc}"
    except PluginError as exc:
        # A malfunction of the plugin's own lifecycle tap: its details are for the log.
        log.warning("plugin %s: %s failed", name, operation.name,
                    extra={"data": {"error": exc.report()}})
        return f"The plugin {name} could not be {operation.done}: {exc.detail}"
    return None


routes = [
    Route("/admin/plugins", plugin_list, methods=["GET"]),
    Route("/admin/plugins/{name}/{operation}", confirm, methods=["GET"]),
    Route("/admin/plugins/{name}/{operation}", submit, methods=["POST"]),
]
