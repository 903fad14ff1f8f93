"""Image styles (``/admin/config/media/image-styles``; permission ``administer site
configuration``): the styles with their effects, a form adding one, a form editing each and a
confirmed deletion. Saving or deleting a style flushes its derivatives
(:class:`trovato.files.styles.ImageStyles`).

The effects are typed one per line — ``scale 220x220``, ``scale 220x`` (only a width),
``scale 100x100 upscale``, ``crop 100x80``, ``scale_and_crop 100x100``, ``convert webp`` — and
checked by the files service, whose messages are shown next to the effects as "Line N: …".
"""

from __future__ import annotations

import re
from typing import Any, Final

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.files.styles import ImageStyle, ImageStyles, parse_style
from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act, confirm_tree

PERMISSION: Final = "administer site configuration"
BASE: Final = "/admin/config/media/image-styles"
_SIZE: Final = re.compile(r"^(\d*)x(\d*)$")
_LINE_HELP: Final = ("write each effect as 'scale 220x220' (add 'upscale' to enlarge),"
                     " 'crop 100x80', 'scale_and_crop 100x100' or 'convert webp'")
LABELS: Final = {"name": "Machine name", "label": "Label", "effects": "Effects"}


def _styles(request: Request) -> ImageStyles:
    styles: ImageStyles = request_context(request).kernel.files.styles
    return styles


def effect_line(effect: Any) -> str:
    """One effect as the form shows it."""
    if effect["name"] == "convert":
        return f"convert {effect['format']}"
    size = f"{effect.get('width') or ''}x{effect.get('height') or ''}"
    return f"{effect['name']} {size}" + (" upscale" if effect.get("upscale") else "")


def parse_lines(text: str) -> list[dict[str, Any]]:
    """The effects typed one per line (:class:`ServiceError` 422 about ``effects`` naming
    the first line that is no effect; the values are checked by the style)."""
    effects: list[dict[str, Any]] = []
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), 1):
        words = line.split()
        name, rest = words[0].lower(), words[1:]
        if name == "convert" and len(rest) == 1:
            effects.append({"name": name, "format": rest[0].lower()})
            continue
        size = _SIZE.match(rest[0].lower()) if rest else None
        extra = rest[1:]
        if size is None or extra not in ([], ["upscale"]):
            raise ServiceError(422, f"Line {number}: {_LINE_HELP}.", field="effects")
        effect: dict[str, Any] = {"name": name}
        for key, value in (("width", size.group(1)), ("height", size.group(2))):
            if value:
                effect[key] = int(value)
        if extra:
            effect["upscale"] = True
        effects.append(effect)
    return effects


def _errors(exc: ServiceError) -> forms.FormErrors:
    """A refusal of the style as form errors: each setting's message next to its input, the
    effects' as "Line N: …"."""
    errors: dict[str, str] = {}
    for key, message in exc.errors.items():
        head, _, rest = key.partition(".")
        if head == "effects" and rest:
            index, _, setting = rest.partition(".")
            text = f"{setting} {message}" if setting and setting != "name" else (
                f"the effect {message}" if setting else message)
            errors.setdefault("effects", f"Line {int(index) + 1}: {text}.")
        elif head in LABELS:
            errors.setdefault(head, f"{LABELS[head]} {message}.")
    if exc.field is not None and exc.field in LABELS:
        errors.setdefault(exc.field, exc.message)
    return errors or {"form": exc.message}


def _form(action: str, style: ImageStyle | None) -> RenderElement:
    # An edited style's name is its address: only a new style is named, after its label as
    # every other admin form asks (item types, fields, vocabularies, listings).
    named: dict[str, RenderElement] = {} if style is not None else {"name": {
        "#type": "textfield", "#name": "name", "#title": LABELS["name"], "#required": True,
        "#maxlength": 32, "#description": "Lower-case letters, digits and underscores,"
        " starting with a letter; it is part of the derivatives' addresses."}}
    return forms.form("image_style_edit" if style else "image_style_add", action, {
        "label": {"#type": "textfield", "#name": "label", "#title": LABELS["label"],
                  "#required": True, "#maxlength": 200,
                  "#default_value": style.label if style else ""},
        **named,
        "effects": {"#type": "textarea", "#name": "effects", "#title": LABELS["effects"],
                    "#required": True,
                    "#default_value": "\n".join(map(effect_line, style.effects))
                    if style else "",
                    "#description": f"One per line, applied in order: {_LINE_HELP}."},
        "actions": {"#type": "actions",
                    "save": forms.submit("save", title="Save style" if style else "Add style")},
    })


async def _page(request: Request, title: str, parts: list[Markup], status: int = 200
                ) -> Response:
    return render_admin(request, "admin/layout.html",
                        {"title": title, "content": Markup("").join(parts)},
                        status_code=status, form=True)


