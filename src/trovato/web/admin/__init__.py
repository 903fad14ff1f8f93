"""The administration pages (``/admin/...``): one layout, one section list, one access door.

Every admin page renders through :func:`render_admin`, which puts the page in the admin layout
(``admin/layout.html``) and names its section (``admin_active``) for the toolbar to mark. As in
Drupal, the toolbar lists the sections in groups (site-wide, on every page; the current
group's sections in a second row) and a page's tabs list its own section's pages: the admin
layout repeats neither. The sections are data
(:data:`SECTIONS`, defined in :mod:`trovato.kernel.toolbar` because the kernel's error page
shows the toolbar too), so the dashboard and the toolbar list the same places and never a page
the user would get a 403 on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context
from trovato.kernel.toolbar import ADMIN_PERMISSION, SECTIONS, Section, groups_for, sections_for
from trovato.users.accounts import CurrentUser
from trovato.web._page import compose_page


def require_admin(request: Request, permission: str = ADMIN_PERMISSION) -> CurrentUser:
    """The current user if they may use the admin and hold ``permission`` (403 otherwise)."""
    require_permission(request, ADMIN_PERMISSION)
    return require_permission(request, permission)


def render_admin(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    **options: Any,
) -> HTMLResponse:
    """Render an admin page: ``template`` extends ``admin/layout.html``; the active section
    (the toolbar's marked link) is the one whose path starts the request's path."""
    user = request_context(request).current_user
    path = request.scope["path"]  # as the router matched it (no URL object to build)
    active = "/admin" if path == "/admin" else next(
        (s.path for s in sections_for(user)
         if path == s.path or path.startswith(s.path + "/")), None)
    return compose_page(
        request,
        template,
        {"admin_active": active, **(context or {})},
        slots={},
        **options,
    )


__all__ = ["ADMIN_PERMISSION", "SECTIONS", "Section", "groups_for", "render_admin",
           "require_admin", "sections_for"]
