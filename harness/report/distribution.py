"""Latency views the report draws from the run's HdrHistograms: the percentile distribution
(overall and per endpoint group) and each request name's p95 over time.

The distribution is sampled as HdrHistogram's own percentile iterator does (its `outputPercent-
ileDistribution`, and the plotter that draws it): ticks that halve the distance to 100 % five at a
time, so the tail gets as many points as the body; the plot puts them at x = 1 / (1 − percentile).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from harness.load.latency import decode, merge
from harness.load.records import Interval

__all__ = ["TICKS_PER_HALF_DISTANCE", "EndpointPoint", "endpoint_p95", "percentile_curve",
           "percentile_curves"]

TICKS_PER_HALF_DISTANCE = 5  # HdrHistogram's default for outputPercentileDistribution
MAX_POINTS = 240  # per-endpoint series are folded to about this many points per name
MIN_SLICE_SECONDS = 10.0


@dataclass(frozen=True)
class EndpointPoint:
    """One request name's p95 over a slice of the run (t: the slice's end, seconds)."""

    t: float
    p95_ms: float
    requests: int


def percentile_curve(histogram: HdrHistogram) -> list[tuple[float, float]]:
    """(percentile, latency ms) from 0 % up to the last value recorded (the maximum)."""
    total = histogram.get_total_count()
    if total == 0:
        return []
    percentiles = []
    k = 0
    while True:
        percentile = 100.0 * (1.0 - 0.5 ** (k / TICKS_PER_HALF_DISTANCE))
        if percentile * total / 100.0 + 0.5 >= total:  # resolved to single values: stop
            break
        percentiles.append(round(percentile, 6))
        k += 1
    values = histogram.get_percentile_to_value_dict(percentiles)  # one pass over the counts
    points = [(p, round(values[p] / 1000.0, 3)) for p in percentiles]
    points.append((100.0, round(histogram.get_max_value() / 1000.0, 3)))
    return points


def percentile_curves(
    intervals: Sequence[Interval], groups: Mapping[str, Sequence[str]]
) -> dict[str, list[tuple[float, float]]]:
    """'all requests' and one curve per endpoint group, from the judged latency (from the
    intended send time where requests were paced, as the checks use)."""

    def judged(include: Callable[[str], bool]) -> HdrHistogram:
        return merge(e.corrected or e.histogram for i in intervals for e in i.names
                     if include(e.name))

    curves = {"all requests": percentile_curve(judged(lambda _name: True))}
    for name, requests in sorted(groups.items()):
        wanted = frozenset(requests)
        curve = percentile_curve(judged(wanted.__contains__))
        if curve:
            curves[name] = curve
    return curves


def endpoint_p95(intervals: Sequence[Interval]) -> dict[str, list[EndpointPoint]]:
    """Each request name's p95 per slice; slices join consecutive intervals so a long run keeps
    about MAX_POINTS points per name (a p95 over a merged histogram, never an average)."""
    if not intervals:
        return {}
    span = intervals[-1].end - intervals[0].start
    # at least MIN_SLICE_SECONDS: a name's p95 over 2 s at modest load is a handful of requests
    step = max(span / MAX_POINTS, MIN_SLICE_SECONDS, intervals[0].end - intervals[0].start)
    slices: list[list[Interval]] = []
    for interval in intervals:
        if slices and interval.end - slices[-1][0].start <= step + 1e-9:
            slices[-1].append(interval)
        else:
            slices.append([interval])
    series: dict[str, list[EndpointPoint]] = {}
    for chunk in slices:
        by_name: dict[str, list[str]] = {}
        requests: dict[str, int] = {}
        for interval in chunk:
            for entry in interval.names:
                by_name.setdefault(entry.name, []).append(entry.corrected or entry.histogram)
                requests[entry.name] = requests.get(entry.name, 0) + entry.requests
        for name, encoded in sorted(by_name.items()):
            histogram = decode(encoded[0]) if len(encoded) == 1 else merge(encoded)
            if histogram.get_total_count() == 0:
                continue
            p95 = histogram.get_value_at_percentile(95.0) / 1000.0
            series.setdefault(name, []).append(
                EndpointPoint(round(chunk[-1].end, 3), round(p95, 3), requests[name]))
    return series
