"""The front page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.web._page import render_page


async def front(request: Request) -> Response:
    kernel = request_context(request).kernel
    require_permission(request, "access content")
    if not await kernel.accounts.admin_exists():
        return RedirectResponse("/install", status_code=303)
    response = render_page(request, "front.html", {"title": ""})
    response.headers["x-trovato-cache-tags"] = "config"
    return response


routes = [Route("/", front, methods=["GET"])]
