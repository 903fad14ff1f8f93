"""Dropping cached pages and Gather's listings by cache tag after a write, in this process
and, through the shared store's pub/sub, in every other one.

An item save can carry the message to the other processes in its own statement
(:meth:`Invalidation.notice`: a ``pg_notify`` when the store is PostgreSQL, delivered at
commit): a save then needs no statement of its own to tell them, and only drops the tags in
this process once it has committed (:meth:`Invalidation.here`).
"""

from __future__ import annotations

from collections.abc import Iterable

from trovato.gather.cache import TagCache
from trovato.kernel.page_cache import PageCache


class Invalidation:
    """The kernel's cache-tag invalidation: the page cache and Gather's listings."""

    def __init__(self, listings: TagCache, page_cache: PageCache) -> None:
        self.listings = listings
        self.page_cache = page_cache

    async def __call__(self, tags: Iterable[str]) -> None:
        """Drop ``tags`` here and tell every other process."""
        dropped = list(tags)
        self.listings.drop(dropped)
        await self.page_cache.invalidate(dropped)

    def notice(self, tags: Iterable[str]) -> tuple[str, str] | None:
        """The other processes' message about ``tags`` as the channel and payload of a
        ``pg_notify`` for the writer's own statement, or None: then call this object after
        the commit (:meth:`PageCache.notice`)."""
        return self.page_cache.notice(tags)

    async def here(self, tags: Iterable[str]) -> None:
        """Drop ``tags`` in this process only, once the write that sent their notice has
        committed."""
        dropped = list(tags)
        self.listings.drop(dropped)
        self.page_cache.forget(dropped)
