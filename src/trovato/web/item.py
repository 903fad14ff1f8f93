"""Item pages: ``/item/{id}`` (the full view) and ``/item/{id}/revisions``; teasers for listings.

The render pipeline of one item (DESIGN §7):

1. **build** — the kernel builds the item's tree (meta, then each field through its formatter:
   ``text_long`` as ``#value`` + ``#format``, every other value as escaped text or a link);
2. ``item_view`` — each plugin's reply becomes a child named after the plugin;
3. ``item_view_alter`` — plugins patch the whole tree (they return changes, never a new tree);
   then ``preprocess_item`` — plugins add template variables (``#variables`` on the item
   element: plain data, escaped by the template, never markup);
4. **sanitize + render** through the theme, with the suggestions ``item--<type>--<mode>`` →
   ``item--<type>`` → ``item--<mode>`` → ``item``.

Trust: the kernel's own tree renders *trusted* (``full_html`` stored by someone allowed to
use it renders as stored). Plugin output never does: each ``item_view`` reply is sanitized as
untrusted (restricted formats downgraded to ``filtered_html``) before it joins the tree, and
once any ``item_view_alter`` implementation changed the tree, the WHOLE tree is rendered
untrusted — a plugin that could edit kernel parts could otherwise smuggle ``full_html`` in.
Taps are only dispatched when some plugin implements them, so a site without plugins never
opens a plugin instance for an item page.

Access is the content service's (``Items.load``): unknown, malformed and hidden items are the
same 404, for HTML as for JSON.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.items import Item, ItemError
from trovato.content.summary import field_values, summarize
from trovato.content.types import ItemType, display_order
from trovato.kernel.context import RequestContext, request_context
from trovato.kernel.errors import ProblemError
from trovato.plugins import PluginUser
from trovato.render import elements as el
from trovato.render.dates import local_time
from trovato.render.sanitize import RenderTreeError, sanitize
from trovato.users.accounts import CurrentUser
from trovato.web._page import render_page

log = logging.getLogger(__name__)

VIEW_MODES = ("full", "teaser")
VIEW_TAPS = ("item_view", "item_view_alter", "preprocess_item")
CACHE_TAGS_HEADER = "x-trovato-cache-tags"


def item_cache_tag(item: Item) -> str:
    """The tag :class:`~trovato.content.items.Items` invalidates when ``item`` is written."""
    return f"item:{item.id}"


# -- building -----------------------------------------------------------------------------------


def _format_date(value: datetime | None, user: CurrentUser) -> str:
    if value is None:
        return ""
    return local_time(value, user.timezone or "UTC")


def _value_element(field_type: str, value: Mapping[str, Any]) -> str | el.RenderElement:
    """One stored field value as a render element (or a string, escaped on output)."""
    if field_type == "text_long":
        fmt = value.get("format")
        return el.markup(str(value.get("value", "")),
                         format=fmt if isinstance(fmt, str) and fmt else None)
    if field_type == "link":
        uri = str(value.get("uri", ""))
        return el.link(str(value.get("title") or uri), uri)
    if field_type == "boolean":
        return "Yes" if value.get("value") else "No"
    if field_type == "reference" and value.get("target_type") == "item":
        target = str(value.get("target_id", ""))
        return el.link(target, f"/item/{target}")
    if field_type == "image":
        return str(value.get("alt") or value.get("target_id", ""))
    if "value" in value:
        return str(value["value"])
    return str(value.get("target_id", ""))


def summary(item: Item, item_type: ItemType | None) -> str:
    """The teaser text: as stored with the item, or computed from its fields if not known."""
    if item.summary is not None:
        return item.summary
    return summarize(item.fields, item_type)


def plugins_view_items(ctx: RequestContext) -> bool:
    """Whether a plugin takes part in building items (so must be given them whole)."""
    dispatcher = ctx.kernel.plugins.dispatcher
    return any(dispatcher.implementations(tap) for tap in VIEW_TAPS)


def build_item(
    item: Item, item_type: ItemType | None, view_mode: str, *, user: CurrentUser
) -> el.RenderElement:
    """The kernel's render tree of ``item`` in ``view_mode`` (before any plugin)."""
    href = f"/item/{item.id}"
    author = item.author_name or "Anonymous"
    meta = el.container(
        {
            "author": el.markup(f"By {author}", tag="span", attributes={"class": "item__author"}),
            "date": el.markup(f" on {_format_date(item.created, user)}", tag="span",
                              attributes={"class": "item__date"}),
        },
        tag="footer" if view_mode == "full" else "p",
        weight=-10,
        attributes={"class": "item__meta"},
    )
    children: dict[str, el.RenderElement] = {"meta": meta}
    if not item.published:
        children["status"] = el.markup("Unpublished", tag="p", weight=-20,
                                       attributes={"class": "item__status"})
    if view_mode == "teaser":
        text = summary(item, item_type)
        if text:
            children["summary"] = el.markup(text, tag="p", attributes={"class": "item__summary"})
        children["more"] = el.link("Read more", href, weight=10,
                                   attributes={"class": "item__more", "aria-label":
                                               f"Read more about {item.title}"})
    else:
        for weight, definition in enumerate(display_order(item_type)):
            values = field_values(item.fields.get(definition.name))
            if not values:
                continue
            children[definition.name] = el.field_element(
                definition.name,
                [_value_element(definition.type, v) for v in values],
                label=definition.label,
                label_display="hidden" if definition.type == "text_long" else "above",
                field_type=definition.type,
                weight=weight,
            )
    return el.item_element(item.type, view_mode, children, title=item.title, href=href,
                           attributes=None if item.published else {"class": "item--unpublished"})


