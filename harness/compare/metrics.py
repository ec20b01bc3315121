"""The metrics a comparison judges, measured over a run's steady-state windows.

Each metric has a whole-run value (over every steady-state interval, exact: histograms are
merged, counters summed) and one value per window (a few seconds of consecutive intervals inside
one steady stage), the samples the significance test compares.

Metrics:
- `latency.<group>.p50|p95|p99` (ms) for every endpoint group of the SLO spec and `all`;
- `throughput` (requests/s; lower is worse);
- `error-rate` (% of requests failed; judged on counts, not windows);
- `cpu-per-request` (ms of replica CPU per request, from process_cpu_seconds_total);
- `pool-wait` (mean database-pool acquire wait, ms, from the app's acquire-wait histogram).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hdrh.histogram import HdrHistogram

from harness.compare.samples import IntervalSample, RunSamples, ServerPoint
from harness.load.latency import merge, new_histogram

__all__ = [
    "ALL_GROUP",
    "PERCENTILES",
    "Direction",
    "Measurement",
    "MetricSpec",
    "Window",
    "measure",
    "metric_specs",
    "steady_windows",
    "window_length",
]

ALL_GROUP = "all"
PERCENTILES = (50, 95, 99)
# A percentile of a window is a sample only if the window holds this many requests of the group.
MIN_REQUESTS = {50: 10, 95: 20, 99: 50}
TARGET_WINDOWS = 12  # aim for at least this many windows over the shorter run
MAX_WINDOW_SECONDS = 10.0


class Direction(StrEnum):
    HIGHER_IS_WORSE = "higher"
    LOWER_IS_WORSE = "lower"


@dataclass(frozen=True)
class MetricSpec:
    id: str
    title: str
    unit: str
    kind: str  # the rule's key: p50, p95, p99, throughput, error-rate, cpu-per-request, pool-wait
    worse: Direction = Direction.HIGHER_IS_WORSE


@dataclass(frozen=True)
class Measurement:
    value: float | None  # over every steady interval; None: no data
    windows: tuple[float, ...]  # one per window with enough data
    requests: int = 0
    failures: int = 0


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    intervals: tuple[IntervalSample, ...]

    @property
    def seconds(self) -> float:
        return sum(i.end - i.start for i in self.intervals)


def metric_specs(groups: Sequence[str]) -> tuple[MetricSpec, ...]:
    specs = []
    for group in (ALL_GROUP, *sorted(g for g in groups if g != ALL_GROUP)):
        for p in PERCENTILES:
            specs.append(MetricSpec(f"latency.{group}.p{p}", f"{group} p{p}", "ms", f"p{p}"))
    specs += [
        MetricSpec("throughput", "throughput", "req/s", "throughput", Direction.LOWER_IS_WORSE),
        MetricSpec("error-rate", "error rate", "%", "error-rate"),
        MetricSpec("cpu-per-request", "CPU per request", "ms", "cpu-per-request"),
        MetricSpec("pool-wait", "pool acquire wait (mean)", "ms", "pool-wait"),
    ]
    return tuple(specs)


def _steady_intervals(samples: RunSamples) -> list[tuple[int, IntervalSample]]:
    """(stage index, interval) for intervals whose middle lies in a steady stage."""
    chosen = []
    steady = [s for s in samples.stages if s.steady] or list(samples.stages[1:]) or list(
        samples.stages)
    for interval in samples.intervals:
        middle = (interval.start + interval.end) / 2.0
        for stage in steady:
            if stage.start <= middle <= stage.end:
                chosen.append((stage.index, interval))
                break
    return chosen


def steady_seconds(samples: RunSamples) -> float:
    return sum(i.end - i.start for _, i in _steady_intervals(samples))


def window_length(*runs: RunSamples) -> float:
    """One window length for every run compared, so their window samples are alike: about
    TARGET_WINDOWS windows over the shortest steady state, at most MAX_WINDOW_SECONDS, at least
    one interval."""
    steady = min((steady_seconds(r) for r in runs), default=0.0)
    interval = max(
        (i.end - i.start for r in runs for i in r.intervals[:3]), default=2.0
    )
    return max(interval, min(MAX_WINDOW_SECONDS, steady / TARGET_WINDOWS))


def steady_windows(samples: RunSamples, seconds: float) -> list[Window]:
    """Consecutive steady intervals of one stage, cut every `seconds`; a short remainder at the
    end of a stage (under half a window) is dropped."""
    windows: list[Window] = []
    current: list[IntervalSample] = []
    current_stage: int | None = None

    def close() -> None:
        if current and sum(i.end - i.start for i in current) >= seconds / 2.0:
            windows.append(Window(current[0].start, current[-1].end, tuple(current)))

    for stage, interval in _steady_intervals(samples):
        if current and (stage != current_stage or interval.end - current[0].start > seconds + 1e-6):
            close()
            current = []
        current_stage = stage
        current.append(interval)
    close()
    return windows


# --------------------------------------------------------------------------- per metric


def _names(samples: RunSamples, group: str) -> Callable[[str], bool]:
    if group == ALL_GROUP:
        return lambda _name: True
    wanted = frozenset(samples.groups.get(group, ()))
    return lambda name: name in wanted


@dataclass(frozen=True)
class _NamedHistograms:
    """One window's requests, failures and latency histogram per request name, each interval's
    encoded histogram decoded once for every group and the whole-run value."""

    requests: Mapping[str, int]
    failures: Mapping[str, int]
    histograms: Mapping[str, HdrHistogram]

    @classmethod
    def of(cls, window: Window) -> _NamedHistograms:
        requests: dict[str, int] = {}
        failures: dict[str, int] = {}
        encoded: dict[str, list[str]] = {}
        for interval in window.intervals:
            for name, counts in interval.names.items():
                requests[name] = requests.get(name, 0) + counts.requests
                failures[name] = failures.get(name, 0) + counts.failures
                encoded.setdefault(name, []).append(counts.histogram)
        return cls(requests, failures, {name: merge(h) for name, h in encoded.items()})


def _percentiles(merged: HdrHistogram) -> dict[int, float]:
    if merged.get_total_count() == 0:
        return {}
    values = merged.get_percentile_to_value_dict(list(PERCENTILES))
    return {p: values[p] / 1000.0 for p in PERCENTILES}


def _latency(windows: Sequence[_NamedHistograms], include: Callable[[str], bool]
             ) -> dict[int, Measurement]:
    per_window: dict[int, list[float]] = {p: [] for p in PERCENTILES}
    overall = new_histogram()  # the windows' merges merged: exact, as every interval's
    requests = failures = 0
    for window in windows:
        names = [name for name in window.requests if include(name)]
        count = sum(window.requests[name] for name in names)
        if not count:
            continue
        requests += count
        failures += sum(window.failures[name] for name in names)
        merged = merge(window.histograms[name] for name in names)
        overall.add(merged)
        values = _percentiles(merged)
        for p in PERCENTILES:
            if count >= MIN_REQUESTS[p] and p in values:
                per_window[p].append(values[p])
    whole = _percentiles(overall) if requests else {}
    return {
        p: Measurement(whole.get(p), tuple(per_window[p]), requests, failures)
        for p in PERCENTILES
    }


def _increments(points: Sequence[ServerPoint], field: str) -> list[tuple[float, float]]:
    """(t, increase since the replica's previous scrape) for a cumulative counter field."""
    by_replica: dict[str, list[ServerPoint]] = {}
    for point in points:
        if getattr(point, field) is not None:
            by_replica.setdefault(point.replica, []).append(point)
    increments = []
    for replica_points in by_replica.values():
        replica_points.sort(key=lambda p: p.t)
        for previous, current in zip(replica_points, replica_points[1:], strict=False):
            before, now = getattr(previous, field), getattr(current, field)
            increments.append((current.t, now - before if now >= before else now))  # a restart
    return increments


def _sum_in(increments: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(v for t, v in increments if start < t <= end)


def _server_ratio(samples: RunSamples, windows: list[Window], numerator: str,
                  denominator: Callable[[Window], float], scale: float) -> Measurement:
    """A ratio of a server counter's increase to something per window (e.g. requests)."""
    top = _increments(samples.server, numerator)
    if not top:
        return Measurement(None, ())
    values, total_top, total_bottom = [], 0.0, 0.0
    for window in windows:
        t_sum = _sum_in(top, window.start, window.end)
        bottom = denominator(window)
        total_top += t_sum
        total_bottom += bottom
        if bottom > 0:
            values.append(scale * t_sum / bottom)
    value = scale * total_top / total_bottom if total_bottom > 0 else None
    return Measurement(value, tuple(values))


def measure(samples: RunSamples, window_seconds: float,
            groups: Sequence[str]) -> Mapping[str, Measurement]:
    """Every metric of `metric_specs(groups)` for one run."""
    windows = steady_windows(samples, window_seconds)
    named = [_NamedHistograms.of(window) for window in windows]
    result: dict[str, Measurement] = {}
    for group in (ALL_GROUP, *groups):
        for p, measurement in _latency(named, _names(samples, group)).items():
            result[f"latency.{group}.p{p}"] = measurement
    rps, errors = [], []
    total_requests = total_failures = 0
    total_seconds = 0.0
    for window, counts in zip(windows, named, strict=True):
        requests, failures = sum(counts.requests.values()), sum(counts.failures.values())
        total_requests += requests
        total_failures += failures
        total_seconds += window.seconds
        if window.seconds > 0:
            rps.append(requests / window.seconds)
        if requests:
            errors.append(100.0 * failures / requests)
    result["throughput"] = Measurement(
        total_requests / total_seconds if total_seconds > 0 else None, tuple(rps), total_requests,
        total_failures,
    )
    result["error-rate"] = Measurement(
        100.0 * total_failures / total_requests if total_requests else None, tuple(errors),
        total_requests, total_failures,
    )

    def window_requests(window: Window) -> float:
        return float(sum(c.requests for i in window.intervals for c in i.names.values()))

    result["cpu-per-request"] = _server_ratio(samples, windows, "cpu_seconds", window_requests,
                                              1000.0)
    wait_counts = _increments(samples.server, "pool_wait_count")
    result["pool-wait"] = _server_ratio(
        samples, windows, "pool_wait_sum",
        lambda w: _sum_in(wait_counts, w.start, w.end), 1000.0,
    )
    return result
