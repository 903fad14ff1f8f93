"""The search page: ``/search?q=…&page=N`` — a search box and a page of results (title link,
type, date, escaped snippet) with a pager.

Thin: the search service finds the results through the one item read path (access, status,
the request's stage). Words longer than the service takes show the form again with the error
next to the box (422); a page past the last is a 404, as on other listings. Never cached: any
item write may change any search.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.render import elements as el
from trovato.search import MAX_QUERY, PER_PAGE, Results
from trovato.search.service import SearchError
from trovato.web._page import render_page
from trovato.web.gather import page_number


async def search_page(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    require_permission(request, "access content")
    page = page_number(request)
    words = request.query_params.get("q", "")
    error = ""
    try:
        found = await kernel.search.search(ctx.current_user, words, page=page,
                                           limit=PER_PAGE, stage=ctx.stage)
    except SearchError as exc:
        if exc.status != 422 or "q" not in exc.errors:
            raise
        error = f"The search text {exc.errors['q']}."
        found = Results("", [], 0, 0, PER_PAGE)
    if page > 0 and page >= found.pages and not error:
        raise ServiceError(404, "No such page.")
    types = {name: t.label for name, t in (await kernel.content.types.cached()).items()}
    pager = el.pager(page, found.pages, href="/search", query={"q": found.words})
    return await render_page(request, "search.html", {
        "title": "Search",
        "q": words[:MAX_QUERY] if error else found.words,
        "max_length": MAX_QUERY,
        "error": error,
        "searched": bool(found.words),
        "results": found.results,
        "total": found.total,
        "first": page * PER_PAGE + 1,
        "types": types,
        "pager": kernel.templates.render_tree(pager),
    }, status_code=422 if error else 200)


routes = [Route("/search", search_page, methods=["GET"])]
