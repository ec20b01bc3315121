"""The load benchmark's own arithmetic and fixtures (the benchmark itself is run by hand)."""

from __future__ import annotations

import pytest

from benchmarks.fidelity import (
    _target_rows,
    closed_stages,
    guard_fires,
    lag_at_cpu,
    onset,
    worst_lag,
)
from benchmarks.growth import slope
from benchmarks.load import Row, expected_p99_ms, render
from benchmarks.machine import Machine, MachineWindow, median_of, rotated
from benchmarks.report_build import synthetic_load
from benchmarks.targets import Targets
from benchmarks.tools import k6_script, k6_summary
from harness.load.aggregate import aggregate
from harness.load.records import GeneratorSample, Interval, LoadResult


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


def test_the_table_says_whether_each_goal_was_met_and_what_the_machine_was_doing():
    machine = "load 1.0→2.0, steal 0.0 %"
    table = render([Row(1, "m", "1", "2", "3", "4", "0.5", "≥ 1", False, machine),
                    Row(6, "s", "4", "—", "—", "—", "1.8x", "≥ 1.8x", None)])
    lines = table.splitlines()
    assert lines[0].startswith("| # | measure | harness | bare Locust | wrk | k6 |")
    assert lines[0].endswith("| met | machine |")
    assert lines[2].endswith("| NO | load 1.0→2.0, steal 0.0 % |")
    assert lines[3].endswith("| — | — |")


def test_the_targets_own_percentiles_split_a_tools_error_from_what_it_cost_the_target():
    def runs(p99: float, replied: float, wait: float = 1.0) -> list[dict]:  # a warm-up, then 3
        return [{"p50_ms": 5.0, "replied_p50_ms": 1.0, "p99_ms": 50.0, "replied_p99_ms": 1.0,
                 "target_wait_percent": 90.0}] + [
            {"p50_ms": 5.0 + d, "replied_p50_ms": 5.2, "p99_ms": p99 + d,
             "replied_p99_ms": replied + d, "target_wait_percent": wait + d}
            for d in (0.0, 0.1, -0.1)]

    p50, p99, wait = _target_rows(7, {"harness": runs(9.3, 8.9, 12.5),
                                      "locust": runs(12.0, 8.0), "wrk": runs(6.1, 5.8, 0.4),
                                      "k6": [{"p99_ms": 29.0}] * 4}, 1, "m", Row)
    assert (p99.harness, p99.locust, p99.wrk, p99.k6) == ("8.90", "8.00", "5.80", "—")
    assert p99.ratio == ("each tool's p99 over the target's own in the same run: harness +0.40, "
                         "wrk +0.30 ms")
    assert p50.ratio == ("each tool's p50 over the target's own in the same run: harness -0.20, "
                         "wrk -0.20 ms")
    assert p50.measure.startswith("p50 the target measured") and p99.met is None
    # why the target slowed under a tool: its own wait for a core, the warm-up's 90 % dropped
    assert (wait.harness, wait.locust, wait.wrk, wait.k6) == ("12.50", "1.00", "0.40", "—")
    assert "waiting for a core" in wait.measure and wait.met is None


def test_rounds_rotate_drop_the_warm_up_and_need_three_to_judge():
    assert rotated(["a", "b", "c"], 0) == ["a", "b", "c"]
    assert rotated(["a", "b", "c"], 1) == ["b", "c", "a"]
    assert rotated(["a", "b", "c"], 4) == ["b", "c", "a"]
    # the rounds: the warm-up (first) dropped, the median of the rest
    assert median_of([4508.0, 4269.0, 3762.0, 4000.0], warmup=1) == (4000.0, True)
    assert median_of([4508.0, 4269.0], warmup=1) == (4269.0, False)  # one round decides nothing
    assert median_of([None, 1.0, None, 3.0], warmup=1) == (2.0, False)  # a lost round: not kept
    assert median_of([], warmup=0) == (None, False)


def test_the_machine_window_reads_load_and_steal():
    window = Machine().close()
    assert window.load_start >= 0 and window.load_end >= 0
    assert window.steal_percent is None or 0 <= window.steal_percent <= 100
    assert window.text().startswith("load ")
    assert MachineWindow(1.234, 2.0, None).text() == "load 1.2→2.0, steal —"


def test_k6_scripts_and_summaries():
    closed = k6_script(duration=20, vus=20)
    assert "constant-vus" in closed and "vus: 20" in closed and "'20s'" in closed
    opened = k6_script(duration=8, rate=2000)
    assert "constant-arrival-rate" in opened and "rate: 2000" in opened
    summary = {"metrics": {"http_req_duration": {"values": {
        "p(50)": 50.9, "p(99)": 52.4, "max": 60.0, "count": 1509}}}}
    assert k6_summary(summary) == (50.9, 52.4, 1509)
    assert k6_summary({"metrics": {}}) == (None, None, 0)


def test_lag_is_judged_only_where_the_generator_stayed_under_half_a_core():
    def sample(cpu: float, lag: float) -> GeneratorSample:
        return GeneratorSample("worker-0", cpu, lag, lag)

    load = LoadResult(0.0, 4.0, (
        Interval(0, 2, 10, (), (sample(30.0, 1.5), sample(45.0, 1.9))),
        Interval(2, 4, 10, (), (sample(80.0, 9.0),)),
    ), (), ())
    assert lag_at_cpu(load) == (1.9, 45.0)
    assert lag_at_cpu(load, limit=10.0) == (None, 0.0)
    assert worst_lag(load) == sample(45.0, 1.9)  # its GC pause and wait say what made it
    assert worst_lag(load, limit=10.0) is None


def test_the_closed_model_runs_one_steady_stage_of_all_users():
    [stage] = closed_stages(20, 20)
    assert (stage.duration, stage.users, stage.spawn_rate, stage.steady) == (20, 20, 20.0, True)


def test_the_sweep_finds_where_the_generator_starts_adding_latency():
    def point(rate: float, cpu: float, lag50: float, lag99: float, added: float) -> dict:
        # the checks' lag (the median interval's p99) taken as the worst interval's here
        return {"rate": rate, "cpu": cpu, "lag_p50_ms": lag50, "lag_p99_ms": lag99,
                "check_lag_ms": lag99, "added_p99_ms": added}

    quiet = point(250, 10, 0.2, 0.8, 0.3)
    lagging = point(1000, 45, 0.9, 3.0, 0.6)  # lag p99 over 2 ms at 45 % CPU
    # not saturated, but its lag (3 ms) covers what it added (0.6 ms): a fail by that much
    # would be untrusted
    assert onset([quiet, lagging]) == lagging and guard_fires(lagging)
    beyond = point(500, 20, 0.3, 1.0, 1.5)  # p99 +1.5 ms, more than its 1 ms lag accounts for
    assert onset([quiet, beyond])["rate"] == 500 and not guard_fires(beyond)
    # as in the check: a fail by exactly the lag is a fail
    assert guard_fires(point(500, 20, 0.3, 1.6, 1.5)) and not guard_fires(point(500, 20, 0.3,
                                                                                  1.5, 1.5))
    assert onset([quiet]) is None
    assert guard_fires(point(3000, 92, 1.0, 4.0, 30.0)) and guard_fires(point(9, 9, 5.0, 9, 90))


def test_growth_is_a_least_squares_slope():
    assert slope([1, 2, 3, 4], [10, 12, 14, 16]) == pytest.approx(2.0)
    assert slope([1, 1], [3, 4]) is None
