"""Replica CPU-seconds per request, from the replicas' own scrapes over a time window.

Both numbers come from the same scrape of the same replica (`process_cpu_seconds_total` and
`servicedesk_http_requests_total`), so the ratio does not depend on how the window's edges fall
between scrapes. The harness's own probes and scrapes (/api/health/*, /api/metrics) are not
requests of the load and are left out of the count; their CPU stays in, as it does for the HPA.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.collect.counters import increase
from harness.collect.scrape import Scrape

__all__ = [
    "CPU_COUNTER",
    "REQUEST_COUNTER",
    "CpuUse",
    "measure_cpu",
]

CPU_COUNTER = "process_cpu_seconds_total"
REQUEST_COUNTER = "servicedesk_http_requests_total"
# Routes the harness itself calls (probes, scrapes): not load.
_OWN_ROUTES = ("/api/health/", "/api/metrics")


@dataclass(frozen=True)
class CpuUse:
    """What the replicas used over a window, summed over every replica scraped at least twice.

    `replica_seconds` is the sum of each replica's covered span (first to last scrape inside the
    window): a replica seen for half the window counts half.
    """

    start: float  # epoch seconds, the window asked for
    end: float
    replicas: int
    cpu_seconds: float
    requests: float
    replica_seconds: float

    @property
    def per_request(self) -> float | None:
        """CPU-seconds per request, idle CPU included; None without requests."""
        return self.cpu_seconds / self.requests if self.requests > 0 else None

    @property
    def cores_per_replica(self) -> float:
        """Mean CPU of one replica, in cores (0.35 = 35 % of one core)."""
        return self.cpu_seconds / self.replica_seconds if self.replica_seconds > 0 else 0.0

    @property
    def seconds(self) -> float:
        """The mean span a replica was covered (the window as the scrapes saw it)."""
        return self.replica_seconds / self.replicas if self.replicas else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def _is_load(labels: Iterable[tuple[str, str]]) -> bool:
    route = dict(labels).get("route", "")
    return not route.startswith(_OWN_ROUTES)


def measure_cpu(scrapes: Iterable[Scrape], start: float, end: float) -> CpuUse:
    """The replicas' CPU and the requests they answered between `start` and `end` (epoch s)."""
    by_replica: dict[str, list[Scrape]] = {}
    for scrape in scrapes:
        if scrape.ok and start <= scrape.t <= end:
            by_replica.setdefault(scrape.replica, []).append(scrape)
    replicas = 0
    cpu = requests = covered = 0.0
    for seen in by_replica.values():
        seen.sort(key=lambda s: s.t)
        cpu_values = [m.value for s in seen for m in s.samples if m.name == CPU_COUNTER]
        if len(seen) < 2 or len(cpu_values) != len(seen):
            continue  # one look is no rate; a scrape without CPU cannot be placed
        replicas += 1
        cpu += increase(cpu_values)
        covered += seen[-1].t - seen[0].t
        series: dict[tuple[tuple[str, str], ...], list[float]] = {}
        for scrape in seen:
            for sample in scrape.samples:
                if sample.name == REQUEST_COUNTER and _is_load(sample.labels):
                    series.setdefault(sample.labels, []).append(sample.value)
        # A label set first seen mid-window started from zero (its first request came then).
        for values in series.values():
            requests += increase(values if len(values) == len(seen) else [0.0, *values])
    return CpuUse(start, end, replicas, cpu, requests, covered)
