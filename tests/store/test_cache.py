"""Cache: values, TTLs, get_many, delete, clear and tag invalidation."""

from __future__ import annotations

import asyncio

from tests.store.conftest import StoreFactory
from trovato.store import SharedStore


async def test_get_set_values_of_every_json_type(store: SharedStore) -> None:
    cache = store.cache
    values = {
        "dict": {"title": "Ünïcode ✓", "fields": {"body": [{"value": "x"}]}},
        "list": [1, "two", 3.5, None, True],
        "str": "plain",
        "int": 42,
        "false": False,
    }
    for key, value in values.items():
        await cache.set(key, value)
    for key, value in values.items():
        assert await cache.get(key) == value
    assert await cache.get("missing") is None
    await cache.set("int", 43)
    assert await cache.get("int") == 43


async def test_ttl_expiry(store: SharedStore) -> None:
    await store.cache.set("short", "v", ttl=0.2)
    await store.cache.set("forever", "v")
    assert await store.cache.get("short") == "v"
    await asyncio.sleep(0.3)
    assert await store.cache.get("short") is None
    assert await store.cache.get_many(["short", "forever"]) == {"forever": "v"}
    # An expired key can be set again.
    await store.cache.set("short", "again", ttl=5)
    assert await store.cache.get("short") == "again"


async def test_get_many_returns_only_hits(store: SharedStore) -> None:
    await store.cache.set("a", 1)
    await store.cache.set("b", {"x": [2]})
    assert await store.cache.get_many(["a", "missing", "b"]) == {"a": 1, "b": {"x": [2]}}
    assert await store.cache.get_many([]) == {}
    assert await store.cache.get_many(["missing"]) == {}


async def test_delete_and_clear(store: SharedStore) -> None:
    cache = store.cache
    await cache.set("a", 1, tags=["t"])
    await cache.set("b", 2)
    await cache.set("c", 3, ttl=30)
    await cache.delete("a")
    await cache.delete("never-existed")
    assert await cache.get("a") is None
    assert await cache.get("b") == 2
    await store.sessions.set("s", {"kept": True}, 30)
    await cache.clear()
    assert await cache.get_many(["a", "b", "c"]) == {}
    assert await cache.invalidate_tags(["t"]) == 0
    assert (await store.sessions.read("s")).data == {"kept": True}  # clear() is the cache only
    await cache.set("after", 1, tags=["t"])
    assert await cache.get("after") == 1


async def test_invalidate_tags_drops_exactly_the_tagged_keys(store: SharedStore) -> None:
    cache = store.cache
    await cache.set("item:1", "one", tags=["item:1", "item_list:page"])
    await cache.set("item:2", "two", tags=["item:2", "item_list:page"])
    await cache.set("list", ["one", "two"], ttl=30, tags=["item_list:page"])
    await cache.set("other", "o", tags=["item:3"])
    await cache.set("untagged", "u")

    assert await cache.invalidate_tags(["item:1"]) == 1
    assert await cache.get_many(["item:1", "item:2", "list", "other", "untagged"]) == {
        "item:2": "two",
        "list": ["one", "two"],
        "other": "o",
        "untagged": "u",
    }
    # A key with several of the tags is dropped (and counted) once.
    assert await cache.invalidate_tags(["item_list:page", "item:2", "nothing"]) == 2
    assert await cache.get_many(["item:2", "list", "other", "untagged"]) == {
        "other": "o",
        "untagged": "u",
    }
    assert await cache.invalidate_tags(["item_list:page"]) == 0
    assert await cache.invalidate_tags([]) == 0


async def test_new_tags_replace_old_ones(store: SharedStore) -> None:
    cache = store.cache
    await cache.set("k", 1, tags=["old", "both"])
    await cache.set("k", 2, tags=["new", "both"])
    assert await cache.invalidate_tags(["old"]) == 0
    assert await cache.get("k") == 2
    await cache.set("k", 3)
    assert await cache.invalidate_tags(["new", "both"]) == 0
    assert await cache.get("k") == 3
    await cache.set("k", 4, tags=["new"])
    assert await cache.invalidate_tags(["new"]) == 1
    assert await cache.get("k") is None


async def test_expired_tagged_keys_are_not_counted(store: SharedStore) -> None:
    await store.cache.set("short", 1, ttl=0.2, tags=["t"])
    await store.cache.set("long", 2, ttl=30, tags=["t"])
    await asyncio.sleep(0.3)
    assert await store.cache.invalidate_tags(["t"]) == 1
    assert await store.cache.get("long") is None


async def test_tag_invalidation_is_atomic_with_concurrent_sets(
    store: SharedStore, make_store: StoreFactory
) -> None:
    """Writers on two stores race an invalidator: whatever survives is still tracked by its
    tag, so one more invalidation leaves nothing tagged readable."""
    other = await make_store()
    keys = [f"page:{i}" for i in range(60)]

    async def writer(target: SharedStore, mine: list[str]) -> None:
        for key in mine:
            await target.cache.set(key, {"key": key}, ttl=30, tags=["page", f"own:{key}"])

    async def invalidator() -> None:
        for _ in range(10):
            await other.cache.invalidate_tags(["page"])
            await asyncio.sleep(0)

    await asyncio.gather(writer(store, keys[::2]), writer(other, keys[1::2]), invalidator())
    survivors = await store.cache.get_many(keys)
    assert await store.cache.invalidate_tags(["page"]) == len(survivors)
    assert await store.cache.get_many(keys) == {}
    assert await other.cache.get_many(keys) == {}


async def test_cache_is_shared_between_processes(
    store: SharedStore, make_store: StoreFactory
) -> None:
    other = await make_store()
    await store.cache.set("k", {"v": 1}, tags=["t"])
    assert await other.cache.get("k") == {"v": 1}
    assert await other.cache.invalidate_tags(["t"]) == 1
    assert await store.cache.get("k") is None


async def test_add_stores_only_when_absent(store: SharedStore) -> None:
    cache = store.cache
    assert await cache.add("marker", {"used": 1}, ttl=60) is True
    assert await cache.get("marker") == {"used": 1}
    assert await cache.add("marker", "again", ttl=60) is False
    assert await cache.get("marker") == {"used": 1}
    # A key set otherwise (with tags) is present too.
    await cache.set("tagged", 1, tags=["t"])
    assert await cache.add("tagged", 2) is False
    # Of concurrent adds, exactly one stores.
    added = await asyncio.gather(*(cache.add("once", n, ttl=60) for n in range(8)))
    assert sorted(added) == [False] * 7 + [True]
    assert await cache.get("once") == added.index(True)
    # An expired value is a miss: the add stores.
    await cache.set("short", "v", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await cache.add("short", "again", ttl=60) is True
    assert await cache.get("short") == "again"
    # Without a TTL it stays, and clear drops it.
    assert await cache.add("kept", 1) is True
    await cache.clear()
    assert await cache.add("kept", 2) is True
