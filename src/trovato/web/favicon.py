"""``/favicon.ico``: browsers ask every site for it unprompted, so it answers instead of 404.

The icon is the default theme's (``render/static/favicon.ico``, a rendering of
``favicon.svg``, which pages link to); it changes only with a release, so clients and proxies
may keep it for a day.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ICON = files("trovato.render").joinpath("static", "favicon.ico").read_bytes()
_HEADERS = {"cache-control": "public, max-age=86400"}


async def favicon(request: Request) -> Response:
    return Response(_ICON, media_type="image/x-icon", headers=_HEADERS)


routes = [Route("/favicon.ico", favicon, methods=["GET"])]
