"""Gather's HTML and feed displays: a listing's page (its ``displays.page.path``) and its feed
(``displays.feed.path``, RSS 2.0 or Atom), and the front page's rendering of ``frontpage``.

The paths are the definitions' own, so they are matched after every kernel route: the
catch-all route here looks the path up among the listings' displays (the Gather service's
cached path index) and hands paths no listing claims to the plugins' menu pages.

A page shows its exposed filters as a GET form built with the form API (a text field per
filter, a select where the values are a fixed set), its items in the display's style —
``teasers`` and ``grid`` through the item view service, ``list`` as links, ``table`` with the
definition's ``fields`` as columns (a field read through a relationship from the row's record;
a user or tag listing shows names linking to the profile or tag page, as a list unless the
style is ``table``) — the empty text when nothing matches, and the pager.
``?page=N`` counts from 0; a page past the last is a 404. Pages carry the listing's cache tags
(``gather:<name>``, ``item_list:<type>``) and name the query parameters they read, so the
anonymous page cache keeps one entry per filter combination and drops them on item writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.model import Item
from trovato.content.summary import field_values
from trovato.content.view import summary
from trovato.errors import ServiceError
from trovato.forms.form import form as form_element
from trovato.forms.form import submit
from trovato.gather import GatherResult
from trovato.gather.definition import PageDisplay
from trovato.gather.resolution import Condition
from trovato.kernel.context import request_context
from trovato.kernel.page_cache import CACHE_QUERY_HEADER
from trovato.render import elements as el
from trovato.web._page import render_page
from trovato.web.item import CACHE_TAGS_HEADER, render_items
from trovato.web.menu import menu_page

FEED_ITEMS = 25  # a feed's newest entries, whatever the listing's page size


def page_number(request: Request) -> int:
    """``?page=N`` (from 0): anything else than a whole number is a 404."""
    raw = request.query_params.get("page", "0")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise ServiceError(404, "No such page.")
    return int(raw)


def cache_headers(request: Request, response: Response, result: GatherResult,
                  params: list[str]) -> None:
    """Let the anonymous page cache keep the response under the listing's tags and those of
    the records it joined; a listing whose results are not cached (users, tags) opts out."""
    gather = request_context(request).kernel.gather
    if not gather.cacheable(result.resolved):
        return
    tags = [*gather.tags(result.resolved), *result.joined_tags]
    response.headers[CACHE_TAGS_HEADER] = " ".join(["config", *tags])
    response.headers[CACHE_QUERY_HEADER] = " ".join(params)


# -- the page display ----------------------------------------------------------------------------


def _widget(cond: Condition, value: str) -> el.RenderElement:
    assert cond.exposed is not None
    widget: el.RenderElement
    if cond.options:
        widget = {"#type": "select", "#name": cond.exposed, "#title": cond.label,
                  "#options": {"": "- Any -", **{option: option for option in cond.options}}}
    elif cond.spec.kind in ("int", "decimal", "float") and cond.op not in ("in", "not_in",
                                                                           "between"):
        widget = {"#type": "number", "#name": cond.exposed, "#title": cond.label}
    elif cond.spec.kind == "date" and cond.op not in ("in", "not_in", "between"):
        widget = {"#type": "date", "#name": cond.exposed, "#title": cond.label}
    else:
        widget = {"#type": "textfield", "#name": cond.exposed, "#title": cond.label,
                  "#maxlength": 1000}
    widget["#default_value"] = value
    return widget


def exposed_form(request: Request, result: GatherResult) -> Markup | None:
    """The exposed filters as a GET form to the listing's own path (no CSRF token: it changes
    nothing)."""
    exposed = result.resolved.exposed()
    if not exposed:
        return None
    elements = {f"filter_{n}": {**_widget(cond, result.exposed.get(cond.exposed or "", "")),
                                "#weight": n}
                for n, cond in enumerate(exposed)}
    elements["actions"] = submit("Apply", name="", weight=1000)
    tree = form_element(f"gather_{result.resolved.name}", request.url.path, elements,
                        method="get")
    return request_context(request).kernel.forms.render(tree)


def _cell(item: Item, name: str) -> str:
    if name in ("title", "type", "status", "promote", "sticky"):
        return str(getattr(item, name))
    if name == "author":
        return item.author_name or ""
    if name in ("created", "changed"):
        moment = getattr(item, name)
        return moment.isoformat() if moment else ""
    texts = []
    for value in field_values(item.fields.get(name)):
        shown = value.get("value", value.get("uri", value.get("target_id")))
        if shown is not None:
            texts.append(str(shown))
    return ", ".join(texts)


def _related_cell(value: Any) -> str:
    """A field read through a relationship: a column's value, or a JSONB field's values."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return ", ".join(str(v.get("value", v.get("uri", v.get("target_id", ""))))
                         for v in field_values(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _link(result: GatherResult, n: int) -> el.RenderElement:
    """The row ``n``'s title linking to its page: an item's, a user's profile, a tag's page."""
    base = result.resolved.base
    if base == "item":
        item = result.items[n]
        return el.link(item.title, f"/item/{item.id}")
    record = result.records[n]
    if base == "user":
        return el.link(str(record["name"]), f"/user/{record['id']}")
    return el.link(str(record["name"]),
                   f"/tags/{quote(str(record['vocabulary']))}/{quote(str(record['slug']))}")


def _row_cell(result: GatherResult, n: int, name: str) -> str:
    if "." in name or result.resolved.base != "item":
        return _related_cell(result.records[n].get(name))
    return _cell(result.items[n], name)


async def render_rows(request: Request, result: GatherResult, style: str) -> Markup:
    """The rows of a ``list`` or ``table`` style listing (module docstring)."""
    count = len(result.records)
    if not count:
        return Markup("")
    templates = request_context(request).kernel.templates
    heading = "Title" if result.resolved.base == "item" else "Name"
    columns = [spec.name for spec in result.resolved.columns
               if spec.name != heading.lower()]
    if style == "list":
        return templates.render_tree(el.item_list(
            [_link(result, n) for n in range(count)],
            attributes={"class": "gather gather--list"}))
    header: list[str | el.RenderElement] = [heading, *columns]
    rows: list[list[str | el.RenderElement]] = [
        [_link(result, n), *(_row_cell(result, n, c) for c in columns)]
        for n in range(count)]
    return templates.render_tree(el.table(header, rows,
                                          attributes={"class": "gather gather--table"}))


async def render_listing(request: Request, result: GatherResult, display: PageDisplay, *,
                         template: str = "gather_page.html") -> Response:
    """A listing's page: form, items, empty text and pager, with its cache headers."""
    kernel = request_context(request).kernel
    definition = result.resolved.definition
    teasers: list[Markup] = []
    rows = Markup("")
    if display.style in ("teasers", "grid") and result.resolved.base == "item":
        teasers = await render_items(request, result.items, "teaser")
    elif display.style in ("teasers", "grid"):  # users and tags have no teaser: a list
        rows = await render_rows(request, result, "list")
    else:
        rows = await render_rows(request, result, display.style)
    query = dict(result.exposed)
    pager = Markup("")
    if result.pages is not None and result.pages > 1:
        pager = kernel.templates.render_tree(el.pager(result.page, result.pages,
                                                      href=request.url.path, query=query))
    elif result.total is None and (result.page > 0 or result.has_next):
        pager = kernel.templates.render_tree(el.item_list([
            *([el.link("Previous", _page_href(request, result.page - 1, query))]
              if result.page > 0 else []),
            *([el.link("Next", _page_href(request, result.page + 1, query))]
              if result.has_next else []),
        ], attributes={"class": "pager pager--mini"}))
    response = await render_page(request, template, {
        "title": display.title if display.title is not None else definition.label,
        "style": display.style, "teasers": teasers, "rows": rows, "pager": pager,
        "form": exposed_form(request, result), "empty_text": definition.empty_text,
    })
    cache_headers(request, response, result,
                  ["page", *(c.exposed for c in result.resolved.exposed() if c.exposed)])
    return response


def _page_href(request: Request, page: int, query: Mapping[str, str]) -> str:
    params = {**query, **({"page": str(page)} if page else {})}
    return request.url.path + (f"?{urlencode(params)}" if params else "")


# -- the feed display ----------------------------------------------------------------------------


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str
          ) -> ElementTree.Element:
    child = ElementTree.SubElement(parent, tag, attributes)
    child.text = text
    return child


