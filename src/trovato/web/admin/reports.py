"""The reports pages: the recent log entries and the site's status report.

* ``/admin/reports`` — the audit log (``watchdog``), newest first: type, severity, message,
  user and time, filtered by type and severity (a GET form: the filters are in the address,
  so a filtered listing can be bookmarked), 50 to a page;
* ``/admin/reports/log/{id}`` — one entry in full;
* ``/admin/reports/status`` — database, shared store, plugins, cron and the plugins'
  requirements, each ok, warning or error (:mod:`trovato.kernel.status`).

Thin: the log is read by :mod:`trovato.observability.log_reader` and shown through the render
tree, which escapes every message (they hold what users typed). All of it needs "access site
reports".
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.view import format_date
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.kernel.status import site_status
from trovato.observability.log_reader import (
    MAX_PAGE,
    SEVERITIES,
    LogEntry,
    log_entry,
    log_types,
    read_log,
)
from trovato.render import elements as el
from trovato.web.admin import render_admin, require_admin
from trovato.web.item import viewer

PERMISSION = "access site reports"
FILTER_FORM = "log_filter_form"
# Longest message shown in the listing; the entry's page shows all of it.
_SHORT = 120
TABS = (("log", "Recent log entries", "/admin/reports"),
        ("status", "Status report", "/admin/reports/status"))


def _tabs(current: str) -> list[dict[str, Any]]:
    return [{"title": title, "href": href, "current": key == current}
            for key, title, href in TABS]


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _user_cell(entry: LogEntry) -> str | el.RenderElement:
    if entry.system and (entry.user_id is None or entry.user_name == ""):
        return f"System ({entry.system})"  # a command acts with no account of its own
    if entry.user_id is None or entry.user_name == "":
        return "Anonymous"
    if entry.user_name is None:
        return "(deleted account)"
    return el.link(entry.user_name, f"/user/{entry.user_id}")


def _severity(severity: int, name: str) -> el.RenderElement:
    return el.markup(name, tag="span", attributes={"class": f"severity severity--{severity}"})


def _filter_form(types: list[str]) -> el.RenderElement:
    return forms.form(FILTER_FORM, "/admin/reports", {
        "filters": el.container({
            "type": {"#type": "select", "#name": "type", "#title": "Type",
                     "#options": {"": "- Any -", **{t: t for t in types}}},
            "severity": {"#type": "select", "#name": "severity", "#title": "Severity",
                         "#options": {"": "- Any -",
                                      **{str(n): name for n, name in SEVERITIES.items()}}},
            "actions": {"#type": "actions",
                        "filter": forms.submit("filter", title="Filter"),
                        "reset": el.link("Reset", "/admin/reports", weight=1,
                                         attributes={"class": "button"})},
        }, attributes={"class": "log-filters"}),
    }, method="get")


def _page_number(raw: str | None) -> int:
    """The 0-based page of ``?page=``: anything else than a number in range is the first."""
    if raw is None or not raw.isdigit() or len(raw) > 6:
        return 0
    return min(int(raw), MAX_PAGE)


async def log_list(request: Request) -> Response:
    require_admin(request, PERMISSION)
    ctx = request_context(request)
    kernel = ctx.kernel
    types = await log_types(kernel.db)
    tree = await kernel.forms.build(_filter_form(types), user=ctx.current_user)
    values = forms.read(tree, request.query_params)
    errors = forms.check(tree, values)
    # A filter that is not among the choices is shown as an error and not applied.
    chosen_type = str(values["type"]) if values["type"] and "type" not in errors else None
    chosen_severity = (int(str(values["severity"]))
                       if values["severity"] and "severity" not in errors else None)
    listing = await read_log(kernel.db, type_=chosen_type, severity=chosen_severity,
                             page=_page_number(request.query_params.get("page")))
    reader = viewer(ctx)
    rows: list[list[str | el.RenderElement]] = [
        [entry.type, _severity(entry.severity, entry.severity_name),
         el.link(_short(entry.message) or "(no message)", f"/admin/reports/log/{entry.id}"),
         _user_cell(entry), format_date(entry.created, reader)]
        for entry in listing.entries
    ]
    table = el.table(["Type", "Severity", "Message", "User", "Time"], rows,
                     caption="Newest first", empty="No log entries match.",
                     attributes={"class": "log-entries"})
    query = {k: str(v) for k, v in (("type", chosen_type), ("severity", chosen_severity))
             if v is not None}
    pager = el.pager(listing.page, listing.pages, href="/admin/reports", query=query)
    render = kernel.templates.render_tree
    return render_admin(request, "admin/reports.html", {
        "title": "Recent log entries", "tabs": _tabs("log"),
        "filters": kernel.forms.render(tree, values=values, errors=errors),
        "content": render(el.container({"table": table, "pager": pager})),
    }, status_code=400 if errors else 200)


async def log_detail(request: Request) -> Response:
    require_admin(request, PERMISSION)
    ctx = request_context(request)
    try:
        entry_id = uuid.UUID(request.path_params["id"])
    except ValueError:
        raise ServiceError(404, "There is no such log entry.") from None
    entry = await log_entry(ctx.kernel.db, entry_id)
    if entry is None:
        raise ServiceError(404, "There is no such log entry.")
    rows: list[list[str | el.RenderElement]] = [
        ["Type", entry.type],
        ["Severity", _severity(entry.severity, entry.severity_name)],
        ["Time", format_date(entry.created, viewer(ctx))],
        ["User", _user_cell(entry)],
        ["Location", entry.location or "—"],
        ["Hostname", entry.hostname or "—"],
        ["Message", el.markup(entry.message, tag="p", attributes={"class": "log-message"})],
    ]
    table = el.table(["Detail", "Value"], rows, caption="Details",
                     attributes={"class": "log-entry"})
    return render_admin(request, "admin/reports.html", {
        "title": f"Log entry {entry.id}", "tabs": _tabs("log"),
        "content": ctx.kernel.templates.render_tree(table),
    })


_STATE_LABELS = {"ok": "OK", "warning": "Warning", "error": "Error"}


async def status_report(request: Request) -> Response:
    require_admin(request, PERMISSION)
    kernel = request_context(request).kernel
    checks = await site_status(kernel)
    rows: list[list[str | el.RenderElement]] = [
        [check.group, check.title, check.value,
         el.markup(_STATE_LABELS[check.severity], tag="span",
                   attributes={"class": f"status-state status-state--{check.severity}"}),
         check.description]
        for check in checks
    ]
    table = el.table(["Part", "Check", "Found", "State", "Details"], rows,
                     attributes={"class": "status-report", "aria-label": "Status report"})
    worst = ("error" if any(c.severity == "error" for c in checks) else
             "warning" if any(c.severity == "warning" for c in checks) else "ok")
    summary = {"ok": ("status", "Everything checked is in order."),
               "warning": ("warning", "Some checks need attention (below)."),
               "error": ("error", "Some checks failed (below).")}[worst]
    return render_admin(request, "admin/reports.html", {
        "title": "Status report", "tabs": _tabs("status"),
        "content": kernel.templates.render_tree(table),
    }, messages=[summary])


routes = [
    Route("/admin/reports", log_list, methods=["GET"]),
    Route("/admin/reports/log/{id}", log_detail, methods=["GET"]),
    Route("/admin/reports/status", status_report, methods=["GET"]),
]