async def _plugin_build(
    ctx: RequestContext, item: Item, view_mode: str, tree: el.RenderElement
) -> tuple[el.RenderElement, bool]:
    """Run ``item_view`` and ``item_view_alter``; returns the tree and whether it is trusted."""
    if item.partial:
        # Listed without its fields because no plugin viewed items when the request
        # started; one enabled since then joins in from the next request.
        return tree, True
    plugins = ctx.kernel.plugins
    viewers = plugins.dispatcher.implementations("item_view")
    alterers = plugins.dispatcher.implementations("item_view_alter")
    preprocessors = plugins.dispatcher.implementations("preprocess_item")
    if not viewers and not alterers and not preprocessors:
        return tree, True
    taps, user = ctx.kernel.taps, PluginUser.from_current_user(ctx.current_user)
    public = item.public()
    if viewers:
        outcome = await taps.fire("item_view", {"item": public, "view_mode": view_mode},
                                  user=user)
        for reply in outcome.replies:
            if not isinstance(reply.value, dict):
                continue
            try:
                part = sanitize(reply.value, source=f"plugin:{reply.plugin}", trusted=False)
            except (RenderTreeError, ValueError, TypeError) as exc:
                log.warning("plugin %s: item_view tree dropped: %s", reply.plugin, exc)
                continue
            name = reply.plugin if reply.plugin not in tree else f"plugin_{reply.plugin}"
            part.setdefault("#weight", 50)
            tree[name] = part
    trusted = True
    if alterers:
        outcome = await taps.fire("item_view_alter",
                                  {"build": tree, "item": public, "view_mode": view_mode},
                                  user=user)
        if any(reply.value for reply in outcome.replies) and isinstance(outcome.value, dict):
            tree, trusted = outcome.value, False
    if preprocessors:
        outcome = await taps.fire("preprocess_item", {
            "variables": _base_variables(item, view_mode), "item": public,
            "view_mode": view_mode,
        }, user=user)
        if isinstance(outcome.value, dict):
            # Plain data only, checked now like every plugin part (a trusted tree is not
            # sanitized again), then given to the item's template as text.
            checked = sanitize({"#type": "item", "#variables": outcome.value},
                               source="plugin:preprocess_item", trusted=False)
            tree["#variables"] = checked.get("#variables", {})
    return tree, trusted


def _base_variables(item: Item, view_mode: str) -> dict[str, Any]:
    """What ``preprocess_item`` starts from: facts a theme template may want to show."""
    return {"title": item.title, "view_mode": view_mode, "author_name": item.author_name,
            "created": item.created.isoformat() if item.created else None}


async def author_names(ctx: RequestContext, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await ctx.kernel.db.fetch(
        "SELECT id, name FROM users WHERE id = ANY(%s::uuid[])", (wanted,)
    )
    return {row["id"]: row["name"] for row in rows}


async def render_items(
    request: Request, items: list[Item], view_mode: str
) -> list[Markup]:
    """Build, run the view taps on and render each of ``items`` in ``view_mode``."""
    ctx = request_context(request)
    kernel = ctx.kernel
    user = ctx.current_user
    types = await kernel.content.types.cached()
    rendered: list[Markup] = []
    for item in items:
        tree = build_item(item, types.get(item.type), view_mode, user=user)
        tree, trusted = await _plugin_build(ctx, item, view_mode, tree)
        try:
            rendered.append(await kernel.templates.render_tree_async(
                tree, source="kernel" if trusted else "plugin:item_view_alter", trusted=trusted
            ))
        except RenderTreeError as exc:
            # An alter tap made the tree too big or deep: show the kernel's own build instead.
            log.warning("item %s: altered tree refused: %s", item.id, exc)
            plain = build_item(item, types.get(item.type), view_mode, user=user)
            rendered.append(await kernel.templates.render_tree_async(plain))
    return rendered


# -- routes --------------------------------------------------------------------------------------


async def _load(request: Request) -> Item:
    ctx = request_context(request)
    try:
        return await ctx.kernel.content.items.load(
            ctx.current_user, request.path_params["id"], stage=ctx.stage
        )
    except ItemError as exc:
        raise ProblemError(exc.status, exc.message) from None


async def view(request: Request) -> Response:
    ctx = request_context(request)
    item = await _load(request)
    (content,) = await render_items(request, [item], "full")
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
    try:
        found = await ctx.kernel.content.items.revisions(ctx.current_user, item.id,
                                                         stage=ctx.stage)
    except ItemError as exc:
        raise ProblemError(exc.status, exc.message) from None
    authors = await author_names(ctx, (r.author_id for r in found))
    rows = [
        [
            el.markup(_format_date(r.created, ctx.current_user), tag="span",
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
