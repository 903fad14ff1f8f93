"""Rebuilding the search index as a batch: the admin's way to reindex every item after the
search language changed, in steps a progress page drives (:mod:`trovato.batch`), instead of
one request that would run as long as the site is large.

A batch records keys; here each key is a range of items in id order (``first..last``, from
:meth:`Search.reindex_ranges <trovato.search.service.Search.reindex_ranges>`), so a site of
any size fits the batch's key limit, and each step reindexes a bounded number of items through
the same :meth:`~trovato.search.service.Search.reindex_range` as ``trovato search reindex``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from trovato.batch import MAX_KEYS, Outcome
from trovato.search.service import Search
from trovato.users.accounts import CurrentUser

REINDEX: Final = "search.reindex"
"""The batch operation's name."""
# Items per key: a step (the batch's chunk of keys) reindexes that many times these.
RANGE_ITEMS: Final = 25
SEPARATOR: Final = ".."


async def reindex_keys(search: Search, *, limit: int = MAX_KEYS) -> tuple[list[str], int]:
    """The batch keys covering every item (ranges of :data:`RANGE_ITEMS`, wider on a site
    too large for ``limit`` keys, the batch's), and how many items they hold."""
    size = max(RANGE_ITEMS, math.ceil(await search.item_count() / limit))
    ranges = await search.reindex_ranges(size)
    return ([f"{first}{SEPARATOR}{last}" for first, last, _ in ranges],
            sum(count for _, _, count in ranges))


def _range(key: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    first, separator, last = key.partition(SEPARATOR)
    try:
        return (uuid.UUID(first), uuid.UUID(last)) if separator else None
    except ValueError:
        return None


class ReindexOperation:
    """Reindex the ranges of one chunk, for an actor holding ``permission`` (checked at every
    step, as every batch operation checks its records: the starter may have lost it)."""

    def __init__(self, search: Search, permission: str) -> None:
        self.search = search
        self.permission = permission

    async def __call__(self, actor: CurrentUser, keys: Sequence[str],
                       params: Mapping[str, Any]) -> list[Outcome]:
        if not actor.can(self.permission):
            return [Outcome(key, False, key, "you may no longer rebuild the search index")
                    for key in keys]
        outcomes: list[Outcome] = []
        for key in keys:
            bounds = _range(key)
            if bounds is None:
                outcomes.append(Outcome(key, False, key, "it is not a range of items"))
                continue
            await self.search.reindex_range(*bounds)
            outcomes.append(Outcome(key, True))
        return outcomes


__all__ = ["REINDEX", "ReindexOperation", "reindex_keys"]
