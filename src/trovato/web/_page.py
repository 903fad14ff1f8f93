"""Rendering a kernel page with the context every page template expects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from trovato.kernel.banner import stage_banner
from trovato.kernel.context import request_context


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
    form: bool = False,
) -> HTMLResponse:
    """Render ``template``; ``form=True`` when the page holds a form that needs a CSRF token
    (which starts a session for an anonymous visitor, so plain pages never do)."""
    ctx = request_context(request)
    session = ctx.session
    csrf = ""
    if session is not None and (form or session.exists):
        csrf = session.csrf_token()
    html = ctx.kernel.templates.render(
        template,
        {
            "user": ctx.user,
            "csrf_token": csrf,
            "messages": messages or [],
            "stage_banner": stage_banner(ctx, request.url.path),
            **(context or {}),
        },
    )
    return HTMLResponse(html, status_code=status_code)
