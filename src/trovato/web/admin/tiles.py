"""``/admin/structure/tiles``: placing tiles in the page's slots, for ``administer tiles``.

* ``/admin/structure/tiles`` — the placements by slot (source, title, weight, where they show,
  whether enabled; each linking to its edit form) and a form placing a new one: the source (a
  listing's tile display or a plugin's tile), the slot, the weight, a title and the visibility
  (path patterns, one per line, where ``*`` stands for any run of characters; roles; stages);
* ``/admin/structure/tiles/{id}`` — a placement's edit form;
* ``/admin/structure/tiles/{id}/delete`` — the confirmation of its removal;
* ``/admin/structure/menu`` — the main menu: the listings' links (set on their page display)
  and the administrators' own, with a form adding one (title, path, weight, the permission a
  reader needs to see it) and ``/admin/structure/menu/{id}/delete`` confirming a removal.

Thin: every check is the tile service's; its refusals are shown next to the input they name,
with what was typed kept. Forms are built with the form API; every POST carries the CSRF
token. A plugin tile's settings are not edited here (they are kept as placed).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.tiles import ADMINISTER_TILES, Placement, TileError
from trovato.tiles.model import MenuLink
from trovato.users.accounts import CurrentUser
from trovato.users.roles import Roles
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import confirm_tree

BASE = "/admin/structure/tiles"
MENU = "/admin/structure/menu"
# The form's inputs, by the placement document's part they set.
_PARTS = {"source": "source", "slot": "slot", "weight": "weight", "title": "title",
          "enabled": "enabled", "visibility.paths": "paths",
          "visibility.hidden_paths": "hidden_paths", "visibility.roles": "roles",
          "visibility.stages": "stages"}


def _path(placement: Placement) -> str:
    return f"{BASE}/{placement.id}"


def _lines(text: object) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


async def _options(request: Request, user: CurrentUser) -> tuple[dict[str, str],
                                                                 dict[str, str]]:
    """The sources that may be placed and the roles, each by value → label."""
    ctx = request_context(request)
    sources = {o.source: o.label for o in await ctx.kernel.tiles.sources(user)}
    roles = {str(r.id): r.name for r in await Roles(ctx.kernel.db, ctx.kernel.permissions).all()}
    return sources, roles


def _form(action: str, form_id: str, sources: dict[str, str], slots: tuple[str, ...],
          roles: dict[str, str], *, title: str, placement: Placement | None = None
          ) -> RenderElement:
    shown = placement.visibility if placement is not None else None
    return forms.form(form_id, action, {
        "source": {"#type": "select", "#name": "source", "#title": "Content",
                   "#required": True, "#options": sources,
                   "#default_value": placement.source if placement else "",
                   "#description": "A listing with a tile display, or a tile an enabled"
                                   " plugin provides."},
        "slot": {"#type": "select", "#name": "slot", "#title": "Slot", "#required": True,
                 "#options": {s: s.capitalize() for s in slots},
                 "#default_value": placement.slot if placement else "sidebar"},
        "weight": {"#type": "number", "#name": "weight", "#title": "Weight", "#step": "1",
                   "#default_value": str(placement.weight if placement else 0),
                   "#description": "Lighter tiles come first in their slot."},
        "title": {"#type": "textfield", "#name": "title", "#title": "Title", "#maxlength": 255,
                  "#default_value": placement.title if placement else "",
                  "#description": "Empty: the listing's own title (a plugin tile has none)."},
        "enabled": {"#type": "checkbox", "#name": "enabled", "#title": "Enabled",
                    "#return_value": "1",
                    "#default_value": "1" if placement is None or placement.enabled else ""},
        "paths": {"#type": "textarea", "#name": "paths", "#title": "Show only on these pages",
                  "#default_value": "\n".join(shown.paths) if shown else "",
                  "#description": "One path per line; * stands for anything (/blog/*)."
                                  " Empty: every page."},
        "hidden_paths": {"#type": "textarea", "#name": "hidden_paths",
                         "#title": "Never show on these pages",
                         "#default_value": "\n".join(shown.hidden_paths) if shown else "",
                         "#description": "One path per line, as above."},
        "roles": {"#type": "checkboxes", "#name": "roles", "#title": "Show only to these roles",
                  "#options": roles,
                  "#default_value": [str(r) for r in shown.roles] if shown else [],
                  "#description": "None checked: everyone."},
        "stages": {"#type": "textfield", "#name": "stages", "#title": "Show only in stages",
                   "#maxlength": 1000,
                   "#default_value": ", ".join(shown.stages) if shown else "",
                   "#description": "Stage ids separated by commas (live, …). Empty: every"
                                   " stage."},
        "actions": {"#type": "actions", "submit": forms.submit("save", title=title)},
    })


def _document(values: forms.FormValues, placement: Placement | None) -> dict[str, Any]:
    weight = str(values.get("weight") or "0")
    return {
        "source": str(values["source"]), "slot": str(values["slot"]),
        "weight": int(weight) if weight.lstrip("-").isdigit() else weight,
        "title": str(values["title"]).strip(), "enabled": values.get("enabled") == "1",
        "visibility": {
            "paths": _lines(values["paths"]), "hidden_paths": _lines(values["hidden_paths"]),
            "roles": list(values.get("roles") or []),
            "stages": [s.strip() for s in str(values["stages"]).split(",") if s.strip()],
        },
        "settings": placement.settings if placement is not None else {},
    }


def _errors(exc: TileError) -> dict[str, str]:
    """The refusal's messages by the form's inputs (``visibility.paths.1`` → ``paths``)."""
    errors: dict[str, str] = {}
    for key, message in exc.problem_errors().items():
        name = next((i for p, i in _PARTS.items() if key == p or key.startswith(p + ".")),
                    "source")
        errors.setdefault(name, message[:1].upper() + message[1:])
    return errors or {"source": exc.message}


async def _page(request: Request, title: str, parts: list[Markup], *,
                status: int = 200) -> Response:
    return render_admin(request, "admin/layout.html",
                        {"title": title, "content": Markup("").join(parts)},
                        status_code=status, form=True)


def _render(request: Request, tree: RenderElement, values: forms.FormValues | None = None,
            errors: dict[str, str] | None = None) -> Markup:
    ctx = request_context(request)
    assert ctx.session is not None  # the pipeline's session step ran
    return ctx.kernel.forms.render(tree, csrf_token=ctx.session.csrf_token(), values=values,
                                   errors=errors)


def _where(placement: Placement) -> str:
    shown = placement.visibility
    parts = [", ".join(shown.paths) or "every page"]
    if shown.hidden_paths:
        parts.append("not " + ", ".join(shown.hidden_paths))
    if shown.roles:
        parts.append(f"{len(shown.roles)} role(s)")
    if shown.stages:
        parts.append("stages " + ", ".join(shown.stages))
    return "; ".join(parts)


async def _list_page(request: Request, values: forms.FormValues | None = None,
                     errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    user = ctx.current_user
    placements = await ctx.kernel.tiles.all(user)
    sources, roles = await _options(request, user)
    rows: list[list[str | RenderElement]] = [
        [el.link(sources.get(p.source, p.source), _path(p)), p.slot.capitalize(),
         p.title or "—", str(p.weight), _where(p), "yes" if p.enabled else "no"]
        for p in placements]
    listing = (el.table(["Content", "Slot", "Title", "Weight", "Shown on", "Enabled"], rows)
               if rows else el.markup("No tiles are placed yet.", tag="p"))
    templates = ctx.kernel.templates
    parts = [templates.render_tree(listing),
             templates.render_tree(el.markup("Place a tile", tag="h2"))]
    if sources:
        tree = await ctx.kernel.forms.build(
            _form(BASE, "tile_place", sources, ctx.kernel.tiles.slots, roles,
                  title="Place tile"), user=user)
        parts.append(_render(request, tree, values, errors))
    else:
        parts.append(templates.render_tree(el.markup(
            "Nothing can be placed yet: give a Gather listing a tile display, or enable a"
            " plugin that provides tiles.", tag="p")))
    return await _page(request, "Tiles", parts, status=status)


async def tiles_page(request: Request) -> Response:
    require_admin(request, ADMINISTER_TILES)
    return await _list_page(request)


async def place(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    sources, roles = await _options(request, user)
    tree = await ctx.kernel.forms.build(
        _form(BASE, "tile_place", sources, ctx.kernel.tiles.slots, roles, title="Place tile"),
        user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        try:
            await ctx.kernel.tiles.create(user, _document(values, None))
        except TileError as exc:
            errors = _errors(exc)
        else:
            flash(request, "status", "Placed the tile.")
            return RedirectResponse(BASE, status_code=303)
    return await _list_page(request, values, errors, status=400)


async def _validated(request: Request, tree: RenderElement
                     ) -> tuple[forms.FormValues, dict[str, str]]:
    ctx = request_context(request)
    values = forms.read(tree, await request.form())
    errors = forms.check(tree, values)
    for key, message in (await ctx.kernel.forms.validate(tree, values,
                                                        user=ctx.current_user)).items():
        errors.setdefault(key, message)
    return values, errors


async def _edit_page(request: Request, placement: Placement,
                     values: forms.FormValues | None = None,
                     errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    sources, roles = await _options(request, ctx.current_user)
    sources.setdefault(placement.source, placement.source)  # a source gone since: still shown
    tree = await ctx.kernel.forms.build(
        _form(_path(placement), "tile_edit", sources, ctx.kernel.tiles.slots, roles,
              title="Save", placement=placement), user=ctx.current_user)
    remove = ctx.kernel.templates.render_tree(el.link(
        "Remove this tile", f"{_path(placement)}/delete", attributes={"class": "button"}))
    return await _page(request, "Edit tile", [_render(request, tree, values, errors), remove],
                       status=status)


async def edit(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    return await _edit_page(request, await ctx.kernel.tiles.get(user, request.path_params["id"]))


async def save(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    placement = await ctx.kernel.tiles.get(user, request.path_params["id"])
    sources, roles = await _options(request, user)
    sources.setdefault(placement.source, placement.source)
    tree = await ctx.kernel.forms.build(
        _form(_path(placement), "tile_edit", sources, ctx.kernel.tiles.slots, roles,
              title="Save", placement=placement), user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        try:
            await ctx.kernel.tiles.update(user, placement.id, _document(values, placement))
        except TileError as exc:
            errors = _errors(exc)
        else:
            flash(request, "status", "Saved the tile.")
            return RedirectResponse(BASE, status_code=303)
    return await _edit_page(request, placement, values, errors, status=400)


def _confirm(placement: Placement) -> RenderElement:
    return confirm_tree("tile_delete", f"{_path(placement)}/delete",
                        f"Remove the tile {placement.title or placement.source} from the"
                        f" {placement.slot} slot?", "Remove", _path(placement),
                        consequence="It disappears from every page at once; what it showed"
                                    " is kept.")


async def confirm_delete(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    placement = await ctx.kernel.tiles.get(user, request.path_params["id"])
    tree = await ctx.kernel.forms.build(_confirm(placement), user=user)
    return await _page(request, "Remove tile", [_render(request, tree)])


async def delete(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    placement = await ctx.kernel.tiles.get(user, request.path_params["id"])
    await ctx.kernel.tiles.delete(user, placement.id)
    flash(request, "status", "Removed the tile.")
    return RedirectResponse(BASE, status_code=303)


# -- the main menu --------------------------------------------------------------------------


def _link_form() -> RenderElement:
    return forms.form("menu_link_add", MENU, {
        "title": {"#type": "textfield", "#name": "title", "#title": "Title", "#required": True,
                  "#maxlength": 255},
        "path": {"#type": "textfield", "#name": "path", "#title": "Path", "#required": True,
                 "#maxlength": 255, "#description": "A path of this site, like /about."},
        "weight": {"#type": "number", "#name": "weight", "#title": "Weight", "#step": "1",
                   "#default_value": "0", "#description": "Lighter links come first."},
        "permission": {"#type": "textfield", "#name": "permission",
                       "#title": "Shown to readers with the permission", "#maxlength": 128,
                       "#default_value": "access content"},
        "actions": {"#type": "actions", "submit": forms.submit("add", title="Add link")},
    })


async def _menu_page(request: Request, values: forms.FormValues | None = None,
                     errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    user = ctx.current_user
    listings = [(e.title, e.path, e.weight, f"listing {e.listing}")
                for e in await ctx.kernel.gather.menu_entries()]
    own = await ctx.kernel.tiles.links(user)
    rows: list[list[str | RenderElement]] = [
        [title, path, str(weight), origin, ""] for title, path, weight, origin in listings]
    rows += [[link.title, link.path, str(link.weight), link.permission,
              el.link("Remove", f"{MENU}/{link.id}/delete")] for link in own]
    templates = ctx.kernel.templates
    listing = (el.table(["Title", "Path", "Weight", "Shown to", ""], rows) if rows
               else el.markup("The main menu has no links yet.", tag="p"))
    tree = await ctx.kernel.forms.build(_link_form(), user=user)
    return await _page(request, "Main menu", [
        templates.render_tree(listing),
        templates.render_tree(el.markup("A listing's link is set on its page display; the"
                                        " listing's permission decides who sees it.", tag="p")),
        templates.render_tree(el.markup("Add a link", tag="h2")),
        _render(request, tree, values, errors)], status=status)


async def menu_page(request: Request) -> Response:
    require_admin(request, ADMINISTER_TILES)
    return await _menu_page(request)


async def add_link(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    tree = await ctx.kernel.forms.build(_link_form(), user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        weight = str(values.get("weight") or "0")
        try:
            await ctx.kernel.tiles.add_link(user, {
                "title": str(values["title"]).strip(), "path": str(values["path"]).strip(),
                "weight": int(weight) if weight.lstrip("-").isdigit() else weight,
                "permission": str(values["permission"]).strip() or "access content"})
        except TileError as exc:
            errors = {key if key in values else "path": message[:1].upper() + message[1:]
                      for key, message in exc.problem_errors().items()}
        else:
            flash(request, "status", "Added the link.")
            return RedirectResponse(MENU, status_code=303)
    return await _menu_page(request, values, errors, status=400)


def _link_confirm(link: MenuLink) -> RenderElement:
    return confirm_tree("menu_link_delete", f"{MENU}/{link.id}/delete",
                        f"Remove the link {link.title} ({link.path}) from the main menu?",
                        "Remove", MENU, consequence="It disappears from every page at once.")


async def confirm_link_delete(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    link = await ctx.kernel.tiles.link(user, request.path_params["id"])
    tree = await ctx.kernel.forms.build(_link_confirm(link), user=user)
    return await _page(request, "Remove menu link", [_render(request, tree)])


async def delete_link(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TILES)
    ctx = request_context(request)
    await ctx.kernel.tiles.delete_link(user, request.path_params["id"])
    flash(request, "status", "Removed the link.")
    return RedirectResponse(MENU, status_code=303)


routes = [
    Route(BASE, tiles_page, methods=["GET"]),
    Route(BASE, place, methods=["POST"]),
    Route(BASE + "/{id}", edit, methods=["GET"]),
    Route(BASE + "/{id}", save, methods=["POST"]),
    Route(BASE + "/{id}/delete", confirm_delete, methods=["GET"]),
    Route(BASE + "/{id}/delete", delete, methods=["POST"]),
    Route(MENU, menu_page, methods=["GET"]),
    Route(MENU, add_link, methods=["POST"]),
    Route(MENU + "/{id}/delete", confirm_link_delete, methods=["GET"]),
    Route(MENU + "/{id}/delete", delete_link, methods=["POST"]),
]
