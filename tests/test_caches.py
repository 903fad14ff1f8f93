"""In-process caches bounded in bytes: what they keep, what they drop, how the settings size
them, and that the process-wide text caches hold no more memory than their bound."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import running_app, site_settings
from trovato.caches import DEFAULT_MAX_BYTES, BytesLRU, configure, process_caches
from trovato.content.fields import FieldRegistry
from trovato.content.summary import SUMMARIES, summarize
from trovato.content.types import parse_item_type
from trovato.render.formats import FILTERED_TEXT, render_text

MB = 1024 * 1024
BODY_ONLY = parse_item_type(
    {"type": "t", "label": "T", "fields": [{"name": "body", "type": "text_long", "label": "B"}]},
    FieldRegistry(),
)


@pytest.fixture
def small_caches() -> Iterator[int]:
    """Every process-wide cache bounded at 256 KiB for the test, then at the default again."""
    configure(MB // 4)
    yield MB // 4
    configure(DEFAULT_MAX_BYTES)


def test_the_least_recently_used_entries_leave_past_the_bound() -> None:
    cache: BytesLRU[str, str] = BytesLRU("t", max_bytes=10_000)
    for n in range(100):
        cache.put(f"key {n}", "x" * 1000)
        cache.get("key 0")  # used again and again: kept
    assert cache.bytes <= 10_000
    assert 5 <= len(cache) < 10
    assert cache.get("key 0") == "x" * 1000
    assert cache.get("key 1") is None
    assert cache.get("key 99") == "x" * 1000


def test_without_recency_the_oldest_entries_leave_first_even_if_used() -> None:
    cache: BytesLRU[str, str] = BytesLRU("t", max_bytes=10_000, recency=False)
    for n in range(100):
        cache.put(f"key {n}", "x" * 1000)
        cache.get("key 0")  # hits do not keep an entry in a first-in, first-out cache
    assert cache.bytes <= 10_000 and 5 <= len(cache) < 10
    assert cache.get("key 0") is None
    assert cache.get("key 99") == "x" * 1000
    before = cache.bytes
    cache.put("key 99", "y")  # replacing an entry counts its new size only
    assert cache.get("key 99") == "y" and cache.bytes < before - 900
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0 and cache.get("key 99") is None


def test_an_entry_larger_than_its_limit_is_not_kept() -> None:
    cache: BytesLRU[str, str] = BytesLRU("t", max_bytes=100_000, max_entry_bytes=5_000)
    cache.put("small", "x" * 100)
    cache.put("big", "x" * 10_000)
    assert cache.get("big") is None
    assert cache.get("small") == "x" * 100
    assert len(cache) == 1


def test_bytes_count_wide_characters_and_keys() -> None:
    cache: BytesLRU[str, str] = BytesLRU("t", max_bytes=10 * MB)
    cache.put("k" * 100_000, "")
    cache.put("wide", "\U0001f600" * 100_000)  # four bytes a character
    assert cache.bytes > 500_000
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0


def test_resizing_drops_what_no_longer_fits() -> None:
    cache: BytesLRU[int, str] = BytesLRU("t", max_bytes=MB)
    for n in range(100):
        cache.put(n, "x" * 5000)
    cache.resize(50_000)
    assert cache.bytes <= 50_000
    assert cache.get(99) is not None and cache.get(0) is None


def test_the_setting_bounds_every_process_cache(small_caches: int) -> None:
    names = set(process_caches())
    assert {"filtered_text", "summary", "attribute_text", "url_policy", "local_time"} <= names
    for n in range(20):
        render_text(f"<p>{n} " + "lorem ipsum " * 8000 + "</p>", "filtered_html")
    assert all(c.bytes <= small_caches for c in process_caches().values())


async def test_the_site_setting_sizes_the_caches_at_start(db_url: str) -> None:
    try:
        async with running_app(site_settings(db_url, "postgres", text_cache_bytes=300_000)):
            assert SUMMARIES.max_bytes == FILTERED_TEXT.max_bytes == 300_000
    finally:
        configure(DEFAULT_MAX_BYTES)


def _retained(fill: Callable[[int], object], count: int) -> int:
    """Bytes still allocated after ``fill`` ran ``count`` times (its results dropped)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(count):
            fill(n)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_summaries_of_long_texts_hold_no_more_than_the_bound(small_caches: int) -> None:
    # 40 different 60,000-character bodies: remembered by count (2,048 entries) they hold
    # 2.4 MB of source text; bounded in bytes, at most the 256 KiB bound stays.
    def summarize_one(n: int) -> object:
        body = {
            "value": f"<p>Body {n} " + "lorem ipsum " * 5000 + "</p>",
            "format": "filtered_html",
        }
        return summarize({"body": body}, BODY_ONLY)

    assert _retained(summarize_one, 40) < 2 * small_caches


def test_filtered_texts_hold_no_more_than_the_bound(small_caches: int) -> None:
    # Each text and its HTML (120 KB) were kept by count before: 4.8 MB for these 40.
    def render_one(n: int) -> object:
        return render_text(f"<p>Text {n} " + "lorem ipsum " * 5000 + "</p>", "filtered_html")

    assert _retained(render_one, 40) < 2 * small_caches
