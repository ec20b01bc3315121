"""Client-side numbers from recorded intervals: totals, per name, per group, over any window."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.load.latency import LatencySummary, merge, new_histogram, summarize
from harness.load.records import Interval

__all__ = ["RequestStats", "TimelinePoint", "aggregate", "in_window", "timeline"]


@dataclass(frozen=True)
class RequestStats:
    """Client-side numbers for one request name, an endpoint group, or everything."""

    requests: int
    failures: int
    rps: float
    error_percent: float
    latency: LatencySummary


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
    histograms = []
    requests = failures = 0
    for interval in intervals:
        for entry in interval.names:
            if include(entry.name):
                requests += entry.requests
                failures += entry.failures
                histograms.append(entry.histogram)
    elapsed = sum(i.end - i.start for i in intervals)
    latency = summarize(merge(histograms)) if histograms else summarize(new_histogram())
    return RequestStats(
        requests=requests,
        failures=failures,
        rps=round(requests / elapsed, 3) if elapsed > 0 else 0.0,
        error_percent=round(100.0 * failures / requests, 4) if requests else 0.0,
        latency=latency,
    )


def per_name(intervals: Sequence[Interval]) -> dict[str, RequestStats]:
    names = sorted({entry.name for interval in intervals for entry in interval.names})
    return {name: aggregate(intervals, lambda n, name=name: n == name) for name in names}


def timeline(intervals: Sequence[Interval]) -> tuple[TimelinePoint, ...]:
    points = []
    for interval in intervals:
        stats = aggregate([interval])
        points.append(
            TimelinePoint(
                t=round(interval.end, 3),
                users=interval.users,
                rps=stats.rps,
                error_percent=stats.error_percent,
                p50_ms=stats.latency.p50_ms,
                p95_ms=stats.latency.p95_ms,
                p99_ms=stats.latency.p99_ms,
            )
        )
    return tuple(points)
