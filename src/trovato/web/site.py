"""The front page: the Gather listing ``frontpage`` (promoted, published items as teasers,
sticky first, then newest — a definition like any other, changed through the Gather API).

``?page=N`` counts from 0; anything that is not a whole number, is negative or lies past the
last page answers 404 (a crawler following an old link gets a clear answer, not page 0 again).
``TROVATO_FRONT_PAGE_ITEMS`` sets the teasers per page (Drupal's "posts on the main page").

Gather reads a page in the front-page index's order from its keyset anchor and takes the total
and the anchors from a cached, tag-invalidated map (:mod:`trovato.gather.service`), so the
page costs the same on a site of 50 or 50,000 items. Cache tags: ``config`` (site name,
theme), ``gather:frontpage`` and ``item_list:<type>`` for every item type the listing can
show, which the content service invalidates on each write of an item of that type — so any
create, update or delete drops the cached front page; creating a type drops every cached page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.gather import FRONT_PAGE
from trovato.gather.definition import PageDisplay
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.web.gather import page_number, render_listing


async def front(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    require_permission(request, "access content")
    if not await kernel.accounts.admin_exists():
        return RedirectResponse("/install", status_code=303)
    # Teasers show summaries, not fields: leave the fields out unless a plugin builds items.
    result = await kernel.gather.run(
        ctx.current_user, FRONT_PAGE, page=page_number(request), exposed=request.query_params,
        stage=ctx.stage, per_page=kernel.settings.front_page_items,
        teasers=not kernel.views.plugins_take_part())
    display = result.resolved.definition.displays.page or PageDisplay(path="/")
    return await render_listing(request, result, display.model_copy(update={"title": ""}),
                                template="front.html")


routes = [Route("/", front, methods=["GET"])]
