"""``/admin/content``: the content list with its filters, sortable columns, pager and bulk
actions.

* ``GET /admin/content`` — filters (``type``, ``status``, ``author`` by name, ``title``
  containing a text), ``sort`` (one of :data:`SORTS`; anything else falls back to the newest
  edits first) and ``page``. The rows come from the item query path (``ItemQuery.list``) in
  the request's stage, so a user sees only the items they may see: ONE statement for the page
  and its total, 50 rows at most. A filter value that cannot match (an unknown type or
  account, a status that is neither) is shown as an error next to its input and lists nothing.
* ``POST /admin/content/bulk`` — the checked items and an action (publish, unpublish,
  delete): first the confirmation step listing the items (counted, and saying how many are
  already in the state asked for); confirmed, a batch
  (:mod:`trovato.batch`, progress at ``/admin/batch/{id}``) does the action item by item
  through the content service, and the list comes back with what was done.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.caches import BytesLRU, text_cache
from trovato.content.access import item_access, may_create, role_access
from trovato.content.bulk import BULK_ACTIONS
from trovato.content.items import Item
from trovato.content.model import ItemPage
from trovato.forms import form as forms
from trovato.forms.form import FormValue
from trovato.forms.service import Forms
from trovato.kernel.batches import batches
from trovato.kernel.context import RequestContext, request_context
from trovato.render import elements as el
from trovato.render.dates import local_time
from trovato.render.elements import RenderElement
from trovato.render.native import escape_html
from trovato.render.renderer import ThemeEngine
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.item import viewer
from trovato.web.user import _safe_destination

PAGE_SIZE: Final = 50
LIST_PATH: Final = "/admin/content"
FILTER_FORM: Final = "admin_content_filter"
BULK_FORM: Final = "admin_content_bulk"
# The sortable columns: (query value, header, the ItemQuery sort ascending); the same key
# with a leading "-" sorts descending. Anything else is ignored (the default order).
COLUMNS: Final = (("title", "Title"), ("type", "Type"), ("author", "Author"),
                  ("status", "Status"), ("changed", "Updated"))
SORTS: Final = frozenset(k for key, _ in COLUMNS for k in (key, f"-{key}"))
DEFAULT_SORT: Final = "-changed"
# Every order by name, for the filter form's "Sort by" (the column headers' links sort too,
# but on a phone the table's head is hidden: its rows are labelled blocks).
SORT_LABELS: Final = {
    "-changed": "Updated, newest first", "changed": "Updated, oldest first",
    "title": "Title, A to Z", "-title": "Title, Z to A",
    "type": "Type, A to Z", "-type": "Type, Z to A",
    "author": "Author, A to Z", "-author": "Author, Z to A",
    "-status": "Published first", "status": "Not published first",
}
TEXT_MAX: Final = 200
STATUSES: Final = {"1": "Published", "0": "Not published"}
ANY: Final = "- Any -"  # a filter select's no-filter choice


def _page_number(raw: str) -> int:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0


async def _filters(request: Request) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """The filters as typed, the errors by input, and the listing's arguments."""
    ctx = request_context(request)
    query = request.query_params
    typed = {name: query.get(name, "").strip()[:TEXT_MAX]
             for name in ("type", "status", "author", "title")}
    errors: dict[str, str] = {}
    args: dict[str, Any] = {}
    if typed["type"]:
        if typed["type"] in await ctx.kernel.content.types.cached():
            args["type"] = typed["type"]
        else:
            errors["type"] = "There is no such item type."
    if typed["status"]:
        if typed["status"] in STATUSES:
            args["status"] = int(typed["status"])
        else:
            errors["status"] = "Choose published or not published."
    if typed["author"]:
        author = await ctx.kernel.accounts.find(typed["author"])
        if author is None:
            errors["author"] = "No account has this name."
        else:
            args["author"] = author
    if typed["title"]:
        args["title"] = typed["title"]
    return typed, errors, args


def _url(filters: dict[str, str], **changes: str | int) -> str:
    params = {k: v for k, v in {**filters, **changes}.items() if v not in ("", 0)}
    return LIST_PATH + (f"?{urlencode(params)}" if params else "")


def _filter_form(types: dict[str, str]) -> RenderElement:
    return forms.form(FILTER_FORM, LIST_PATH, {
        "type": {"#type": "select", "#name": "type", "#title": "Type",
                 "#options": {"": ANY, **types}},
        "status": {"#type": "select", "#name": "status", "#title": "Status",
                   "#options": {"": ANY, **STATUSES}},
        "author": {"#type": "textfield", "#name": "author", "#title": "Author name",
                   "#maxlength": TEXT_MAX},
        "title": {"#type": "textfield", "#name": "title", "#title": "Title contains",
                  "#maxlength": TEXT_MAX},
        "sort": {"#type": "select", "#name": "sort", "#title": "Sort by",
                 "#options": dict(SORT_LABELS)},
        "actions": {"#type": "actions", "filter": forms.submit("Filter", name="")},
    }, method="get")