def _instant(moment: datetime | None) -> datetime:
    """A stored instant in UTC (items always have one; the epoch stands in for none)."""
    return (moment or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC)


async def render_feed(request: Request, result: GatherResult, title: str, fmt: str,
                      home: str = "/") -> Response:
    """``result`` as RSS 2.0 or Atom (every text escaped by the XML writer); ``home`` is the
    path of the HTML page the feed stands for (the channel's link)."""
    kernel = request_context(request).kernel
    types = await kernel.content.types.cached()
    base = str(request.base_url).rstrip("/")
    site = kernel.settings.site_name
    if fmt == "atom":
        feed = ElementTree.Element("feed", {"xmlns": "http://www.w3.org/2005/Atom"})
        _text(feed, "title", f"{site}: {title}")
        _text(feed, "id", base + request.url.path)
        ElementTree.SubElement(feed, "link", {"rel": "self", "href": base + request.url.path})
        ElementTree.SubElement(feed, "link", {"rel": "alternate", "href": base + home})
        newest = max((i.changed for i in result.items if i.changed), default=None)
        _text(feed, "updated", newest.isoformat() if newest else "1970-01-01T00:00:00+00:00")
        for item in result.items:
            entry = ElementTree.SubElement(feed, "entry")
            _text(entry, "title", item.title)
            _text(entry, "id", f"{base}/item/{item.id}")
            ElementTree.SubElement(entry, "link", {"href": f"{base}/item/{item.id}"})
            _text(entry, "updated", _instant(item.changed or item.created).isoformat())
            author = ElementTree.SubElement(entry, "author")
            _text(author, "name", item.author_name or "Anonymous")
            _text(entry, "summary", summary(item, types.get(item.type)))
        media = "application/atom+xml"
    else:
        rss = ElementTree.Element("rss", {"version": "2.0"})
        feed = ElementTree.SubElement(rss, "channel")
        _text(feed, "title", f"{site}: {title}")
        _text(feed, "link", base + home)
        _text(feed, "description", title)
        for item in result.items:
            entry = ElementTree.SubElement(feed, "item")
            _text(entry, "title", item.title)
            _text(entry, "link", f"{base}/item/{item.id}")
            _text(entry, "guid", f"{base}/item/{item.id}", isPermaLink="true")
            _text(entry, "pubDate", format_datetime(_instant(item.created), usegmt=True))
            _text(entry, "description", summary(item, types.get(item.type)))
        feed = rss
        media = "application/rss+xml"
    body = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    response = Response(body, media_type=f"{media}; charset=utf-8")
    cache_headers(request, response, result,
                  [c.exposed for c in result.resolved.exposed() if c.exposed])
    return response


