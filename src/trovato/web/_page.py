"""Rendering a kernel page with the context every page template expects — the page's tiles in
its slots among it — and the messages a page shows once after a redirect (``flash``)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from trovato.kernel import flash as flash_messages
from trovato.kernel.banner import stage_banner
from trovato.kernel.context import request_context
from trovato.kernel.slots import page_slots
from trovato.kernel.toolbar import toolbar_for

# The forms' enhancements (AJAX rebuilds, autocomplete): frontend/src, built by esbuild.
FORM_SCRIPTS = ("/assets/js/forms.js",)


def flash(request: Request, kind: str, text: str) -> None:
    """Show ``text`` on the next page this browser sees (after a redirect: "Saved."), through
    a signed cookie (:mod:`trovato.kernel.flash`): nothing is written server-side."""
    flash_messages.add(request_context(request), kind, text)


async def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    **options: Any,
) -> HTMLResponse:
    """A site page: :func:`compose_page` with the page's tiles in the theme's slots."""
    ctx = request_context(request)
    slots = await page_slots(ctx, request.scope["path"]) if ctx.user is not None else {}
    return compose_page(request, template, context, slots=slots, **options)


def compose_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    slots: dict[str, Markup],
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
    form: bool = False,
    scripts: tuple[str, ...] = (),
) -> HTMLResponse:
    """Render ``template`` with ``slots`` (rendered tiles by slot; none on the admin pages,
    whose layout is the admin's own); ``form=True`` when the page holds a form that needs a
    CSRF token (which starts a session for an anonymous visitor, so plain pages never do) and
    gets the forms' script; ``scripts`` are more (the editor's). Messages flashed before a
    redirect come first."""
    ctx = request_context(request)
    session = ctx.session
    csrf = ""
    shown = [*flash_messages.take(ctx), *(messages or ())]
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
            "slots": slots,
            **(context or {}),
        },
    )
    return HTMLResponse(html, status_code=status_code)
