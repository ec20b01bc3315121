"""Windows over the steady state and the metrics measured in them."""

from __future__ import annotations

import pytest

from harness.compare.metrics import (
    Direction,
    measure,
    metric_specs,
    steady_windows,
    window_length,
)
from harness.compare.runs import RunData
from harness.compare.samples import IntervalSample, NameCounts, RunSamples, ServerPoint
from harness.load.latency import encode, new_histogram
from harness.load.records import StagePlan
from tests.compare.synthetic import CPU_MS_PER_REQUEST


def _samples(stage_seconds: tuple[float, ...], steady: tuple[bool, ...]) -> RunSamples:
    stages, intervals = [], []
    t = 0.0
    histogram = new_histogram()
    for value in range(1000, 21000, 1000):  # 20 requests, 1..20 ms
        histogram.record_value(value)
    encoded = encode(histogram)
    for index, (seconds, is_steady) in enumerate(zip(stage_seconds, steady, strict=True)):
        stages.append(StagePlan(index, f"s{index}", t, t + seconds, 10, is_steady))
        end = t + seconds
        while t < end - 1e-9:
            intervals.append(IntervalSample(t, t + 2.0, 10, {
                "GET /a": NameCounts(20, 1, encoded)}))
            t += 2.0
    server = tuple(ServerPoint(i.end, "r1", 0.02 * k, None, None)
                   for k, i in enumerate(intervals, start=1))
    return RunSamples({"read": ("GET /a",)}, tuple(stages), tuple(intervals), server)


def test_windows_cover_only_steady_stages_and_never_span_two() -> None:
    samples = _samples((10.0, 20.0, 20.0), (False, True, True))
    windows = steady_windows(samples, 10.0)
    assert [(w.start, w.end) for w in windows] == [(10.0, 20.0), (20.0, 30.0), (30.0, 40.0),
                                                   (40.0, 50.0)]


def test_short_remainders_are_dropped() -> None:
    samples = _samples((10.0, 14.0), (False, True))  # 10 s + 4 s: the 4 s window (< 5 s) goes
    assert [(w.start, w.end) for w in steady_windows(samples, 10.0)] == [(10.0, 20.0)]


def test_window_length_aims_at_twelve_windows_of_the_shorter_run() -> None:
    short = _samples((4.0, 24.0), (False, True))
    long = _samples((10.0, 600.0), (False, True))
    assert window_length(long) == 10.0  # capped
    assert window_length(short, long) == 2.0  # 24 s / 12, one interval
    assert window_length(_samples((2.0, 60.0), (False, True))) == 5.0


def test_measures_match_hand_computation() -> None:
    samples = _samples((10.0, 20.0), (False, True))
    measured = measure(samples, 10.0, ["read"])
    # 20 requests per 2 s interval = 10 req/s; 1 failure in 20 = 5 %
    assert measured["throughput"].value == 10.0
    assert measured["throughput"].windows == (10.0, 10.0)
    assert measured["error-rate"].value == 5.0
    assert measured["error-rate"].requests == 200 and measured["error-rate"].failures == 10
    # the 20 recorded values are 1..20 ms: p50 = 10 ms, p95 = 19 ms (HdrHistogram ranks, to
    # its 3 significant digits)
    assert measured["latency.read.p50"].value == pytest.approx(10.0, abs=0.01)
    assert measured["latency.read.p95"].value == pytest.approx(19.0, abs=0.02)
    assert measured["latency.all.p95"].value == measured["latency.read.p95"].value
    # the CPU counter grows 0.02 s per interval of 20 requests: 1 ms of CPU per request
    assert measured["cpu-per-request"].value == pytest.approx(1.0)
    # no pool-wait counters: no data
    assert measured["pool-wait"].value is None and measured["pool-wait"].windows == ()


def test_percentiles_need_enough_requests_per_window() -> None:
    samples = _samples((10.0, 20.0), (False, True))
    measured = measure(samples, 2.0, ["read"])  # 20 requests per window
    assert len(measured["latency.read.p95"].windows) == 10
    assert measured["latency.read.p99"].windows == ()  # p99 needs 50 per window
    assert measured["latency.read.p99"].value is not None  # the whole-run value still exists


def test_metric_specs_cover_groups_and_directions() -> None:
    specs = {s.id: s for s in metric_specs(["write", "read"])}
    assert "latency.all.p99" in specs and "latency.write.p50" in specs
    assert specs["throughput"].worse is Direction.LOWER_IS_WORSE
    assert specs["error-rate"].worse is Direction.HIGHER_IS_WORSE
    assert len(specs) == 3 * 3 + 4


def test_synthetic_run_measures_its_parameters(baseline_run: RunData) -> None:
    measured = measure(baseline_run.samples, 10.0, sorted(baseline_run.samples.groups))
    assert abs(measured["cpu-per-request"].value - CPU_MS_PER_REQUEST) < 0.2
    assert measured["error-rate"].value == 0.0
    assert 95 < measured["throughput"].value < 105