# -- routes --------------------------------------------------------------------------------------


async def display(request: Request) -> Response:
    """A listing's page or feed at its own path; any other path goes to the plugins' pages."""
    ctx = request_context(request)
    gather = ctx.kernel.gather
    found = None
    if request.method in ("GET", "HEAD"):
        found = await gather.match_path(request.url.path)
    if found is None:
        return await menu_page(request)
    name, kind, arguments = found
    stored = await gather.stored(name)
    displays = stored.definition.displays
    exposed = dict(request.query_params)
    if kind == "feed" and displays.feed is not None:
        result = await gather.run(ctx.current_user, name, exposed=exposed, stage=ctx.stage,
                                  arguments=arguments, per_page=FEED_ITEMS, teasers=True)
        # The channel links to the listing's page, unless that path takes arguments.
        page = displays.page.path if displays.page is not None else "/"
        return await render_feed(request, result, displays.feed.title or stored.definition.label,
                                 displays.feed.format, "/" if "{" in page else page)
    if displays.page is None:  # the path index is older than the definition
        raise ServiceError(404)
    result = await gather.run(
        ctx.current_user, name, page=page_number(request), exposed=exposed,
        arguments=arguments, stage=ctx.stage, teasers=displays.page.style in ("teasers", "grid")
        and not ctx.kernel.views.plugins_take_part())
    return await render_listing(request, result, displays.page)


routes = [Route("/{path:path}", display, methods=["GET", "HEAD", "POST"])]