def _bulk_form(destination: str) -> RenderElement:
    return forms.form(BULK_FORM, "/admin/content/bulk", {
        "bulk": {"#type": "container", "#attributes": {"class": ["bulk-actions"]},
                 "action": {"#type": "select", "#name": "action", "#title": "Action",
                            "#options": {k: v[0] for k, v in BULK_ACTIONS.items()},
                            "#empty_option": True},
                 "apply": forms.submit("Apply to selected items", name="")},
        "destination": forms.hidden("destination", destination),
    })


# Stand-ins for the bulk form's two per-request values while its plan is drawn: letters and
# digits, which escaping leaves as they are, and which no other part of the form contains.
_TOKEN_MARK: Final = f"csrf{secrets.token_hex(12)}"
_DESTINATION_MARK: Final = f"destination{secrets.token_hex(12)}"
FORM_MEMO: Final = 64  # filter forms (and pagers) remembered per form service (theme)


@dataclass(frozen=True, slots=True)
class Plan:
    """HTML with holes: ``parts[0]``, the escaped value of ``holes[0]``, ``parts[1]``, …"""

    parts: tuple[str, ...]
    holes: tuple[str, ...]

    @classmethod
    def cut(cls, html: str, marks: Mapping[str, str]) -> Plan | None:
        """``html`` cut at each of ``marks`` (hole name → the stand-in drawn in its place);
        None unless each stand-in is there exactly once."""
        if any(html.count(mark) != 1 for mark in marks.values()):
            return None
        names = {mark: name for name, mark in marks.items()}
        pieces = re.split(f"({'|'.join(map(re.escape, names))})", html)
        return cls(tuple(pieces[0::2]), tuple(names[mark] for mark in pieces[1::2]))

    def fill(self, values: Mapping[str, str]) -> Markup:
        html = [self.parts[0]]
        for hole, part in zip(self.holes, self.parts[1:], strict=True):
            html += (escape_html(values[hole]), part)
        return Markup("".join(html))  # noqa: S704 - the theme's HTML, the values escaped


@dataclass(slots=True)
class _Memo:
    filters: dict[Hashable, Markup] = field(default_factory=dict)
    bulk: Plan | None = None
    bulk_drawn: bool = False


# The list's two forms as HTML, per form service (its theme draws them), kept while no plugin
# alters forms (``form_alter`` may change them per user or request: then they are built and
# drawn on every request, as any form): the filter form by what it shows, the bulk form as a
# :class:`Plan` with holes for the session's CSRF token and the destination. Drawing both
# was a fifth of the page's time.
_MEMOS: WeakKeyDictionary[Forms, _Memo] = WeakKeyDictionary()


def _memo(ctx: RequestContext) -> _Memo | None:
    service = ctx.kernel.forms
    if service.taps.listens("form_alter"):
        return None
    memo = _MEMOS.get(service)
    if memo is None:
        memo = _MEMOS[service] = _Memo()
    return memo


# The pager's HTML per theme, by page, pages and filters (the same few on every request):
# drawing it built and URL-encoded a dozen links.
_PAGERS: WeakKeyDictionary[ThemeEngine, dict[Hashable, Markup]] = WeakKeyDictionary()


def _pager_html(ctx: RequestContext, page: int, pages: int, filters: dict[str, str]
                ) -> Markup:
    engine = ctx.kernel.templates.engine
    drawn = _PAGERS.get(engine)
    if drawn is None:
        drawn = _PAGERS[engine] = {}
    key = (page, pages, tuple(filters.items()))
    html = drawn.get(key)
    if html is None:
        html = engine.render(el.pager(page, pages, href=LIST_PATH, query=filters))
        _remember(drawn, key, html)
    return html


def _remember(memo: dict[Hashable, Markup], key: Hashable, html: Markup) -> None:
    if len(memo) >= FORM_MEMO:  # the oldest leaves first
        del memo[next(iter(memo))]
    memo[key] = html


async def _filter_html(ctx: RequestContext, types: dict[str, str], sort: str,
                       typed: dict[str, str], errors: dict[str, str]) -> Markup:
    memo = _memo(ctx)
    key = (tuple(types.items()), sort, tuple(typed.items()), tuple(errors.items()))
    if memo is not None and (found := memo.filters.get(key)) is not None:
        return found
    service = ctx.kernel.forms
    tree = await service.build(_filter_form(types), user=ctx.current_user)
    values: dict[str, FormValue] = {**typed, "sort": sort}
    html = service.render(tree, values=values, errors=errors)
    if memo is not None:
        _remember(memo.filters, key, html)
    return html


