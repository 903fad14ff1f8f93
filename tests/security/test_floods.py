"""Hostile request floods keep a worker's memory within documented bounds.

Each flood runs against the real app, and what it could make grow is measured: the metric
series (and the size of ``/metrics``), the page cache's own byte accounting, and the Python
memory still held after the flood (``tracemalloc``, after a garbage collection). The bounds are
the ones ``docs/security.md`` ("Requests, metrics and the page cache") states: no new metric
series from made-up methods or paths, one cache entry per page whatever the query string, the
page cache within ``TROVATO_PAGE_CACHE_BYTES``, and under :data:`SLACK` of anything else.
"""

from __future__ import annotations

import gc
import random
import string
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.api.conftest import ARTICLE, admin_headers
from tests.conftest import running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.observability.metrics import MAX_SERIES, Metrics

# Memory a flood may leave behind besides the page cache's pages: allocator and interpreter
# caches warmed by the first requests. Each flood below would leave megabytes on a leak.
SLACK = 512 * 1024


@contextmanager
def retained() -> Iterator[Callable[[], int]]:
    """Bytes allocated inside the block and still alive when the returned callable is asked."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]

        def growth() -> int:
            urllib.parse.clear_cache()  # the test client's own URL cache (128 URLs), not ours
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - base

        yield growth
    finally:
        tracemalloc.stop()


def _junk(rng: random.Random, size: int, alphabet: str = string.ascii_letters) -> str:
    return "".join(rng.choices(alphabet, k=size))


async def _site(client: httpx.AsyncClient, body: str = "Body text") -> str:
    """A site with one published article; returns its id (the client is left anonymous)."""
    headers = await admin_headers(client)
    created = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert created.status_code == 201, created.text
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Flooded", "status": 1, "promote": True,
        "fields": {"field_body": {"value": body, "format": "plain_text"}}})
    assert item.status_code == 201, item.text
    client.cookies.clear()
    return str(item.json()["id"])


def _quiet(db_url: str, **overrides: Any) -> Any:
    # No slow-request log lines: captured log records would count as retained memory.
    return site_settings(db_url, slow_request_ms=60_000, **overrides)


async def test_made_up_method_names_add_no_metric_series(db_url: str) -> None:
    rng = random.Random(2)
    async with running_app(_quiet(db_url)) as client:
        await _site(client)
        metrics = kernel_of(client).metrics

        async def flood(count: int) -> None:
            for n in range(count):
                path = "/" if n % 2 else "/" + _junk(rng, 40)
                response = await client.request(_junk(rng, 8 * 1024), path)
                # Refused as unsafe without a CSRF token, or as not allowed on the route.
                assert response.status_code in (403, 405), response.status_code

        await flood(4)  # the "other" series of each route and status exist from here on
        scraped = metrics.render()
        with retained() as growth:
            await flood(100)
            after = metrics.render()
            assert len(after) - len(scraped) < 1024  # only the counts moved on
            assert after.count(b"\n") == scraped.count(b"\n")  # not one series more
            assert growth() < SLACK


async def test_huge_headers_and_query_strings_share_one_cache_entry(db_url: str) -> None:
    rng = random.Random(3)
    async with running_app(_quiet(db_url)) as client:
        item_id = await _site(client)
        cache = kernel_of(client).page_cache
        metrics = kernel_of(client).metrics
        for _ in range(2):  # a miss, then a hit: both series exist from here on
            await client.get(f"/item/{item_id}")
        lines = metrics.render().count(b"\n")
        with retained() as growth:
            for n in range(200):
                headers = {f"x-{_junk(rng, 32)}": _junk(rng, 4096) for _ in range(4)}
                headers["x-request-id"] = _junk(rng, 200, string.printable.strip())
                page = await client.get(f"/item/{item_id}?n={n}&{_junk(rng, 16)}="
                                        f"{_junk(rng, 1024)}", headers=headers)
                assert page.headers["x-trovato-cache"] == "HIT"
                assert len(page.headers["x-request-id"]) <= 64  # never echoed as sent
            assert len(cache) == 1
            assert metrics.render().count(b"\n") == lines
            assert growth() < SLACK


async def test_large_page_churn_stays_within_the_byte_bound(db_url: str) -> None:
    """The review's flood, scaled for CI: many GETs of large pages with new query strings."""
    rng = random.Random(4)
    bound = 512 * 1024
    settings = _quiet(db_url, page_cache_bytes=bound, page_cache_max_page_bytes=256 * 1024)
    async with running_app(settings) as client:
        body = " ".join(_junk(rng, 7) for _ in range(12_000))  # ~96 KB: pages of ~100 KB
        first = await _site(client, body)
        headers = await admin_headers(client, "root2")
        others = []
        for n in range(5):
            item = await client.post("/api/v1/items", headers=headers, json={
                "type": "article", "title": f"Large {n}", "status": 1,
                "fields": {"field_body": {"value": body, "format": "plain_text"}}})
            others.append(str(item.json()["id"]))
        client.cookies.clear()
        cache = kernel_of(client).page_cache
        items = [first, *others]
        with retained() as growth:
            for n in range(120):
                page = await client.get(f"/item/{rng.choice(items)}?n={n}")
                assert page.status_code == 200 and len(page.content) > 90_000
            assert growth() < bound + SLACK
            assert len(cache) < len(items)  # six pages of ~100 KB do not fit in 512 KB
            assert cache.bytes <= bound


def test_no_label_value_can_grow_a_metric_past_its_cap() -> None:
    """Plugin, tap and reason labels are bounded by the installed plugins; whatever a caller
    passes, each metric stops at MAX_SERIES combinations and counts the rest as ``other``."""
    rng = random.Random(5)
    metrics = Metrics()
    for _ in range(MAX_SERIES + 200):
        garbage = _junk(rng, 64)
        metrics.observe_tap(garbage, garbage, 0.001)
        metrics.count_trap(garbage, garbage, garbage)
        metrics.observe_request("GET", garbage, 200, 0.001, 0.0)
    assert metrics.series() == 3 * (MAX_SERIES + 1)  # each with its one "other" series
    scraped = metrics.render().decode()
    assert 'trovato_tap_duration_seconds_count{plugin="other",tap="other"} 200.0' in scraped
    assert 'trovato_plugin_traps_total{plugin="other",reason="other",tap="other"} 200.0' in scraped
