"""A step (stress) run, stage by stage: offered load, throughput, latency, errors, replicas, CPU.

Each stage is judged on its *settled* part, the last `SETTLED_FRACTION` of it, after the users
have spawned and the autoscaler has reacted. Percentiles are exact when the run folder has its
per-interval samples (intervals.jsonl.gz: histograms merged over the settled part); for older
runs they are the median of the per-interval percentiles of results.json's timeline, and the
plan says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.compare.samples import RunSamples
from harness.load.latency import merge
from harness.load.records import StagePlan
from harness.report.results import ReplicaPoint, RunResult

__all__ = ["SETTLED_FRACTION", "StageLoad", "stage_loads"]

SETTLED_FRACTION = 0.6


@dataclass(frozen=True)
class StageLoad:
    index: int
    name: str
    users: int  # the offered load of a closed-model stage
    start: float  # the settled window, seconds since the load started
    end: float
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_percent: float
    requests: int
    replicas: float  # mean replicas scraped in the window
    cpu_cores: float  # all replicas together, in cores
    exact: bool  # percentiles merged from histograms (True) or approximated from the timeline
    db_connections: int | None = None  # most server connections seen (pg_stat_activity), if any
    # The load generator in the window: intervals in which it crossed its CPU or event-loop-lag
    # limit (harness.load.health), and its busiest interval's CPU (% of one core).
    saturated_intervals: int = 0
    generator_cpu_percent: float | None = None

    @property
    def rps_per_replica(self) -> float:
        return self.rps / self.replicas if self.replicas > 0 else 0.0

    @property
    def cpu_percent_per_replica(self) -> float:
        """Mean CPU of one replica, in % of one core."""
        return 100.0 * self.cpu_cores / self.replicas if self.replicas > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        return 1000.0 * self.cpu_cores / self.rps if self.rps > 0 else None


def _window(stage: StagePlan) -> tuple[float, float]:
    return stage.end - SETTLED_FRACTION * (stage.end - stage.start), stage.end


def _inside(t_start: float, t_end: float, start: float, end: float) -> bool:
    middle = (t_start + t_end) / 2.0
    return start <= middle <= end


def _replicas(points: Sequence[ReplicaPoint], start: float, end: float) -> tuple[float, float]:
    """(mean replica count, total CPU cores) over the window.

    A replica that was there for part of the window counts for that part: its coverage is its
    number of scrapes in the window over the largest number any replica had.
    """
    by_replica: dict[str, list[float]] = {}
    for point in points:
        if start < point.t <= end:
            by_replica.setdefault(point.replica, []).append(point.cpu_percent)
    if not by_replica:
        return 0.0, 0.0
    most = max(len(v) for v in by_replica.values())
    replicas = cores = 0.0
    for values in by_replica.values():
        coverage = len(values) / most
        replicas += coverage
        cores += coverage * statistics.fmean(values) / 100.0
    return replicas, cores


def _connections(result: RunResult, start: float, end: float) -> int | None:
    """The most database server connections the run saw in the window (local stack only)."""
    section = result.extra.get("connections") if isinstance(result.extra, dict) else None
    samples = section.get("samples", []) if isinstance(section, dict) else []
    seen = [int(s["total"]) for s in samples
            if isinstance(s, dict) and "total" in s and start < float(s.get("t", -1)) <= end]
    return max(seen) if seen else None


def _generator(result: RunResult, start: float, end: float) -> tuple[int, float | None]:
    """(saturated intervals, busiest generator CPU) of the timeline points in the window."""
    points = [p for p in result.timeline if start < p.t - 1e-9 <= end + 1e-9]
    cpu = [p.generator_cpu for p in points if p.generator_cpu is not None]
    return sum(1 for p in points if p.saturated), (max(cpu) if cpu else None)


def _from_samples(samples: RunSamples, start: float, end: float
                  ) -> tuple[int, int, float, dict[int, float]]:
    requests = failures = 0
    seconds = 0.0
    histograms = []
    for interval in samples.intervals:
        if _inside(interval.start, interval.end, start, end):
            seconds += interval.end - interval.start
            for counts in interval.names.values():
                requests += counts.requests
                failures += counts.failures
                histograms.append(counts.histogram)
    merged = merge(histograms)
    values = {}
    if merged.get_total_count():
        found = merged.get_percentile_to_value_dict([50, 95, 99])
        values = {p: found[p] / 1000.0 for p in (50, 95, 99)}
    return requests, failures, seconds, values


def stage_loads(result: RunResult, samples: RunSamples | None = None) -> tuple[StageLoad, ...]:
    """One StageLoad per stage of the run, in order."""
    out = []
    for stage in result.stages:
        start, end = _window(stage)
        replicas, cores = _replicas(result.replicas, start, end)
        if samples is not None:
            requests, failures, seconds, pct = _from_samples(samples, start, end)
            rps = requests / seconds if seconds > 0 else 0.0
            errors = 100.0 * failures / requests if requests else 0.0
            p50, p95, p99 = pct.get(50), pct.get(95), pct.get(99)
            exact = True
        else:
            points = [p for p in result.timeline if start < p.t - 1e-9 <= end + 1e-9]
            rps = statistics.fmean(p.rps for p in points) if points else 0.0
            weight = sum(p.rps for p in points)
            errors = (sum(p.error_percent * p.rps for p in points) / weight) if weight else 0.0
            requests = int(round(rps * (end - start)))
            with_data = [p for p in points if p.rps > 0]
            p50 = statistics.median(p.p50_ms for p in with_data) if with_data else None
            p95 = statistics.median(p.p95_ms for p in with_data) if with_data else None
            p99 = statistics.median(p.p99_ms for p in with_data) if with_data else None
            exact = False
        saturated, generator_cpu = _generator(result, start, end)
        out.append(StageLoad(
            index=stage.index, name=stage.name, users=stage.users, start=round(start, 3),
            end=round(end, 3), rps=round(rps, 3), p50_ms=p50, p95_ms=p95, p99_ms=p99,
            error_percent=round(errors, 4), requests=requests, replicas=round(replicas, 3),
            cpu_cores=round(cores, 4), exact=exact, db_connections=_connections(result, start, end),
            saturated_intervals=saturated, generator_cpu_percent=generator_cpu,
        ))
    return tuple(out)
