"""Prometheus metrics of one replica, on its own registry (never the global REGISTRY).

Every name here is part of the contract the harness, the dashboards and the alert rules read.
"""

from __future__ import annotations

import platform
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from . import __version__
from .models import PoolStats, Priority

__all__ = ["CONTENT_TYPE_LATEST", "HTTP_BUCKETS", "OTHER_ROUTE", "Metrics"]

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10)
DB_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
)
# Bounds at 2 and 2.5 ms: the harness's acquire-wait check allows 10 % of the p95 request latency,
# at least 2 ms, and read between 1 and 5 ms its p95 would be an interpolation across its budget.
ACQUIRE_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    2.5, 5, 10,
)
# Whole retries: one bucket per count a REDIS_MAX_RETRIES could sensibly be, so the most any
# command made is read exactly from the buckets.
RETRY_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20)
OTHER_ROUTE = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """All metric families of the app. Construct one per app; tests pass a fresh registry."""

    def __init__(self, registry: CollectorRegistry | None = None, *, version: str = __version__):
        r = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.registry = r
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        http = ("method", "route", "status")
        self.http_request_duration = Histogram(
            "servicedesk_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            http,
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "servicedesk_http_requests_total", "HTTP requests answered.", http, registry=r
        )
        self.http_in_flight = Gauge(
            "servicedesk_http_requests_in_flight", "HTTP requests being handled.", registry=r
        )
        self.db_query_duration = Histogram(
            "servicedesk_db_query_duration_seconds",
            "Time of one data-layer operation on a pooled connection (acquire wait excluded).",
            ("operation",),
            buckets=DB_BUCKETS,
            registry=r,
        )
        self.cache_requests = Counter(
            "servicedesk_cache_requests_total", "Cache lookups.", ("result",), registry=r
        )
        self.tickets_created = Counter(
            "servicedesk_tickets_created_total", "Tickets created.", ("priority",), registry=r
        )
        self.sla_breaches = Counter(
            "servicedesk_sla_breaches_total",
            "Tickets that passed their SLA due time unresolved; each counted once across replicas.",
            ("priority",),
            registry=r,
        )
        self.tickets_open = Gauge(
            "servicedesk_tickets_open",
            "Unresolved tickets in the database (same value on every replica: aggregate with max).",
            ("priority",),
            registry=r,
        )
        self.db_pool_size = Gauge("servicedesk_db_pool_size", "Open connections.", registry=r)
        self.db_pool_max = Gauge("servicedesk_db_pool_max", "Pool maximum size.", registry=r)
        self.db_pool_in_use = Gauge(
            "servicedesk_db_pool_connections_in_use", "Connections lent out.", registry=r
        )
        self.db_pool_idle = Gauge(
            "servicedesk_db_pool_connections_idle", "Connections ready in the pool.", registry=r
        )
        self.db_pool_waiting = Gauge(
            "servicedesk_db_pool_waiting", "Requests waiting for a connection.", registry=r
        )
        self.db_pool_acquire_wait = Histogram(
            "servicedesk_db_pool_acquire_wait_seconds",
            "Time spent waiting for a pooled connection.",
            buckets=ACQUIRE_BUCKETS,
            registry=r,
        )
        self.db_pool_acquire_timeouts = Counter(
            "servicedesk_db_pool_acquire_timeouts_total",
            "Acquisitions that gave up after DB_POOL_ACQUIRE_TIMEOUT_SECONDS.",
            registry=r,
        )
        self.db_pool_errors = Counter(
            "servicedesk_db_pool_errors_total",
            "Connection failures and database errors seen by the pool.",
            registry=r,
        )
        self.cache_retries = Counter(
            "servicedesk_cache_retries_total", "Cache commands retried after an error.", registry=r
        )
        self.cache_command_retries = Histogram(
            "servicedesk_cache_command_retries",
            "Retries one cache command made (reconnects included) before it succeeded or failed.",
            buckets=RETRY_BUCKETS,
            registry=r,
        )
        self.cache_errors = Counter(
            "servicedesk_cache_errors_total",
            "Cache commands that failed after all retries (readiness pings included; lookups "
            "fell back to the DB).",
            registry=r,
        )
        self.build_info = Info("servicedesk_build", "Build of the running app.", registry=r)
        self.build_info.info({"version": version, "python": platform.python_version()})

        self._cache_hit = self.cache_requests.labels("hit")
        self._cache_miss = self.cache_requests.labels("miss")
        self._http_children: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}
        self._query_children: dict[str, Histogram] = {}
        for priority in Priority:
            self.tickets_created.labels(priority.value)
            self.sla_breaches.labels(priority.value)
            self.tickets_open.labels(priority.value).set(0)

    # --- HTTP ---

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._http_children.get(key)
        if children is None:
            label_method = method if method in KNOWN_METHODS else "other"
            labels = (label_method, route, str(status))
            children = (
                self.http_request_duration.labels(*labels),
                self.http_requests.labels(*labels),
            )
            self._http_children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    # --- data layer ---

    def observe_query(self, operation: str, seconds: float) -> None:
        child = self._query_children.get(operation)
        if child is None:
            child = self._query_children[operation] = self.db_query_duration.labels(operation)
        child.observe(seconds)

    def bind_pool(self, stats: Callable[[], PoolStats]) -> None:
        """Read pool gauges from ``stats`` at scrape time."""
        self.db_pool_size.set_function(lambda: stats().size)
        self.db_pool_max.set_function(lambda: stats().max_size)
        self.db_pool_in_use.set_function(lambda: stats().in_use)
        self.db_pool_idle.set_function(lambda: stats().idle)
        self.db_pool_waiting.set_function(lambda: stats().waiting)

    # --- cache ---

    def cache_hit(self) -> None:
        self._cache_hit.inc()

    def cache_miss(self) -> None:
        self._cache_miss.inc()

    # --- exposition ---

    def render(self) -> bytes:
        return generate_latest(self.registry)