async def _bulk_html(ctx: RequestContext, destination: str) -> Markup:
    service, token = ctx.kernel.forms, _csrf(ctx)
    memo = _memo(ctx)
    if memo is not None and not memo.bulk_drawn:
        memo.bulk = Plan.cut(service.render(_bulk_form(_DESTINATION_MARK),
                                            csrf_token=_TOKEN_MARK),
                             {"token": _TOKEN_MARK, "destination": _DESTINATION_MARK})
        memo.bulk_drawn = True
    if memo is not None and memo.bulk is not None:
        return memo.bulk.fill({"token": token, "destination": destination})
    tree = await service.build(_bulk_form(destination), user=ctx.current_user)
    return service.render(tree, csrf_token=token)


@dataclass(slots=True)
class Column:
    """A sortable column's header: its link to its order (the other way when it is the
    current one), and which way it sorts now (``aria-sort``; "" when it does not)."""

    label: str
    href: str
    hint: str
    arrow: str = ""
    sort: str = ""


@dataclass(slots=True)
class Row:
    """One item of the table, as the template draws it (attributes, not dict keys: Jinja
    reads an attribute at the first try; not frozen: a frozen dataclass's ``__init__`` costs
    four times as much, 50 times a page)."""

    id: str
    title: str
    type: str
    author: str
    status: str
    updated: str
    may_edit: bool


def _header(filters: dict[str, str], sort: str) -> list[Column]:
    """The columns' headers. Their links are :func:`_url`'s with the column's sort: the
    filters (``sort`` last) encoded once, the sort keys being URL-safe words."""
    kept = {k: v for k, v in filters.items() if k != "sort"}
    base = f"{LIST_PATH}?{urlencode(kept)}&sort=" if kept else f"{LIST_PATH}?sort="
    header = []
    for key, label in COLUMNS:
        name = label.lower()
        if sort == key:
            header.append(Column(label, f"{base}-{key}",
                                 f"Sorted by {name}, ascending; sort descending", "▲",
                                 "ascending"))
        elif sort == f"-{key}":
            header.append(Column(label, base + key,
                                 f"Sorted by {name}, descending; sort ascending", "▼",
                                 "descending"))
        else:
            header.append(Column(label, base + key, f"Sort by {name}"))
    return header


# The rows by everything they are made of (the same items on every request): a row is then
# one lookup instead of its id as text, its date in the reader's zone and a new object. The
# bytes counted are the key's, which holds the row's text but for the id and the date.
_ROWS: BytesLRU[tuple[object, ...], Row] = text_cache("content_list_rows", max_entry_bytes=4096,
                                                      recency=False)


async def _rows(ctx: RequestContext, items: list[Item], types: dict[str, str]) -> list[Row]:
    """The table's rows as data for ``admin/content_rows.html`` (50 rows of render elements
    would cost more to render than everything else on the page together). The update dates
    are :func:`~trovato.content.view.format_date`'s, the reader's zone read once. Without
    plugin votes, who may edit is the role rule, asked without a coroutine per row."""
    user, hooks, zone = ctx.current_user, ctx.kernel.content.items.hooks, viewer(ctx).timezone
    if hooks.reads_items():
        edits = [await item_access(user, item, "update", hooks) for item in items]
    else:  # item_access's steps without a vote
        edits = [user.is_admin or role_access(user, item, "update") for item in items]
    rows = []
    for item, may_edit in zip(items, edits, strict=True):
        label = types.get(item.type, item.type)
        # The id as its number: a UUID's own hash is Python code, its number's is not.
        key = (item.id.int, item.title, label, item.author_name, item.status, item.changed,
               zone, may_edit)
        row = _ROWS.get(key)
        if row is None:
            row = Row(str(item.id), item.title, label,
                      item.author_name or "", STATUSES["1" if item.status == 1 else "0"],
                      "" if item.changed is None else local_time(item.changed, zone), may_edit)
            _ROWS.put(key, row)
        rows.append(row)
    return rows


