"""The front page: promoted, published items as teasers, sticky first, then newest.

``?page=N`` counts from 0; anything that is not a whole number, is negative or lies past the
last page answers 404 (a crawler following an old link gets a clear answer, not page 0 again).

Cache tags: ``config`` (site name, theme) plus ``item_list:<type>`` for every item type, which
the content service invalidates on each write of an item of that type — so any create, update
or delete drops the cached front page. (A type created after the page was cached and then
given its first item is only caught by the page cache's TTL; the content service has no
site-wide listing tag to invalidate instead.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.content.access import listing_visibility
from trovato.content.items import Item, _stage_condition
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.errors import ProblemError
from trovato.render import elements as el
from trovato.web._page import render_page
from trovato.web.item import CACHE_TAGS_HEADER, render_items

PER_PAGE = 10


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "0")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise ProblemError(404, "No such page.")
    return int(raw)


async def _promoted(request: Request, page: int) -> tuple[list[Item], int]:
    """One page of promoted, published items the user may see, with the total.

    The ids come from one query using the content service's stage rule and listing
    visibility; the items are then loaded through ``Items.load_many``, which applies the full
    access check (plugin votes included) — the same rule as the item pages and the API.
    """
    ctx = request_context(request)
    user = ctx.current_user
    stage_sql, stage_params = _stage_condition(ctx.stage)
    visible, visible_params = listing_visibility(user)
    rows = await ctx.kernel.db.fetch(
        f"SELECT i.id, count(*) OVER () AS total FROM item i"  # noqa: S608 - fixed SQL parts
        f" WHERE {stage_sql.as_string()} AND {visible.as_string()}"
        " AND i.status = 1 AND i.promote"
        " ORDER BY i.sticky DESC, i.created DESC, i.id DESC LIMIT %s OFFSET %s",
        [*stage_params, *visible_params, PER_PAGE, page * PER_PAGE],
    )
    total = int(rows[0]["total"]) if rows else 0
    items = await ctx.kernel.content.items.load_many(
        user, [row["id"] for row in rows], stage=ctx.stage
    )
    return items, total


async def front(request: Request) -> Response:
    kernel = request_context(request).kernel
    require_permission(request, "access content")
    if not await kernel.accounts.admin_exists():
        return RedirectResponse("/install", status_code=303)
    page = _page_number(request)
    items, total = await _promoted(request, page)
    pages = -(-total // PER_PAGE)
    if page > 0 and page >= pages:
        raise ProblemError(404, "No such page.")
    teasers = await render_items(request, items, "teaser")
    pager = kernel.templates.render_tree(el.pager(page, pages, href="/"))
    response = render_page(request, "front.html", {
        "title": "", "teasers": teasers, "pager": pager,
    })
    tags = ["config", *sorted(f"item_list:{t.type}" for t in await kernel.content.types.all())]
    response.headers[CACHE_TAGS_HEADER] = " ".join(tags)
    return response


routes = [Route("/", front, methods=["GET"])]
