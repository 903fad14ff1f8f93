"""Full-page cache for anonymous visitors: an in-process L1 invalidated by tags in every process.

A route opts in by sending the response header ``x-trovato-cache-tags`` (space-separated cache
tags such as ``config`` or ``item:<id>``); the pipeline strips it before the response leaves,
and adds the tags the page's tiles left in the request context (:data:`EXTRA_TAGS`).
Only GET responses with status 200 to visitors without a session and without a query for
another stage are stored, and only when nothing set a cookie. Invalidating a tag drops every
page carrying it here and, through the shared store's pub/sub, in every other process.

The key is the path plus the values of the query parameters the route reads, which it names in
``x-trovato-cache-query`` (space-separated; the front page sends ``page``). Every other query
parameter is ignored, so ``?n=1``, ``?n=2``, … share one entry instead of one each.

The cache is bounded in bytes (each page's body, headers and key, plus a fixed allowance for
the objects holding them): storing past the bound drops the oldest pages first, and a page
larger than the per-page limit is not stored at all. Every page lives the same time, so the
oldest are also the first to expire: expired pages are dropped on every store and by a timer
every ``ttl`` seconds, whether or not anyone asks for them again.

Every invalidation also moves :attr:`PageCache.generation` on, and a page rendered while it
was another generation is not stored: a request that read the old permissions, item or type
just before the change cannot put the old page back just after it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from trovato.store import SharedStore

TAGS_HEADER = b"x-trovato-cache-tags"
# The request context's ``extra`` key under which a page's parts that the route does not know
# of (its tiles) leave their cache tags; a page the route marks cacheable carries them too.
EXTRA_TAGS = "cache_tags"
CACHE_QUERY_HEADER = "x-trovato-cache-query"
QUERY_HEADER = CACHE_QUERY_HEADER.encode()
CHANNEL = "page-cache"
# Tag bytes per invalidation message: every shared store's pub/sub carries it (PostgreSQL's
# NOTIFY at most 7999 bytes), so invalidating many items (a stage's publish) sends several.
MESSAGE_TAG_BYTES = 6000
# Counted per page on top of its bytes: the key, page and header tuples and the dict slot.
PAGE_OVERHEAD = 1024

Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class CachedPage:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # as sent on a hit, but the per-request ones
    body: bytes
    tags: frozenset[str]
    route: str  # the template of the route that rendered it (a metrics label)
    expires: float
    size: int


def _key(path: str, params: tuple[str, ...], query_string: bytes) -> Key:
    if not params or not query_string:
        return (path, ())
    # The last value of each, as the routes read them (Starlette's ``query_params.get``): a
    # parameter repeated a different number of times is still the same page.
    values = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return (path, tuple((name, values[name]) for name in params if name in values))


def _batches(tags: list[str]) -> list[list[str]]:
    """``tags`` in consecutive groups of at most :data:`MESSAGE_TAG_BYTES` (as JSON strings)."""
    batches: list[list[str]] = []
    size = MESSAGE_TAG_BYTES
    for tag in tags:
        cost = len(tag.encode()) + 4  # quotes, comma, space
        if size + cost > MESSAGE_TAG_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(tag)
        size += cost
    return batches


class PageCache:
    def __init__(
        self,
        store: SharedStore,
        *,
        ttl: float,
        max_bytes: int = 32 * 1024 * 1024,
        max_page_bytes: int = 1024 * 1024,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.max_page_bytes = min(max_page_bytes, max_bytes)
        self.bytes = 0
        self.generation = 0
        # Names this process's messages: it has dropped those pages already, and hearing its
        # own message again later would only refuse to store pages rendered meanwhile.
        self._origin = secrets.token_hex(8)
        # In the order stored, which is also the order of expiry (one ttl for every page).
        self._pages: OrderedDict[Key, CachedPage] = OrderedDict()
        # path -> (the query parameters its route reads, pages stored under it)
        self._paths: dict[str, tuple[tuple[str, ...], int]] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    async def start(self) -> None:
        if self.enabled:
            await self.store.pubsub.subscribe(CHANNEL, self._on_message)
            self._schedule_sweep()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def _schedule_sweep(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(self.ttl, self._sweep_tick)

    def _sweep_tick(self) -> None:
        self.sweep()
        self._schedule_sweep()

    def _on_message(self, message: dict[str, object]) -> None:
        tags = message.get("tags")
        if isinstance(tags, list) and message.get("origin") != self._origin:
            self._drop({str(t) for t in tags})

    def get(self, path: str, query_string: bytes) -> CachedPage | None:
        known = self._paths.get(path)
        if known is None:
            return None
        key = _key(path, known[0], query_string)
        page = self._pages.get(key)
        if page is None:
            return None
        if page.expires < time.monotonic():
            self._remove(key)
            return None
        return page

    def put(
        self,
        path: str,
        query_string: bytes,
        *,
        status: int,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
        tags: frozenset[str],
        params: tuple[str, ...],
        route: str,
        generation: int,
    ) -> None:
        """Store a page; ``params`` are the query parameters its route reads, ``generation``
        is :attr:`generation` as it was before the page was rendered."""
        if generation != self.generation:
            return
        known = self._paths.get(path)
        if known is not None and known[0] != params:  # the route now reads other parameters
            self._remove_path(path)
        key = _key(path, params, query_string)
        if key in self._pages:
            self._remove(key)
        kept = tuple(headers)
        size = (
            PAGE_OVERHEAD
            + len(body)
            + sum(len(name) + len(value) for name, value in kept)
            + len(path)
            + sum(len(name) + len(value) for name, value in key[1])
            + sum(len(tag) for tag in tags)
        )
        self.sweep()
        if size > self.max_page_bytes:
            return
        now = time.monotonic()
        self._pages[key] = CachedPage(status, kept, body, tags, route, now + self.ttl, size)
        count = self._paths[path][1] if path in self._paths else 0
        self._paths[path] = (params, count + 1)
        self.bytes += size
        while self.bytes > self.max_bytes:
            self._remove(next(iter(self._pages)))

    def sweep(self) -> None:
        """Drop every expired page (the oldest come first)."""
        now = time.monotonic()
        while self._pages:
            key, page = next(iter(self._pages.items()))
            if page.expires >= now:
                return
            self._remove(key)

    async def invalidate(self, tags: Iterable[str]) -> None:
        """Drop pages carrying any of ``tags`` here and in every other process."""
        wanted = set(tags)
        self._drop(wanted)
        for batch in _batches(sorted(wanted)):
            await self.store.pubsub.publish(CHANNEL, {"tags": batch, "origin": self._origin})

    def notice(self, tags: Iterable[str]) -> tuple[str, str] | None:
        """:meth:`invalidate`'s message to the other processes as a ``pg_notify`` for a
        writer's own statement (:meth:`PubSub.notice`), when the shared store's messages are
        notifications and ``tags`` fit in one message; else None. The writer then drops the
        tags here with :meth:`forget` once it has committed."""
        batches = _batches(sorted(set(tags)))
        if len(batches) != 1:
            return None
        return self.store.pubsub.notice(CHANNEL, {"tags": batches[0], "origin": self._origin})

    def forget(self, tags: Iterable[str]) -> None:
        """Drop pages carrying any of ``tags`` in this process only (the others were told by
        :meth:`notice`'s message)."""
        self._drop(set(tags))

    def clear(self, message: object = None) -> None:
        """Drop every page of this process. Each process clears its own when something every
        page may depend on changes (enabled plugins, permissions, item types): ``message`` is
        that change's pub/sub message, unused."""
        self.generation += 1
        self._pages.clear()
        self._paths.clear()
        self.bytes = 0

    def _drop(self, tags: set[str]) -> None:
        self.generation += 1
        for key in [k for k, page in self._pages.items() if page.tags & tags]:
            self._remove(key)

    def _remove_path(self, path: str) -> None:
        for key in [k for k in self._pages if k[0] == path]:
            self._remove(key)

    def _remove(self, key: Key) -> None:
        page = self._pages.pop(key)
        self.bytes -= page.size
        path = key[0]
        params, count = self._paths[path]
        if count > 1:
            self._paths[path] = (params, count - 1)
        else:
            del self._paths[path]

    def __len__(self) -> int:
        return len(self._pages)
