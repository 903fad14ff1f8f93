"""The front page: promoted, published items as teasers, sticky first, then newest.

``?page=N`` counts from 0; anything that is not a whole number, is negative or lies past the
last page answers 404 (a crawler following an old link gets a clear answer, not page 0 again).
``TROVATO_FRONT_PAGE_ITEMS`` sets the teasers per page (Drupal's "posts on the main page").

The listing is ONE query through the item query path (:meth:`ItemQuery.list`: the items, their
authors' names and the total), whatever the number of teasers or fields; item types come from
the content service's in-process cache.

Cache tags: ``config`` (site name, theme) plus ``item_list:<type>`` for every item type, which
the content service invalidates on each write of an item of that type — so any create, update
or delete drops the cached front page; creating a type drops every cached page. The page
reads one query parameter, ``page``, and says so to the page cache (which ignores the others).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.page_cache import CACHE_QUERY_HEADER
from trovato.render import elements as el
from trovato.web._page import render_page
from trovato.web.item import CACHE_TAGS_HEADER, render_items


def page_number(request: Request) -> int:
    """The listing page a request asks for (``?page=N``, from 0); 404 unless a whole number."""
    raw = request.query_params.get("page", "0")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise ServiceError(404, "No such page.")
    return int(raw)


async def front(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    require_permission(request, "access content")
    if not await kernel.accounts.admin_exists():
        return RedirectResponse("/install", status_code=303)
    page = page_number(request)
    per_page = kernel.settings.front_page_items
    # Teasers show summaries, not fields: leave the fields out unless a plugin builds items.
    listing = await kernel.content.query.list(
        ctx.current_user, status=1, promote=True, sort="-sticky", page=page,
        limit=per_page, stage=ctx.stage, fields=kernel.views.plugins_take_part(),
    )
    pages = -(-listing.total // per_page)
    if page > 0 and page >= pages:
        raise ServiceError(404, "No such page.")
    teasers = await render_items(request, listing.items, "teaser")
    pager = kernel.templates.render_tree(el.pager(page, pages, href="/"))
    response = render_page(request, "front.html", {
        "title": "", "teasers": teasers, "pager": pager,
    })
    tags = ["config", *sorted(f"item_list:{name}" for name in await kernel.content.types.cached())]
    response.headers[CACHE_TAGS_HEADER] = " ".join(tags)
    response.headers[CACHE_QUERY_HEADER] = "page"  # the one query parameter read here
    return response


routes = [Route("/", front, methods=["GET"])]
