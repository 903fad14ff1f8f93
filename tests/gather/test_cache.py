"""Gather's tag cache: entries dropped by tag, bounded in bytes and entries, and a value
computed before a drop never stored after it."""

from __future__ import annotations

from trovato.gather.cache import ENTRY_OVERHEAD, TagCache


def test_drops_by_tag_and_refuses_values_older_than_a_drop() -> None:
    cache = TagCache()
    cache.put("a", 1, ["item_list:article", "gather:news"], cache.generation)
    cache.put("b", 2, ["item_list:page"], cache.generation)
    before = cache.generation
    cache.on_message({"tags": ["item_list:article"], "origin": "elsewhere"})
    assert cache.get("a") is None and cache.get("b") == 2
    cache.put("a", 1, ["item_list:article"], before)  # read before the drop: not stored
    assert cache.get("a") is None
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_bounded_in_bytes_and_entries() -> None:
    cache = TagCache(max_entries=3, max_bytes=3 * (ENTRY_OVERHEAD + 100))
    for n in range(4):
        cache.put(n, n, [f"t{n}"], cache.generation, size=100)
    assert cache.get(0) is None and [cache.get(n) for n in (1, 2, 3)] == [1, 2, 3]
    cache.put("big", "x", [], cache.generation, size=10**9)
    assert cache.get("big") is None
    cache.put("half", "y", [], cache.generation, size=int(1.5 * (ENTRY_OVERHEAD + 100)))
    assert cache.bytes <= cache.max_bytes and cache.get("half") == "y"
    cache.drop(["t3"])
    assert cache.get(3) is None
