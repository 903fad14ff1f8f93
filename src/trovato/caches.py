"""In-process caches bounded in bytes, and the fixed names ``/metrics`` reports every cache under.

A worker remembers pure results (filtered text, summaries, attribute text, URL checks, local
dates) so a popular item is computed once per process rather than on every view. These caches
hold user text, so a bound on the number of entries is no bound on memory: 2,048 summaries of
1 MB texts are 2 GB.
:class:`BytesLRU` counts each entry's bytes (its key's and value's objects, plus a fixed
allowance for the slot holding them) and drops the least recently used entries past its bound.

Each is sized by the site's ``text_cache_bytes`` (:func:`configure`) and named in code
(:func:`process_caches`), so ``/metrics`` can show a worker's caches filling up to their bounds
and a soak can tell warm-up from a leak.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

# Counted per entry on top of its key and value: the ordered dict's slot and link, the key tuple.
ENTRY_OVERHEAD = 128
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def size_of(value: object) -> int:
    """Bytes ``value`` holds: strings and bytes exactly, tuples with their items."""
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(size_of(part) for part in value)
    return sys.getsizeof(value)


class BytesLRU(Generic[K, V]):
    """A map holding at most ``max_bytes`` of keys and values; past the bound the least
    recently used entries leave first.

    An entry larger than ``max_entry_bytes`` is not stored (computing it again is cheaper than
    evicting everything else for it). Safe to use from several threads: text is filtered in a
    worker thread when it is long.

    ``recency=False`` trades the order for speed: entries leave in the order they came and a
    hit is one C-level dict lookup instead of a method call and a reordering — for the caches
    of small strings that a page hits hundreds of times (attributes, URL checks, dates), whose
    few keys repeat on every page."""

    def __init__(
        self,
        name: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_entry_bytes: int | None = None,
        recency: bool = True,
    ) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.bytes = 0
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._sizes: dict[K, int] = {}
        self._lock = threading.Lock()
        self.get: Callable[[K], V | None] = self._recent if recency else self._entries.get

    def _recent(self, key: K) -> V | None:
        # Without the lock: each ordered-dict call is atomic under the GIL, and this runs for
        # every formatted text of every page. Only writers keep ``bytes`` in step.
        # A hit is one ordered-dict call; a miss raises, which costs more than a get() but is
        # followed by computing the value. Another thread may evict the key between the two
        # steps: a miss.
        try:
            self._entries.move_to_end(key)
            return self._entries[key]
        except KeyError:
            return None

    def put(self, key: K, value: V) -> None:
        size = ENTRY_OVERHEAD + size_of(key) + size_of(value)
        limit = (
            self.max_bytes
            if self.max_entry_bytes is None
            else min(self.max_bytes, self.max_entry_bytes)
        )
        if size > limit:
            return
        with self._lock:
            old = self._sizes.pop(key, None)
            if old is not None:
                self.bytes -= old
                del self._entries[key]
            self._entries[key] = value
            self._sizes[key] = size
            self.bytes += size
            self._evict()

    def resize(self, max_bytes: int) -> None:
        """Bound the cache at ``max_bytes`` from now on (dropping the oldest entries past it)."""
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self.bytes = 0

    def _evict(self) -> None:
        while self.bytes > self.max_bytes:
            key, _ = self._entries.popitem(last=False)
            self.bytes -= self._sizes.pop(key)

    def __len__(self) -> int:
        return len(self._entries)


# Every process-wide cache, in the order made; the site's settings bound them at start.
_CACHES: list[BytesLRU[Any, Any]] = []


def text_cache(name: str, *, max_entry_bytes: int, recency: bool = True) -> BytesLRU[K, V]:
    """A process-wide :class:`BytesLRU` of text, registered under ``name`` and sized by
    :func:`configure`."""
    cache: BytesLRU[K, V] = BytesLRU(name, max_entry_bytes=max_entry_bytes, recency=recency)
    _CACHES.append(cache)
    return cache


def configure(text_cache_bytes: int) -> None:
    """Bound each process-wide text cache at ``text_cache_bytes`` (the site's setting)."""
    for cache in _CACHES:
        cache.resize(text_cache_bytes)


def process_caches() -> dict[str, BytesLRU[Any, Any]]:
    """Every process-wide cache by its name."""
    return {cache.name: cache for cache in _CACHES}
