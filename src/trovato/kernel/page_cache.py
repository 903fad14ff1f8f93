"""Full-page cache for anonymous visitors: an in-process L1 invalidated by tags in every process.

A route opts in by sending the response header ``x-trovato-cache-tags`` (space-separated cache
tags such as ``config`` or ``item:<id>``); the pipeline strips it before the response leaves.
Only GET responses with status 200 to visitors without a session and without a query for
another stage are stored, and only when nothing set a cookie. Invalidating a tag drops every
page carrying it here and, through the shared store's pub/sub, in every other process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from trovato.store import SharedStore

TAGS_HEADER = b"x-trovato-cache-tags"
CHANNEL = "page-cache"


@dataclass(frozen=True, slots=True)
class CachedPage:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    tags: frozenset[str]
    expires: float


class PageCache:
    def __init__(self, store: SharedStore, *, ttl: float, max_entries: int = 2000) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self._pages: OrderedDict[tuple[str, str, bytes], CachedPage] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    async def start(self) -> None:
        if self.enabled:
            await self.store.pubsub.subscribe(CHANNEL, self._on_message)

    def _on_message(self, message: dict[str, object]) -> None:
        tags = message.get("tags")
        if isinstance(tags, list):
            self._drop({str(t) for t in tags})

    def get(self, key: tuple[str, str, bytes]) -> CachedPage | None:
        page = self._pages.get(key)
        if page is None:
            return None
        if page.expires < time.monotonic():
            del self._pages[key]
            return None
        return page

    def put(
        self,
        key: tuple[str, str, bytes],
        status: int,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
        tags: frozenset[str],
    ) -> None:
        self._pages[key] = CachedPage(
            status, tuple(headers), body, tags, time.monotonic() + self.ttl
        )
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_entries:
            self._pages.popitem(last=False)

    async def invalidate(self, tags: Iterable[str]) -> None:
        """Drop pages carrying any of ``tags`` here and in every other process."""
        wanted = set(tags)
        self._drop(wanted)
        await self.store.pubsub.publish(CHANNEL, {"tags": sorted(wanted)})

    def clear(self) -> None:
        """Drop every page of this process (each process clears its own when the enabled
        plugins change, since any page may render differently)."""
        self._pages.clear()

    def _drop(self, tags: set[str]) -> None:
        for key in [k for k, page in self._pages.items() if page.tags & tags]:
            del self._pages[key]

    def __len__(self) -> int:
        return len(self._pages)
