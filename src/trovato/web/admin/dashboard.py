"""``/admin``: the dashboard — the sections the user may open (in the toolbar's groups), and a
few facts about the site; and the groups' overview pages (``/admin/structure``,
``/admin/config``: :data:`~trovato.kernel.toolbar.OVERVIEWS`), each listing its group's sections.

The facts cost at most three statements whatever the site's size: the items by status (one
aggregate), the latest edited items (one listing through the item query path, so the user sees
only what they may see, in their stage) and the open stages they may use (only for users who
may use stages).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.access import ACCESS_CONTENT, may_create, visibility_scope
from trovato.content.view import format_date
from trovato.errors import ServiceError
from trovato.kernel.context import request_context
from trovato.kernel.toolbar import OVERVIEWS
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web.admin import groups_for, render_admin, require_admin
from trovato.web.item import viewer

RECENT = 8


async def dashboard(request: Request) -> Response:
    user = require_admin(request)
    ctx = request_context(request)
    kernel = ctx.kernel
    published, unpublished = await kernel.content.query.status_counts()
    facts: list[tuple[str, str]] = [("Published items", str(published))]
    # The number of unpublished items is only for those who may see them all.
    if visibility_scope(user) == "all":
        facts.append(("Unpublished items", str(unpublished)))
    if user.can("use stages"):
        stages = await kernel.stage_desk.usable(user)
        facts.append(("Open stages", str(sum(1 for s in stages if s.open))))
    recent = []
    if user.can(ACCESS_CONTENT):  # the listing's own condition: without it, no list
        recent = (await kernel.content.query.list(user, sort="-changed", limit=RECENT,
                                                  stage=ctx.stage, fields=False)).items
    reader, types = viewer(ctx), await kernel.content.types.cached()
    rows: list[list[str | RenderElement]] = [
        [el.link(item.title, f"/item/{item.id}"),
         types[item.type].label if item.type in types else item.type, item.author_name or "",
         el.markup(format_date(item.changed, reader), tag="time")]  # kept on one line
        for item in recent
    ]
    table = el.table(["Title", "Type", "Author", "Updated"], rows, caption="Recently edited",
                     empty="No content yet.")
    return render_admin(request, "admin/dashboard.html", {
        "title": "Administration",
        "groups": groups_for(user),
        "facts": facts,
        "recent": kernel.templates.render_tree(table),
        "add_content": any(may_create(user, name) for name in types),
    })


async def overview(request: Request) -> Response:
    """A group's overview: the sections of it the user may open (403 when none)."""
    user = require_admin(request)
    path = request.scope["path"]
    group = next((g for g in groups_for(user) if OVERVIEWS.get(g.label) == path), None)
    if group is None:
        raise ServiceError(403, "You may not open any page of this section.")
    return render_admin(request, "admin/overview.html",
                        {"title": group.label, "group": group, "admin_active": path})


routes = [Route("/admin", dashboard, methods=["GET"]),
          *(Route(path, overview, methods=["GET"]) for path in OVERVIEWS.values())]
