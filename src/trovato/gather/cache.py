"""Gather's in-process cache of definitions, totals, page anchors and result pages, dropped by
cache tag here and — through the page cache's pub/sub channel, which every item write already
announces its tags on — in every other process.

Entries carry tags (``gather:<name>``, ``item_list:<type>``, ``item:<id>``); dropping a tag
drops every entry carrying it. As in the page cache, every drop moves :attr:`generation` on,
and a value computed while it was another generation is not stored: a request that read the
items just before a write cannot put the old result back just after it.

Bounded in bytes as the caller counts them (a result page: its items' text and fields), least
recently used first out, and in entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

DEFAULT_MAX_ENTRIES = 4096
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
ENTRY_OVERHEAD = 256  # the slot, the key and the tag sets of one entry


class TagCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.generation = 0
        self._entries: OrderedDict[Hashable, tuple[Any, frozenset[str], int]] = OrderedDict()
        self._by_tag: dict[str, set[Hashable]] = {}

    def get(self, key: Hashable) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: Any, tags: Iterable[str], generation: int, *,
            size: int = 0) -> None:
        """Store ``value`` (``size`` bytes as the caller counts it) unless a drop happened
        since ``generation`` was read."""
        if generation != self.generation:
            return
        self._remove(key)
        frozen = frozenset(tags)
        size += ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        self._entries[key] = (value, frozen, size)
        self.bytes += size
        for tag in frozen:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def drop(self, tags: Iterable[str]) -> None:
        """Drop every entry carrying any of ``tags`` (in this process)."""
        self.generation += 1
        for tag in tags:
            for key in self._by_tag.pop(tag, set()):
                self._remove(key)

    def clear(self, message: object = None) -> None:
        """Drop everything (item types changed: what a definition means may have changed).
        ``message`` is the pub/sub message that says so, unused."""
        self.generation += 1
        self._entries.clear()
        self._by_tag.clear()
        self.bytes = 0

    def on_message(self, message: dict[str, Any]) -> None:
        """A page-cache invalidation message from any process: drop its tags here too."""
        tags = message.get("tags")
        if isinstance(tags, list):
            self.drop(str(t) for t in tags)

    def _remove(self, key: Hashable) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        self.bytes -= found[2]
        for tag in found[1]:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def __len__(self) -> int:
        return len(self._entries)
