"""Item pages: ``/item/{id}`` (the full view) with its local tasks (the tabs View, Edit,
Delete and Revisions, each shown to the users who may use it).

Thin: the route reads the item through the one item query path (``ItemQuery.load``: unknown,
malformed and hidden items are the same 404, for HTML as for JSON), has the item view service
(:mod:`trovato.content.view`) build, run the view taps on and render it for the request's
viewer, and puts the result in the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.access import ADMINISTER_CONTENT, VIEW_REVISIONS, item_access, role_access
from trovato.content.items import Item
from trovato.content.view import Viewer
from trovato.kernel.context import RequestContext, request_context
from trovato.web._page import render_page

CACHE_TAGS_HEADER = "x-trovato-cache-tags"


def item_cache_tag(item: Item) -> str:
    """The tag :class:`~trovato.content.items.Items` invalidates when ``item`` is written."""
    return f"item:{item.id}"


def viewer(ctx: RequestContext) -> Viewer:
    """The request's viewer: its user and its stage."""
    return Viewer(ctx.current_user, ctx.stage)


async def author_names(ctx: RequestContext, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await ctx.kernel.db.fetch(
        "SELECT id, name FROM users WHERE id = ANY(%s::uuid[])", (wanted,)
    )
    return {row["id"]: row["name"] for row in rows}


async def render_items(request: Request, items: list[Item], view_mode: str) -> list[Markup]:
    """``items`` in ``view_mode`` as the request's viewer sees them."""
    ctx = request_context(request)
    return await ctx.kernel.views.view_many(items, view_mode, viewer(ctx))


# -- routes --------------------------------------------------------------------------------------


async def load_item(request: Request) -> Item:
    """The item of the path's ``{id}`` as the request's user may view it (else 404/403)."""
    ctx = request_context(request)
    return await ctx.kernel.content.query.load(
        ctx.current_user, request.path_params["id"], stage=ctx.stage
    )


def may_view_revisions(ctx: RequestContext) -> bool:
    user = ctx.current_user
    return user.can(VIEW_REVISIONS) or user.can(ADMINISTER_CONTENT)


async def local_tasks(ctx: RequestContext, item: Item, current: str) -> list[dict[str, Any]]:
    """The item's tabs the request's user may use (none when View would be alone)."""
    user, hooks = ctx.current_user, ctx.kernel.content.items.hooks
    if hooks.reads_items():  # a plugin may grant or deny either operation: ask
        may_edit = await item_access(user, item, "update", hooks)
        may_delete = await item_access(user, item, "delete", hooks)
    else:  # no vote can be cast: the role permissions alone decide
        may_edit = role_access(user, item, "update")
        may_delete = role_access(user, item, "delete")
    base = f"/item/{item.id}"
    tabs = [("view", "View", base)]
    if may_edit:
        tabs.append(("edit", "Edit", f"{base}/edit"))
    if may_delete:
        tabs.append(("delete", "Delete", f"{base}/delete"))
    if may_view_revisions(ctx):
        tabs.append(("revisions", "Revisions", f"{base}/revisions"))
    if len(tabs) == 1:
        return []
    return [{"title": title, "href": href, "current": key == current}
            for key, title, href in tabs]


async def view(request: Request) -> Response:
    ctx = request_context(request)
    item = await load_item(request)
    content = await ctx.kernel.views.view(item, "full", viewer(ctx))
    response = await render_page(request, "item_page.html", {
        "title": item.title,
        "item": item,
        "content": content,
        "tabs": await local_tasks(ctx, item, "view"),
    })
    if item.published:
        response.headers[CACHE_TAGS_HEADER] = item_cache_tag(item)
    return response


routes = [
    Route("/item/{id}", view, methods=["GET"]),
]
