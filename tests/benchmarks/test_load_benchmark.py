"""The load benchmark's own arithmetic and fixtures (the benchmark itself is run by hand)."""

from __future__ import annotations

import pytest

from benchmarks.load import Row, expected_p99_ms, render
from benchmarks.report_build import synthetic_load
from benchmarks.targets import Targets
from harness.load.aggregate import aggregate


def test_expected_p99_of_a_stall_pattern():
    # 1 s in every 5 is stalled: a fifth of arrivals wait a uniform 0..1 s; 1 % of all of them
    # wait more than 0.95 s
    assert expected_p99_ms(5, 1) == pytest.approx(950)
    assert expected_p99_ms(2, 0.5) == pytest.approx(480)


def test_synthetic_runs_record_exactly_the_requests_asked_for():
    load = synthetic_load(123_457, duration=20, interval=2)
    assert len(load.intervals) == 10
    assert aggregate(load.intervals).requests == 123_457
    assert aggregate(load.intervals).latency.count == 123_457


def test_stall_windows_follow_the_pattern(monkeypatch):
    targets = Targets(stall_every=5, stall_for=1)
    clock = {"now": targets.started}
    monkeypatch.setattr("benchmarks.targets.time.monotonic", lambda: clock["now"])
    for elapsed, left in ((0, 0), (4.9, 0), (5.0, 1.0), (5.25, 0.75), (6.0, 0), (10.5, 0.5)):
        clock["now"] = targets.started + elapsed
        assert targets.stall_left() == pytest.approx(left)


def test_the_table_says_whether_each_goal_was_met():
    table = render([Row(1, "m", "1", "2", "3", "0.5", "≥ 1", False),
                    Row(6, "s", "4", "—", "—", "1.8x", "≥ 1.8x", None)])
    lines = table.splitlines()
    assert lines[0].startswith("| # | measure | harness | bare Locust | wrk |")
    assert lines[2].endswith("| NO |") and lines[3].endswith("| — |")
