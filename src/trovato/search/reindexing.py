"""Rebuilding the search index as a batch: the admin's way to reindex every item after the
search language changed, or one type's items after its search weights changed, in steps a
progress page drives (:mod:`trovato.batch`), instead of one request that would run as long as
the site (or the type) is large.

A batch records keys; here each key is a range of items in id order (``first..last``, from
:meth:`Search.reindex_ranges <trovato.search.service.Search.reindex_ranges>`), so a site of
any size fits the batch's key limit, and each step reindexes a bounded number of items through
the same :meth:`~trovato.search.service.Search.reindex_range` as ``trovato search reindex``.
The two operations are one: :data:`REINDEX_TYPE` only reads its batch's ``type`` parameter and
checks another permission (the weights', ``administer content types``).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from trovato.batch import MAX_KEYS, Batch, Batches, Outcome
from trovato.content.access import ADMINISTER_TYPES
from trovato.search.service import Search
from trovato.users.accounts import CurrentUser

REINDEX: Final = "search.reindex"
"""The batch operation rebuilding every item's words (after the language changed)."""
REINDEX_TYPE: Final = "search.reindex_type"
"""The batch operation rebuilding one type's items' words (after its weights changed): the
type is the batch's ``type`` parameter."""
# Who may change the search language, and so rebuild the whole index.
ADMINISTER_LANGUAGE: Final = "administer site configuration"
# Items per key: a step (the batch's chunk of keys) reindexes that many times these.
RANGE_ITEMS: Final = 25
SEPARATOR: Final = ".."


async def reindex_keys(search: Search, *, type_name: str | None = None,
                       limit: int = MAX_KEYS) -> tuple[list[str], int]:
    """The batch keys covering every item (of the type ``type_name``, when given) in ranges
    of :data:`RANGE_ITEMS` (wider when there are too many for ``limit`` keys, the batch's),
    and how many items they hold."""
    size = max(RANGE_ITEMS, math.ceil(await search.item_count(type_name=type_name) / limit))
    ranges = await search.reindex_ranges(size, type_name=type_name)
    return ([f"{first}{SEPARATOR}{last}" for first, last, _ in ranges],
            sum(count for _, _, count in ranges))


async def change_language(batches: Batches, search: Search, language: str, *,
                          actor: uuid.UUID, return_to: str) -> tuple[bool, Batch | None]:
    """Make ``language`` the search language (as :meth:`Search.set_language` checks it) and
    start the batch rebuilding every item's words in it (:data:`REINDEX`, owned by
    ``actor``), as the admin page and the API do: whether it changed, and the batch (None
    when unchanged or there is no item). A batch that cannot start (the shared store down)
    sets the language back before the error goes on: a changed language with no rebuild
    would leave searches matching words stored in the other one."""
    before = await search.language()
    if not await search.set_language(language, actor=actor, reindex=False):
        return False, None
    try:
        keys, items = await reindex_keys(search)
        if not keys:
            return True, None
        now = await search.language()
        return True, await batches.start(
            str(actor), REINDEX, keys, title="Rebuilding the search index",
            return_to=return_to,
            params={"finished": f"The search index was rebuilt in {now}: {items} item"
                                f"{'' if items == 1 else 's'}."})
    except BaseException:
        await search.set_language(before, actor=actor, reindex=False)
        raise


def _range(key: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    first, separator, last = key.partition(SEPARATOR)
    try:
        return (uuid.UUID(first), uuid.UUID(last)) if separator else None
    except ValueError:
        return None


class ReindexOperation:
    """Reindex the ranges of one chunk (only the items of the batch's ``type`` parameter, when
    it has one), for an actor holding ``permission`` (checked at every step, as every batch
    operation checks its records: the starter may have lost it)."""

    def __init__(self, search: Search, permission: str) -> None:
        self.search = search
        self.permission = permission

    async def __call__(self, actor: CurrentUser, keys: Sequence[str],
                       params: Mapping[str, Any]) -> list[Outcome]:
        if not actor.can(self.permission):
            return [Outcome(key, False, key, "you may no longer rebuild the search index")
                    for key in keys]
        type_name = params.get("type")
        only = type_name if isinstance(type_name, str) else None
        outcomes: list[Outcome] = []
        for key in keys:
            bounds = _range(key)
            if bounds is None:
                outcomes.append(Outcome(key, False, key, "it is not a range of items"))
                continue
            await self.search.reindex_range(*bounds, type_name=only)
            outcomes.append(Outcome(key, True))
        if any(o.done for o in outcomes):
            await self.search.changed()  # once a step, not once a range
        return outcomes


def reindex_operations(search: Search) -> dict[str, ReindexOperation]:
    """The batch operations of :class:`trovato.batch.Batches` that rebuild the index."""
    return {REINDEX: ReindexOperation(search, ADMINISTER_LANGUAGE),
            REINDEX_TYPE: ReindexOperation(search, ADMINISTER_TYPES)}


__all__ = ["ADMINISTER_LANGUAGE", "REINDEX", "REINDEX_TYPE", "ReindexOperation",
           "change_language", "reindex_keys", "reindex_operations"]
