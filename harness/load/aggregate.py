"""Client-side numbers from recorded intervals: totals, per name, per group, over any window."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.load.health import saturated
from harness.load.latency import LatencySummary, merge, new_histogram, summarize
from harness.load.records import Interval

__all__ = ["RequestStats", "TimelinePoint", "aggregate", "in_window", "per_name", "timeline"]


@dataclass(frozen=True)
class RequestStats:
    """Client-side numbers for one request name, an endpoint group, or everything.

    `latency` is measured from each request's actual send; `corrected`, present when some of the
    requests were sent at an arrival rate, from their intended send time (coordinated omission
    corrected, as wrk2 does). `judged` is the one the SLO checks use: corrected when present.
    """

    requests: int
    failures: int
    rps: float
    error_percent: float
    latency: LatencySummary
    corrected: LatencySummary | None = None

    @property
    def judged(self) -> LatencySummary:
        return self.corrected if self.corrected is not None else self.latency


@dataclass(frozen=True)
class TimelinePoint:
    """One interval of the run, seconds since the load started (t is the interval's end)."""

    t: float
    users: int
    rps: float
    error_percent: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    corrected_p50_ms: float | None = None
    corrected_p95_ms: float | None = None
    corrected_p99_ms: float | None = None
    intended_rps: float | None = None  # arrival-rate stages: sends due per second
    generator_cpu: float | None = None  # the busiest generator's CPU, % of one core
    saturated: bool = False  # a generator crossed its CPU or event-loop-lag limit


def in_window(intervals: Iterable[Interval], start: float, end: float) -> list[Interval]:
    """Intervals lying mostly inside [start, end] (intervals are short against windows)."""
    chosen = []
    for interval in intervals:
        middle = (interval.start + interval.end) / 2.0
        if start <= middle <= end:
            chosen.append(interval)
    return chosen


def aggregate(
    intervals: Sequence[Interval], include: Callable[[str], bool] = lambda _name: True
) -> RequestStats:
    raw: list[str] = []
    corrected: list[str] = []
    paced = False
    requests = failures = 0
    for interval in intervals:
        for entry in interval.names:
            if include(entry.name):
                requests += entry.requests
                failures += entry.failures
                raw.append(entry.histogram)
                # an unpaced request's corrected latency is its raw latency
                corrected.append(entry.corrected or entry.histogram)
                paced = paced or entry.corrected is not None
    elapsed = sum(i.end - i.start for i in intervals)
    latency = summarize(merge(raw)) if raw else summarize(new_histogram())
    return RequestStats(
        requests=requests,
        failures=failures,
        rps=round(requests / elapsed, 3) if elapsed > 0 else 0.0,
        error_percent=round(100.0 * failures / requests, 4) if requests else 0.0,
        latency=latency,
        corrected=summarize(merge(corrected)) if paced else None,
    )


def per_name(intervals: Sequence[Interval]) -> dict[str, RequestStats]:
    names = sorted({entry.name for interval in intervals for entry in interval.names})
    return {name: aggregate(intervals, _named(name)) for name in names}


def _named(name: str) -> Callable[[str], bool]:
    return lambda n: n == name


def timeline(intervals: Sequence[Interval]) -> tuple[TimelinePoint, ...]:
    points = []
    for interval in intervals:
        stats = aggregate([interval])
        elapsed = interval.end - interval.start
        fixed = stats.corrected
        points.append(
            TimelinePoint(
                t=round(interval.end, 3),
                users=interval.users,
                rps=stats.rps,
                error_percent=stats.error_percent,
                p50_ms=stats.latency.p50_ms,
                p95_ms=stats.latency.p95_ms,
                p99_ms=stats.latency.p99_ms,
                corrected_p50_ms=fixed.p50_ms if fixed else None,
                corrected_p95_ms=fixed.p95_ms if fixed else None,
                corrected_p99_ms=fixed.p99_ms if fixed else None,
                intended_rps=round(interval.intended / elapsed, 3)
                if interval.intended and elapsed > 0 else None,
                generator_cpu=max((g.cpu_percent for g in interval.generators), default=None),
                saturated=saturated(interval),
            )
        )
    return tuple(points)