async def content_list(request: Request) -> Response:
    user = require_admin(request)
    ctx = request_context(request)
    kernel = ctx.kernel
    typed, errors, args = await _filters(request)
    sort = request.query_params.get("sort", DEFAULT_SORT)
    sort = sort if sort in SORTS else DEFAULT_SORT
    page = _page_number(request.query_params.get("page", "0"))
    types = {name: t.label for name, t in sorted((await kernel.content.types.cached()).items())}
    if errors:
        listing = ItemPage([], 0, page, PAGE_SIZE)
    else:
        listing = await kernel.content.query.list(
            user, sort=sort, page=page, limit=PAGE_SIZE, stage=ctx.stage, fields=False,
            summary=False, **args)
    filters = {k: v for k, v in typed.items() if v}
    if sort != DEFAULT_SORT:
        filters["sort"] = sort
    filter_html = await _filter_html(ctx, types, sort, typed, errors)
    bulk_html = await _bulk_html(ctx, _url(filters, page=page))
    pages = -(-listing.total // PAGE_SIZE)
    pager = _pager_html(ctx, page, pages, filters) if pages > 1 else ""
    return render_admin(request, "admin/content.html", {
        "title": "Content",
        "filters": filter_html,
        "bulk": bulk_html,
        "total": listing.total,
        "header": _header(filters, sort),
        "table_rows": kernel.templates.render_partial("admin/content_rows.html", {
            "rows": await _rows(ctx, listing.items, types),
            # The row checkboxes belong to the bulk form by its id (HTML's form attribute).
            "bulk_form": forms.element_id(BULK_FORM),
        }),
        "pager": pager,
        "add_content": any(may_create(user, name) for name in types),
    })


def _csrf(ctx: RequestContext) -> str:
    assert ctx.session is not None  # logged in: the admin permission needs an account
    return ctx.session.csrf_token()


def _back(destination: str) -> str:
    safe = _safe_destination(destination)
    return safe if safe == LIST_PATH or safe.startswith(LIST_PATH + "?") else LIST_PATH


async def bulk(request: Request) -> Response:
    """The confirmation step, or (``confirm=yes``) the start of the batch."""
    user = require_admin(request)
    ctx = request_context(request)
    kernel = ctx.kernel
    submitted = await request.form()
    action = str(submitted.get("action") or "")
    back = _back(str(submitted.get("destination") or ""))
    wanted = [v for v in submitted.getlist("items") if isinstance(v, str)][:PAGE_SIZE * 20]
    if action not in BULK_ACTIONS:
        flash(request, "error", "Choose an action to apply to the selected items.")
        return RedirectResponse(back, status_code=303)
    items = await kernel.content.query.load_many(user, wanted, stage=ctx.stage)
    if not items:
        flash(request, "error", "Select at least one item.")
        return RedirectResponse(back, status_code=303)
    verb, _ = BULK_ACTIONS[action]
    if submitted.get("confirm") == "yes":
        batch = await batches(kernel).start(
            str(user.id), f"content.{action}", [str(item.id) for item in items],
            title=f"{verb} {len(items)} item{'' if len(items) == 1 else 's'}", return_to=back,
            params={"stage": ctx.stage, "action": action})
        return RedirectResponse(f"/admin/batch/{batch.id}", status_code=303)
    elements: dict[str, RenderElement] = {
        f"item_{n}": forms.hidden("items", str(item.id)) for n, item in enumerate(items)
    }
    elements.update({
        "action": forms.hidden("action", action),
        "confirm": forms.hidden("confirm", "yes"),
        "destination": forms.hidden("destination", back),
        "actions": {"#type": "actions",
                    "submit": forms.submit(f"{verb} {len(items)} "
                                           f"item{'' if len(items) == 1 else 's'}", name="")},
    })
    tree = await kernel.forms.build(forms.form(f"{BULK_FORM}_confirm", "/admin/content/bulk",
                                               elements), user=user)
    chosen = el.item_list([el.link(item.title, f"/item/{item.id}") for item in items])
    title, intro, already = _confirm_words(action, items)
    return render_admin(request, "admin/content_confirm.html", {
        "title": title,
        "intro": intro,
        "already": already,
        "action": action,
        "chosen": kernel.templates.render_tree(chosen),
        "form": kernel.forms.render(tree, csrf_token=_csrf(ctx)),
        "back": back,
    })


def _confirm_words(action: str, items: list[Item]) -> tuple[str, str, str]:
    """The confirmation's heading and introduction, with how many of the chosen items are
    already in the state asked for (the batch leaves them alone; "" when none are, or for a
    deletion): the count said rather than "these items" for one."""
    verb, past = BULK_ACTIONS[action]
    count = len(items)
    if count == 1:
        title, intro = f"{verb} this item?", "The action applies to this item:"
    else:
        title, intro = f"{verb} {count} items?", f"The action applies to these {count} items:"
    if action == "delete":
        return title, intro, ""
    wanted = 1 if action == "publish" else 0
    done = sum(1 for item in items if item.status == wanted)
    state = past.lower()
    if done == 0:
        already = ""
    elif done == count:
        already = (f"It is already {state}: nothing will change." if count == 1 else
                   f"All {count} are already {state}: nothing will change.")
    elif done == 1:
        already = f"1 of them is already {state} and is left as it is."
    else:
        already = f"{done} of them are already {state} and are left as they are."
    return title, intro, already


routes = [
    Route(LIST_PATH, content_list, methods=["GET"]),
    Route("/admin/content/bulk", bulk, methods=["POST"]),
]
