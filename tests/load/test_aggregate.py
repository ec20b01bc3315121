import pytest

from harness.load.aggregate import aggregate, in_window, per_name, timeline
from tests.load.helpers import interval


def test_aggregate_merges_names_and_intervals_exactly():
    intervals = [
        interval(0, 2, {"GET /a": [10] * 90, "GET /b": [100] * 10}),
        interval(2, 4, {"GET /a": [10] * 100}, failures={"GET /a": 2}),
    ]
    stats = aggregate(intervals)
    assert stats.requests == 200
    assert stats.failures == 2
    assert stats.rps == pytest.approx(50.0)
    assert stats.error_percent == pytest.approx(1.0)
    assert stats.latency.p95_ms == pytest.approx(10.0, rel=0.001)
    assert stats.latency.max_ms == pytest.approx(100.0, rel=0.001)
    only_b = aggregate(intervals, lambda name: name == "GET /b")
    assert only_b.requests == 10 and only_b.latency.p50_ms == pytest.approx(100, rel=0.001)


def test_per_name_and_timeline():
    intervals = [
        interval(0, 1, {"GET /a": [5, 5], "POST /b": [20]}),
        interval(1, 2, {"GET /a": [7]}),
    ]
    names = per_name(intervals)
    assert set(names) == {"GET /a", "POST /b"}
    assert names["GET /a"].requests == 3
    points = timeline(intervals)
    assert [p.t for p in points] == [1, 2]
    assert points[0].rps == pytest.approx(3.0)


def test_in_window_picks_intervals_by_their_middle():
    intervals = [interval(i, i + 2, {"GET /a": [1]}) for i in range(0, 10, 2)]
    assert [i.start for i in in_window(intervals, 2, 6)] == [2, 4]


def test_empty_aggregate_is_zero():
    stats = aggregate([])
    assert stats.requests == 0 and stats.rps == 0 and stats.latency.count == 0


def test_corrected_latency_is_aggregated_beside_the_raw_one():
    from dataclasses import replace

    from harness.load.latency import encode, new_histogram

    def corrected(values):
        histogram = new_histogram()
        for value in values:
            histogram.record_value(int(value * 1000))
        return encode(histogram)

    paced = interval(2, 4, {"GET /a": [10] * 100})
    fixed = corrected([10] * 90 + [900] * 10)
    paced = replace(paced, names=(replace(paced.names[0], corrected=fixed),))
    closed = interval(0, 2, {"GET /a": [10] * 100})
    stats = aggregate([closed, paced])
    assert stats.latency.p99_ms == pytest.approx(10, rel=0.001)
    # the closed interval's requests count as corrected = raw
    assert stats.corrected is not None and stats.corrected.count == 200
    assert stats.corrected.p99_ms == pytest.approx(900, rel=0.001)
    assert stats.judged is stats.corrected
    assert aggregate([closed]).corrected is None
    points = timeline([closed, paced])
    assert points[0].corrected_p99_ms is None
    assert points[1].corrected_p99_ms == pytest.approx(900, rel=0.001)
