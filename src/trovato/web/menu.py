"""Pages that plugins add through ``tap_menu``: matched after every kernel route.

The callback's render tree is sanitized as untrusted plugin output and rendered by the theme;
the page title comes from the menu entry unless the tree sets ``#title``. The entry's permission
is checked at the callback (for this route and for ``invoke-plugin`` alike): a refusal is 403,
a plugin's own refusal 400 (both service errors the kernel's error handler answers).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.kernel.context import request_context
from trovato.plugins import PluginError, PluginUser
from trovato.web._page import render_page

log = logging.getLogger("trovato.menu")


async def menu_page(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    route, args = kernel.menus.match(request.url.path, request.method)
    if route is None:
        raise ServiceError(405 if args else 404)
    payload = {
        "request": {
            "method": request.method,
            "path": request.url.path,
            "args": args,
            "query": dict(request.query_params),
        }
    }
    try:
        tree = await kernel.taps.call(route.plugin, route.callback, payload,
                                      user=PluginUser.from_current_user(ctx.current_user))
    except PluginError as exc:
        if exc.status < 500:
            raise  # the plugin refused: its message is for the visitor
        # A malfunction is more than a conversion: the log names the page's callback, and the
        # visitor learns which page broke and the request id to report it with.
        log.error("menu callback failed", extra={"data": {
            "plugin": route.plugin, "callback": route.callback, "error": str(exc),
            "request_id": ctx.request_id}})
        raise ServiceError(
            500, f"The page could not be built (plugin {route.plugin}, request {ctx.request_id}).",
            debug=exc.debug,
        ) from None
    title = tree.get("#title") if isinstance(tree, dict) else None
    content = await kernel.theme.render_async(tree, source=f"plugin:{route.plugin}",
                                              trusted=False)
    return await render_page(
        request,
        "menu_page.html",
        {"title": str(title) if isinstance(title, str) else route.title, "content": content},
    )


routes = [Route("/{path:path}", menu_page, methods=["GET", "HEAD", "POST"])]
