"""``GET /autocomplete/{type}/{field}?q=``: what a reference field's autocomplete offers.

The reference widget's input names this endpoint (``data-autocomplete``); the forms' script
asks it as the editor types and shows the answer as a listbox. The answer is JSON, at most
:data:`MATCHES` records the asking user may see, each ``{"id", "label", "value"}`` where
``value`` is the text the widget's input takes without JavaScript too: "Title (id)" for an
item; for a tag, the name as a tag field's line writes it (quoted when it holds a comma or a
quote), "Name (id)" when two tags of the field's vocabularies share it
(:mod:`trovato.forms.tag_text`). The script puts a tag's value in place of the name being
typed, after the names before it.

The endpoint is generic over the field's ``target_type``: :data:`SOURCES` holds a matcher per
record kind, each reading through its owner's one read path (items: the content query's
title match, with access, the stage and plugin votes; tags: the categories service's names
starting with the text). A field is asked about only by a user
who may create or edit items of its type (the form's users); ``q`` is bounded in length and
matched literally (LIKE wildcards escaped).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trovato.categories.model import Tag
from trovato.content.access import ADMINISTER_CONTENT, item_access
from trovato.content.items import Item
from trovato.content.statements import TITLE_MATCH_MAX
from trovato.errors import ServiceError
from trovato.forms.tag_text import quoted, tag_token
from trovato.forms.widgets import reference_text
from trovato.ids import uuid7
from trovato.kernel.context import RequestContext, request_context

MATCHES = 10


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    label: str
    value: str = ""  # what a pick puts in the input; "" is "Title (id)"


# (request context, the typed text, the field's target bundles, how many) → matches.
Matcher = Callable[[RequestContext, str, Sequence[str], int], Awaitable[list[Match]]]


async def _items(ctx: RequestContext, text: str, bundles: Sequence[str],
                 limit: int) -> list[Match]:
    found = await ctx.kernel.content.query.match_titles(
        ctx.current_user, text, types=bundles, limit=limit, stage=ctx.stage)
    return [Match(str(item.id), item.title) for item in found]


async def _tags(ctx: RequestContext, text: str, vocabularies: Sequence[str],
                limit: int) -> list[Match]:
    """The tags whose name starts with ``text``, in the field's vocabularies (none named:
    every vocabulary), read through the categories service (its access and stage view)."""
    categories = ctx.kernel.categories
    existing = await categories.vocabulary_names()
    allowed = [v for v in vocabularies if v in existing] if vocabularies else existing
    found: list[Tag] = []
    for vocabulary in allowed:
        found += await categories.tags(ctx.current_user, vocabulary, stage=ctx.stage,
                                       starting=text, limit=limit - len(found))
        if len(found) >= limit:
            break
    # A name another tag of the vocabularies has too (matched or not) is given with its id.
    shared: dict[str, int] = {}
    for tag in await categories.tags_named(ctx.current_user, allowed,
                                           {t.name for t in found}, stage=ctx.stage):
        shared[tag.name.lower()] = shared.get(tag.name.lower(), 0) + 1
    return [Match(str(tag.id), tag.name, quoted(tag_token(
        tag.name, str(tag.id) if shared.get(tag.name.lower(), 0) > 1 else None)))
        for tag in found]


# Record kind (a reference field's target_type) → its matcher.
SOURCES: Mapping[str, Matcher] = {"item": _items, "category_tag": _tags}


async def _may_edit_type(ctx: RequestContext, type_name: str) -> bool:
    """Whether the user may create or edit some item of ``type_name`` (uses its forms)."""
    user = ctx.current_user
    if user.can(ADMINISTER_CONTENT) or any(
            user.can(f"edit {which} {type_name} content") for which in ("any", "own")):
        return True
    draft = Item(id=uuid7(), type=type_name, title="", author_id=user.id)
    return await item_access(user, draft, "create", ctx.kernel.content.items.hooks)


async def autocomplete(request: Request) -> Response:
    ctx = request_context(request)
    item_type = await ctx.kernel.content.types.get(request.path_params["type"])
    definition = item_type.field(request.path_params["field"]) if item_type else None
    if item_type is None or definition is None or definition.type != "reference":
        raise ServiceError(404, "There is no such reference field.")
    if not await _may_edit_type(ctx, item_type.type):
        raise ServiceError(403, f"You may not edit {item_type.label} content.")
    text = request.query_params.get("q", "")
    if len(text) > TITLE_MATCH_MAX:
        raise ServiceError(400, f"The search text (q) must be at most {TITLE_MATCH_MAX}"
                                " characters.")
    target = str(definition.settings.get("target_type", "item"))
    matcher = SOURCES.get(target)
    if matcher is None:
        raise ServiceError(404, f"There is no autocomplete for references to {target}.")
    bundles = [str(b) for b in definition.settings.get("target_bundles") or ()]
    found = await matcher(ctx, text.strip(), bundles, MATCHES) if text.strip() else []
    return JSONResponse(
        [{"id": m.id, "label": m.label, "value": m.value or reference_text(m.label, m.id)}
         for m in found],
        headers={"cache-control": "private, no-store"})


routes = [Route("/autocomplete/{type}/{field}", autocomplete, methods=["GET"])]
