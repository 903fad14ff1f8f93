"""The tiles a reader sees on a page, rendered per slot: for the site's pages
(:mod:`trovato.web._page`) and the error pages (:mod:`trovato.kernel.errors`) alike, so a 403 or
404 has the same main menu and sidebar as the page around it."""

from __future__ import annotations

from markupsafe import Markup

from trovato.kernel.context import RequestContext
from trovato.kernel.page_cache import EXTRA_TAGS


async def page_slots(ctx: RequestContext, path: str) -> dict[str, Markup]:
    """The tiles the reader sees on ``path``, rendered per slot (plugin tiles sanitized); the
    cache tags of what they show go to the page cache with the page (``EXTRA_TAGS``)."""
    found = await ctx.kernel.tiles.page(ctx.current_user, path, ctx.stage)
    ctx.extra[EXTRA_TAGS] = found.tags
    if not found.tiles:
        return {}
    templates = ctx.kernel.templates
    parts: dict[str, list[Markup]] = {}
    for tile in found.tiles:
        parts.setdefault(tile.slot, []).append(
            templates.render_tree(tile.tree, source=tile.source, trusted=tile.trusted))
    return {slot: Markup("").join(html) for slot, html in parts.items()}
