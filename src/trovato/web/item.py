"""Item pages: ``/item/{id}`` (the full view) and ``/item/{id}/revisions``.

Thin: the route reads the item through the one item query path (``ItemQuery.load``: unknown,
malformed and hidden items are the same 404, for HTML as for JSON), has the item view service
(:mod:`trovato.content.view`) build, run the view taps on and render it for the request's
viewer, and puts the result in the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.items import Item
from trovato.content.view import Viewer, format_date
from trovato.kernel.context import RequestContext, request_context
from trovato.render import elements as el
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


async def _load(request: Request) -> Item:
    ctx = request_context(request)
    return await ctx.kernel.content.query.load(
        ctx.current_user, request.path_params["id"], stage=ctx.stage
    )


async def view(request: Request) -> Response:
    ctx = request_context(request)
    item = await _load(request)
    content = await ctx.kernel.views.view(item, "full", viewer(ctx))
    response = render_page(request, "item_page.html", {
        "title": item.title,
        "item": item,
        "content": content,
        "may_view_revisions": ctx.current_user.can("view revisions")
        or ctx.current_user.can("administer content"),
    })
    if item.published:
        response.headers[CACHE_TAGS_HEADER] = item_cache_tag(item)
    return response


async def revisions(request: Request) -> Response:
    ctx = request_context(request)
    item = await _load(request)  # 404 first: an invisible item's revisions do not exist
    found = await ctx.kernel.content.items.revisions(ctx.current_user, item.id, stage=ctx.stage)
    authors = await author_names(ctx, (r.author_id for r in found))
    reader = viewer(ctx)
    rows = [
        [
            el.markup(format_date(r.created, reader), tag="span",
                      attributes={"class": "revision__date"}),
            authors.get(r.author_id) or "Anonymous",
            r.log or "",
            "current" if r.id == item.revision_id else "",
        ]
        for r in found
    ]
    table = el.table(["Date", "Author", "Log message", "Status"], rows,
                     caption=f"Revisions of {item.title}", empty="No revisions.")
    return render_page(request, "revisions.html", {
        "title": f"Revisions of {item.title}",
        "item": item,
        "content": ctx.kernel.templates.render_tree(table),
    })


routes = [
    Route("/item/{id}", view, methods=["GET"]),
    Route("/item/{id}/revisions", revisions, methods=["GET"]),
]
