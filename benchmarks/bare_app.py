"""The baseline: a bare Starlette app returning a small HTML page, no middleware, no database."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Trovato</title></head>"
    "<body><header><a href=/>Trovato</a></header><main><h1>Welcome</h1>"
    "<p>Welcome to Trovato.</p></main><footer>Powered by Trovato</footer></body></html>"
)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


app = Starlette(routes=[Route("/", page)])
