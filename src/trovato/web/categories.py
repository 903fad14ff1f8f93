"""Tag pages: ``/tags/{vocabulary}/{slug}`` — the tag's name and description, breadcrumbs along
its first parents, its narrower tags, and teasers of the published items tagged with it, with a
pager (``?page=N`` from 0; past the end, or not a number, is a 404, as on the front page).

Thin: the tag, its breadcrumb and its children come from the categories service, the items
from the one item query path (:func:`tagged_items`, the listing's one function: access, the
stage and the status rule apply as everywhere). An unknown vocabulary or slug is a 404.

Cache tags: ``config``, ``tag:<id>`` and ``vocabulary:<id>`` (the categories service drops them
on any write to the vocabulary, which may rename a crumb or a child), and ``item_list:<type>``
for each item type with a field that can hold the tag (any save of such an item drops them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.categories.model import Tag
from trovato.content.model import ItemPage
from trovato.content.statements import TagFilter
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import RequestContext, request_context
from trovato.kernel.page_cache import CACHE_QUERY_HEADER
from trovato.render import elements as el
from trovato.web._page import render_page
from trovato.web.gather import page_number
from trovato.web.item import CACHE_TAGS_HEADER, render_items

PER_PAGE = 10  # Drupal's taxonomy term pages: ten teasers


def tag_fields(types: dict[str, ItemType], vocabulary: str
               ) -> tuple[list[str], tuple[tuple[str, bool], ...]]:
    """The tag reference fields that may hold a tag of ``vocabulary`` (allowing it, or any
    vocabulary): the item types that have one, and each field as (name, takes several)."""
    names: set[str] = set()
    fields: set[tuple[str, bool]] = set()
    for item_type in types.values():
        for definition in item_type.fields:
            settings = definition.settings
            if definition.type == "reference" \
                    and settings.get("target_type") == "category_tag" \
                    and vocabulary in (settings.get("target_bundles") or [vocabulary]):
                names.add(item_type.type)
                fields.add((definition.name, definition.multiple))
    return sorted(names), tuple(sorted(fields))


async def tagged_items(ctx: RequestContext, tag: Tag, page: int, limit: int,
                       fields: tuple[tuple[str, bool], ...]) -> ItemPage:
    """THE listing of a tag page: published items referring to ``tag``, sticky first, then
    newest, as the request's user sees them in the request's stage."""
    kernel = ctx.kernel
    return await kernel.content.query.list(
        ctx.current_user, status=1, sort="-sticky", page=page, limit=limit, stage=ctx.stage,
        fields=kernel.views.plugins_take_part(),
        tagged=TagFilter(tag.id, fields),
    )


async def tag_page(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    require_permission(request, "access content")
    page = page_number(request)
    vocabulary = request.path_params["vocabulary"]
    service = kernel.categories
    tag = await service.tag_by_slug(ctx.current_user, vocabulary,
                                    request.path_params["slug"], stage=ctx.stage)
    types, fields = tag_fields(await kernel.content.types.cached(), vocabulary)
    listing = await tagged_items(ctx, tag, page, PER_PAGE, fields)
    pages = -(-listing.total // PER_PAGE)
    if page > 0 and page >= pages:
        raise ServiceError(404, "No such page.")
    response = await render_page(request, "tag_page.html", {
        "title": tag.name,
        "tag": tag,
        "breadcrumb": await service.breadcrumb(ctx.current_user, tag, stage=ctx.stage),
        "children": await service.children(ctx.current_user, tag, stage=ctx.stage),
        "teasers": await render_items(request, listing.items, "teaser"),
        "pager": kernel.templates.render_tree(el.pager(page, pages, href=tag.path)),
    })
    tags = ["config", f"tag:{tag.id}", f"vocabulary:{vocabulary}",
            *(f"item_list:{name}" for name in types)]
    response.headers[CACHE_TAGS_HEADER] = " ".join(tags)
    response.headers[CACHE_QUERY_HEADER] = "page"
    return response


routes = [Route("/tags/{vocabulary}/{slug}", tag_page, methods=["GET"])]
