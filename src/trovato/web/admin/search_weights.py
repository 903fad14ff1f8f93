"""Search weights (``/admin/config/search/weights``; permission ``administer content types``,
as for ``/api/v1/item-types/{type}/search-weights``): how much each field of each item type
counts when the site search ranks its results.

The list shows every item type with the fields given a weight; each type's form has a choice
of A (counts most) to D (as plain body text, the default) for each of its searched fields
(:data:`~trovato.search.service.SEARCHED_FIELD_TYPES`: the others hold no words). Saving goes
through the search service's one way to change weights
(:meth:`~trovato.search.Search.set_weights`), which checks them and logs the change; the type's
items are then reindexed as a batch (:mod:`trovato.search.reindexing`, operation
``search.reindex_type``, the permission checked at every step) whose progress page the save
leads to, so a type of any size is reindexed in steps with a progress bar rather than within
the request.
"""

from __future__ import annotations

from typing import Final

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.content.access import ADMINISTER_TYPES
from trovato.content.fields import FieldDefinition
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.forms import form as forms
from trovato.kernel.batches import batches
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.search import Search
from trovato.search.reindexing import REINDEX_TYPE, reindex_keys
from trovato.search.service import SEARCHED_FIELD_TYPES, WEIGHTS
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act
from trovato.web.admin.people import csrf_token, refusal

BASE: Final = "/admin/config/search/weights"
FORM_ID: Final = "search_weights"
DEFAULT: Final = "D"  # what a field given no weight weighs (the service's rule)
_SAID: Final = {"A": "A: counts most", "D": "D: as plain body text (the default)"}
# Exactly the weights the service takes, in its order.
CHOICES: Final = {weight: _SAID.get(weight, weight) for weight in WEIGHTS}


def _search(request: Request) -> Search:
    search: Search = request_context(request).kernel.search
    return search


async def _item_type(request: Request) -> ItemType:
    """The type the path names, read now (404 when there is none)."""
    found = await request_context(request).kernel.content.types.get(
        request.path_params["type"])
    if found is None:
        raise ServiceError(404, "There is no such item type.")
    return found


def _searched(item_type: ItemType) -> list[FieldDefinition]:
    return [f for f in item_type.fields if f.type in SEARCHED_FIELD_TYPES]


def _key(field: str) -> str:
    """A field's error key: the one the search service names it by in a refusal."""
    return f"weights.{field}"


def _labels(item_type: ItemType) -> dict[str, str]:
    return {_key(f.name): f.label for f in item_type.fields}


def _form(item_type: ItemType, weights: dict[str, str]) -> RenderElement:
    elements: dict[str, RenderElement] = {
        "about": el.markup("The title always counts most (A). Saving recomputes the search"
                           " words of every item of this type, with a progress bar; until it"
                           " ends, results may be ranked by the former weights.",
                           tag="p", weight=-1),
    }
    for weight, field in enumerate(_searched(item_type)):
        elements[f"field_{weight}"] = {
            "#type": "select", "#name": f"weights[{field.name}]", "#error_key": _key(field.name),
            "#title": field.label, "#required": True, "#options": dict(CHOICES),
            "#weight": weight, "#default_value": weights.get(field.name, DEFAULT),
            "#description": f"Machine name {field.name} ({field.type})."}
    elements["actions"] = {"#type": "actions", "#weight": 1000,
                           "save": forms.submit("save", title="Save search weights"),
                           "cancel": el.link("Cancel", BASE, weight=1,
                                             attributes={"class": "button"})}
    return forms.form(FORM_ID, f"{BASE}/{item_type.type}", elements)


def _chosen(item_type: ItemType, values: forms.FormValues) -> dict[str, str]:
    """The weights a submission gives: a field left at the default is given none."""
    text = forms.text_values(values)
    return {field.name: text[f"weights[{field.name}]"] for field in _searched(item_type)
            if text.get(f"weights[{field.name}]", DEFAULT) != DEFAULT}


