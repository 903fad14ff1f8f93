"""Prometheus metrics. One registry per process; ``/metrics`` exposes it in text format.

Every label value is drawn from a bounded set, since each new combination is a series kept in
memory for the life of the process and written out on every scrape: the HTTP method is one of
the standard ones or ``other``, the route is the matched route's template (or ``unmatched``),
the status is a valid HTTP status code (or ``other``). Labels named by plugins (plugin, tap or
callback names, trap reasons) are bounded by what the installed plugins declare; on top of
that, each metric keeps at most :data:`MAX_SERIES` label combinations and counts any further
one under ``other`` in every label, so no caller can make the registry grow without end.

Each scrape also reports what this process holds in memory: its resident size (the standard
``process_*`` metrics), its id (``trovato_process_pid``, to tell workers apart behind one port)
and the entries and bytes of each in-process cache the kernel names (by fixed names chosen in
code).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Generic, Protocol, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MAX_SERIES = 1000
OTHER = "other"
UNMATCHED_ROUTE = "unmatched"
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
_RESULTS = {True: "hit", False: "miss"}


def status_label(status: int) -> str:
    return str(status) if 100 <= status <= 599 else OTHER


M = TypeVar("M", Histogram, Counter)


class _Series(Generic[M]):
    """The children of one labelled metric, resolved once each and capped in number."""

    def __init__(self, metric: M, labels: int) -> None:
        self.metric: M = metric
        self.children: dict[tuple[str, ...], M] = {}
        self.other: tuple[str, ...] = (OTHER,) * labels

    def get(self, labels: tuple[str, ...]) -> M:
        child = self.children.get(labels)
        if child is None:  # label lookup hashes and locks; resolve each combination once
            if len(self.children) >= MAX_SERIES:
                labels = self.other
                child = self.children.get(labels)
            if child is None:
                child = self.children[labels] = self.metric.labels(*labels)
        return child


class SizedCache(Protocol):
    """A cache that counts the bytes it holds against its bound."""

    @property
    def bytes(self) -> int: ...

    def __len__(self) -> int: ...


class _Memory(Collector):
    """This process's id and its caches' entries and bytes, read at each scrape."""

    def __init__(self, caches: Mapping[str, SizedCache]) -> None:
        self.caches = dict(sorted(caches.items()))

    def collect(self) -> Iterator[Metric]:
        pid = GaugeMetricFamily("trovato_process_pid", "This process's id.")
        pid.add_metric([], os.getpid())
        yield pid
        entries = GaugeMetricFamily(
            "trovato_memory_cache_entries", "Entries an in-process cache holds.", labels=["cache"])
        size = GaugeMetricFamily(
            "trovato_memory_cache_bytes",
            "Bytes an in-process cache holds, as it counts them against its bound.",
            labels=["cache"])
        for name, cache in self.caches.items():
            entries.add_metric([name], len(cache))
            size.add_metric([name], cache.bytes)
        yield entries
        yield size


class Metrics:
    """The kernel's metrics, on a registry of their own (so tests can build several apps);
    ``caches`` are the in-process caches to report, by name."""

    def __init__(self, *, caches: Mapping[str, SizedCache] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self.memory = _Memory(caches or {})
        self.registry.register(self.memory)
        self.request_latency = Histogram(
            "trovato_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.db_time = Histogram(
            "trovato_db_query_seconds_per_request",
            "Total database time spent per request.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tap_latency = Histogram(
            "trovato_tap_duration_seconds",
            "Time of one plugin tap call.",
            ["plugin", "tap"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.plugin_traps = Counter(
            "trovato_plugin_traps_total",
            "Plugin calls stopped by a trap, timeout or invalid result.",
            ["plugin", "tap", "reason"],
            registry=self.registry,
        )
        self.cache_requests = Counter(
            "trovato_cache_requests_total",
            "Cache lookups by tier and outcome.",
            ["tier", "result"],
            registry=self.registry,
        )
        self._requests = _Series(self.request_latency, 3)
        # Resolved children by (bounded method, route, status as int): the label strings are
        # made once per combination, not on every request.
        self._request_children: dict[tuple[str, str, int], Histogram] = {}
        self._taps = _Series(self.tap_latency, 2)
        self._traps = _Series(self.plugin_traps, 3)
        self._cache = _Series(self.cache_requests, 2)
        # Traps per plugin since this process started, for the status report (the metric
        # above is for scrapers; reading its children back would use prometheus internals).
        self.traps_by_plugin: dict[str, int] = {}

    def observe_request(
        self, method: str, route: str, status: int, seconds: float, db_seconds: float
    ) -> None:
        """``route`` is a route template (or ``unmatched``), never a request's path."""
        key = (method if method in METHODS else OTHER, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._requests.get((key[0], route, status_label(status)))
            if len(self._request_children) < MAX_SERIES:
                self._request_children[key] = child
        child.observe(seconds)
        self.db_time.observe(db_seconds)

    def observe_tap(self, plugin: str, tap: str, seconds: float) -> None:
        self._taps.get((plugin, tap)).observe(seconds)

    def count_trap(self, plugin: str, tap: str, reason: str) -> None:
        self._traps.get((plugin, tap, reason)).inc()
        self.traps_by_plugin[plugin] = self.traps_by_plugin.get(plugin, 0) + 1

    def count_cache(self, tier: str, hit: bool) -> None:
        self._cache.get((tier, _RESULTS[hit])).inc()

    def series(self) -> int:
        """Label combinations in use, over every labelled metric."""
        return sum(len(s.children) for s in (self._requests, self._taps, self._traps,
                                              self._cache))

    def render(self) -> bytes:
        return generate_latest(self.registry)
