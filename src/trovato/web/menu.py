"""Pages that plugins add through ``tap_menu``: matched after every kernel route.

The callback's render tree is sanitized as untrusted plugin output and rendered by the theme;
the page title comes from the menu entry unless the tree sets ``#title``. The entry's permission
is checked at the callback (for this route and for ``invoke-plugin`` alike): a refusal is 403.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.kernel.context import request_context
from trovato.kernel.errors import ProblemError
from trovato.plugins import PluginError, PluginRefused, PluginUser
from trovato.plugins.menus import CallbackRefused
from trovato.web._page import render_page

log = logging.getLogger("trovato.menu")


async def menu_page(request: Request) -> Response:
    ctx = request_context(request)
    kernel = ctx.kernel
    route, args = kernel.menus.match(request.url.path, request.method)
    if route is None:
        raise ProblemError(405 if args else 404)
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
    except CallbackRefused as exc:
        raise ProblemError(403, exc.message) from None
    except PluginRefused as exc:
        raise ProblemError(400, exc.message) from None
    except PluginError as exc:
        log.error("menu callback failed", extra={"data": {
            "plugin": route.plugin, "callback": route.callback, "error": str(exc),
            "request_id": ctx.request_id}})
        raise ProblemError(
            500, f"The page could not be built (plugin {route.plugin}, request {ctx.request_id}).",
            debug=exc.report() if kernel.settings.environment == "development" else "",
        ) from None
    title = tree.get("#title") if isinstance(tree, dict) else None
    content = await kernel.theme.render_async(tree, source=f"plugin:{route.plugin}",
                                              trusted=False)
    return render_page(
        request,
        "menu_page.html",
        {"title": str(title) if isinstance(title, str) else route.title, "content": content},
    )


routes = [Route("/{path:path}", menu_page, methods=["GET", "HEAD", "POST"])]