def _page(request: Request, title: str, parts: list[Markup], *, status: int = 200
          ) -> Response:
    return render_admin(request, "admin/layout.html",
                        {"title": title, "content": Markup("").join(parts)},
                        status_code=status, form=True)


async def list_types(request: Request) -> Response:
    require_admin(request, ADMINISTER_TYPES)
    ctx = request_context(request)
    types = await ctx.kernel.content.types.cached()
    weights = await _search(request).all_weights()
    rows: list[list[str | RenderElement]] = []
    for name, item_type in sorted(types.items(), key=lambda pair: pair[1].label):
        labels = {f.name: f.label for f in item_type.fields}
        given = ", ".join(f"{labels.get(field, field)}: {weight}"
                          for field, weight in weights.get(name, {}).items())
        rows.append([item_type.label, name, given or "None (every field weighs D)",
                     el.link("Edit", f"{BASE}/{name}",
                             attributes={"aria-label": f"Edit the search weights of"
                                                       f" {item_type.label}"})])
    table = el.table(["Item type", "Machine name", "Weights given", "Operations"], rows,
                     caption="Search weights by item type", empty="There are no item types.")
    intro = el.markup("How much a match in each field counts when search results are ranked:"
                      " A the most, D the least.", tag="p")
    render = ctx.kernel.templates.render_tree
    return _page(request, "Search weights", [render(intro), render(table)])


async def _built(request: Request) -> tuple[ItemType, RenderElement]:
    item_type = await _item_type(request)
    weights = await _search(request).weights(item_type.type)
    ctx = request_context(request)
    return item_type, await ctx.kernel.forms.build(_form(item_type, weights),
                                                   user=ctx.current_user)


def _form_page(request: Request, item_type: ItemType, tree: RenderElement, *,
               values: forms.FormValues | None = None, errors: forms.FormErrors | None = None,
               status: int = 200) -> Response:
    title = f"Search weights of {item_type.label}"
    if not _searched(item_type):
        return _page(request, title, [request_context(request).kernel.templates.render_tree(
            el.markup(f"{item_type.label} has no fields holding searched text (text, long"
                      " text, link or image fields): only its title is searched.", tag="p"))])
    form = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors,
        labels=_labels(item_type))
    return _page(request, title, [form], status=status)


async def edit_weights(request: Request) -> Response:
    require_admin(request, ADMINISTER_TYPES)
    item_type, tree = await _built(request)
    return _form_page(request, item_type, tree)


@form_post
async def save_weights(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_TYPES)
    item_type, tree = await _built(request)

    async def save(values: forms.FormValues) -> Done:
        search = _search(request)
        await search.set_weights(item_type.type, _chosen(item_type, values), actor=user.id,
                                 reindex=False)
        keys, items = await reindex_keys(search, type_name=item_type.type)
        if not keys:  # no item of the type to reindex
            return Done(f"The search weights of {item_type.label} have been saved.", BASE,
                        {"type": item_type.type})
        batch = await batches(request_context(request).kernel).start(
            str(user.id), REINDEX_TYPE, keys, title=f"Reindexing {item_type.label}",
            return_to=BASE, params={
                "type": item_type.type,
                "finished": f"The items of {item_type.label} were reindexed with the new"
                            f" search weights: {items} item{'' if items == 1 else 's'}."})
        return Done(f"The search weights of {item_type.label} have been saved; its items are"
                    " being reindexed.", f"/admin/batch/{batch.id}", {"type": item_type.type})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _form_page(request, item_type, tree, values=values, errors=errors,
                          status=status)

    return await act(request, tree, save, show,
                     refused=lambda exc: refusal(exc, _labels(item_type)))


routes = [
    Route(BASE, list_types, methods=["GET"]),
    Route(BASE + "/{type}", edit_weights, methods=["GET"]),
    Route(BASE + "/{type}", save_weights, methods=["POST"]),
]
