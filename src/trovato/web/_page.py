"""Rendering a kernel page with the context every page template expects, and the messages a
page shows once after a redirect (``flash``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from trovato.kernel.banner import stage_banner
from trovato.kernel.context import request_context
from trovato.kernel.toolbar import toolbar_for

FLASH_KEY = "messages"
# The forms' enhancements (AJAX rebuilds, autocomplete): frontend/src, built by esbuild.
FORM_SCRIPTS = ("/assets/js/forms.js",)
_FLASH_KINDS = frozenset({"status", "warning", "error"})


def flash(request: Request, kind: str, text: str) -> None:
    """Show ``text`` on the next page this session sees (after a redirect: "Saved.")."""
    session = request_context(request).session
    if session is None or kind not in _FLASH_KINDS:
        return
    pending = session.get(FLASH_KEY) or []
    session.set(FLASH_KEY, [*pending, [kind, text]][-20:])


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
    form: bool = False,
    scripts: tuple[str, ...] = (),
) -> HTMLResponse:
    """Render ``template``; ``form=True`` when the page holds a form that needs a CSRF token
    (which starts a session for an anonymous visitor, so plain pages never do) and gets the
    forms' script; ``scripts`` are more (the editor's). Messages flashed before a redirect
    come first."""
    ctx = request_context(request)
    session = ctx.session
    csrf = ""
    shown = list(messages or [])
    if session is not None and session.exists and session.get(FLASH_KEY):
        flashed = session.pop(FLASH_KEY)
        shown = [(str(kind), str(text)) for kind, text in flashed] + shown
    if session is not None and (form or session.exists):
        csrf = session.csrf_token()
    html = ctx.kernel.templates.render(
        template,
        {
            "user": ctx.user,
            "csrf_token": csrf,
            "messages": shown,
            "stage_banner": stage_banner(ctx, request.scope["path"]),
            "scripts": [*(FORM_SCRIPTS if form else ()), *scripts],
            # From the user's permissions alone: an anonymous page never queries for it.
            "toolbar": toolbar_for(ctx.user),
            **(context or {}),
        },
    )
    return HTMLResponse(html, status_code=status_code)
