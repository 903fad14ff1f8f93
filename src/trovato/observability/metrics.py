"""Prometheus metrics. One registry per process; ``/metrics`` exposes it in text format."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The kernel's metrics, on a registry of their own (so tests can build several apps)."""

    def __init__(self) -> None:
        self._latency_children: dict[tuple[str, str, int], Histogram] = {}
        self.registry = CollectorRegistry(auto_describe=True)
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

    def observe_request(
        self, method: str, route: str, status: int, seconds: float, db_seconds: float
    ) -> None:
        key = (method, route, status)
        child = self._latency_children.get(key)
        if child is None:  # label lookup hashes and locks; resolve each combination once
            child = self._latency_children[key] = self.request_latency.labels(
                method, route, str(status)
            )
        child.observe(seconds)
        self.db_time.observe(db_seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