def _render(request: Request, tree: RenderElement, values: forms.FormValues | None = None,
            errors: forms.FormErrors | None = None) -> Markup:
    ctx = request_context(request)
    assert ctx.session is not None  # the pipeline's session step ran
    return ctx.kernel.forms.render(tree, csrf_token=ctx.session.csrf_token(), values=values,
                                   errors=errors, labels=LABELS)


async def _save(request: Request, values: forms.FormValues, *, added: bool) -> Done:
    styles = _styles(request)
    style = parse_style(values["name"], {"label": values["label"],
                                         "effects": parse_lines(str(values["effects"] or ""))})
    if added and await styles.get(style.name) is not None:
        raise ServiceError(422, "There is already a style of that name.", field="name")
    await styles.save(style)
    return Done(f"Saved the image style {style.label}; its images are made again on their"
                " next view.", BASE, {"style": style.name})


async def _list_page(request: Request, values: forms.FormValues | None = None,
                     errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    styles = await _styles(request).all()
    rows: list[list[str | RenderElement]] = [
        [el.link(style.label, f"{BASE}/{name}"), name,
         ", ".join(map(effect_line, style.effects)),
         el.link("Delete", f"{BASE}/{name}/delete",
                 attributes={"aria-label": f"Delete {style.label}"})]
        for name, style in styles.items()]
    templates = ctx.kernel.templates
    listing = (el.table(["Style", "Machine name", "Effects", "Operations"], rows,
                        attributes={"aria-label": "Image styles"})  # the heading: no caption
               if rows else el.markup("There are no image styles.", tag="p"))
    tree = await ctx.kernel.forms.build(_form(BASE, None), user=ctx.current_user)
    return await _page(request, "Image styles", [
        templates.render_tree(listing), templates.render_tree(el.markup("Add a style",
                                                                        tag="h2")),
        _render(request, tree, values, errors)], status)


async def list_styles(request: Request) -> Response:
    require_admin(request, PERMISSION)
    return await _list_page(request)


@form_post
async def add_style(request: Request) -> Response:
    user = require_admin(request, PERMISSION)
    tree = await request_context(request).kernel.forms.build(_form(BASE, None), user=user)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _list_page(request, values, errors, status)

    async def change(values: forms.FormValues) -> Done:
        return await _save(request, values, added=True)

    return await act(request, tree, change, show, refused=_errors)


async def _edit_tree(request: Request) -> tuple[ImageStyle, RenderElement]:
    style = await _styles(request).require(request.path_params["name"])
    tree = await request_context(request).kernel.forms.build(
        _form(f"{BASE}/{style.name}", style), user=request_context(request).current_user)
    return style, tree


async def edit_style(request: Request) -> Response:
    require_admin(request, PERMISSION)
    style, tree = await _edit_tree(request)
    return await _page(request, f"Edit image style {style.label}", [_render(request, tree)])


@form_post
async def save_style(request: Request) -> Response:
    require_admin(request, PERMISSION)
    style, tree = await _edit_tree(request)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _page(request, f"Edit image style {style.label}",
                           [_render(request, tree, values, errors)], status)

    async def change(values: forms.FormValues) -> Done:
        return await _save(request, {**values, "name": style.name}, added=False)

    return await act(request, tree, change, show, refused=_errors)


async def _confirm(request: Request) -> tuple[ImageStyle, RenderElement]:
    style = await _styles(request).require(request.path_params["name"])
    tree = confirm_tree("image_style_delete", f"{BASE}/{style.name}/delete",
                        f"Delete the image style {style.label}?", "Delete", BASE,
                        consequence="Its images are deleted; pages that show images in this"
                                    " style show broken images until they use another.")
    return style, await request_context(request).kernel.forms.build(
        tree, user=request_context(request).current_user)


async def confirm_delete(request: Request) -> Response:
    require_admin(request, PERMISSION)
    style, tree = await _confirm(request)
    return await _page(request, f"Delete image style {style.label}", [_render(request, tree)])


@form_post
async def delete_style(request: Request) -> Response:
    require_admin(request, PERMISSION)
    style, tree = await _confirm(request)

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _page(request, f"Delete image style {style.label}",
                           [_render(request, tree, values, errors)], status)

    async def change(values: forms.FormValues) -> Done:
        await _styles(request).delete(style.name)
        return Done(f"Deleted the image style {style.label}.", BASE)

    return await act(request, tree, change, show)


routes = [
    Route(BASE, list_styles, methods=["GET"]),
    Route(BASE, add_style, methods=["POST"]),
    Route(BASE + "/{name}", edit_style, methods=["GET"]),
    Route(BASE + "/{name}", save_style, methods=["POST"]),
    Route(BASE + "/{name}/delete", confirm_delete, methods=["GET"]),
    Route(BASE + "/{name}/delete", delete_style, methods=["POST"]),
]
