"""benchmarks.peak: the lag goal judged on `peak` runs as the harness runs them."""

from __future__ import annotations

from benchmarks.load import Row
from benchmarks.pauses import Pauses
from benchmarks.peak import lag_rows, peak_round


def _results(lag_p99: float, cpu: float, realtime: bool = True) -> dict:
    return {"exit_status": 0, "generator": {"generators": [{
        "generator": "local", "loop_lag_p99_ms": lag_p99, "loop_lag_p50_ms": 0.8,
        "mean_cpu_percent": cpu, "peak_cpu_percent": cpu + 5, "realtime": realtime,
        "mean_cpu_wait_percent": 0.02}]}}


def _floor() -> list[Pauses]:
    return [Pauses(cpu=0, realtime=True, spun_seconds=8.0, over_1ms=9, over_2ms=4,
                   longest_ms=6.5)]


def test_a_round_is_read_from_the_reports_generator_summary():
    assert peak_round(_results(3.27, 10.6)) == {
        "exit_status": 0, "lag_p99_ms": 3.27, "lag_p50_ms": 0.8, "cpu_percent": 10.6,
        "peak_cpu_percent": 15.6, "realtime": True, "cpu_wait_percent": 0.02}


def test_the_goal_is_judged_on_the_median_of_the_kept_rounds_beside_the_floor():
    runs = [peak_round(_results(lag, cpu)) for lag, cpu in
            ((40.0, 30.0), (3.27, 10.6), (1.9, 13.3), (1.5, 12.9))]  # a warm-up, then three
    lag, floor = lag_rows(runs, 1, _floor(), "load 0.5→1.0, steal 0.0 %", Row)
    assert (lag.number, lag.harness, lag.met) == (8, "1.90", True)
    assert "realtime; generator CPU 12.9 %" in lag.measure
    assert lag.ratio == "median of rounds (3.27, 1.9, 1.5)"
    assert floor.number == 8 and "longest 6.50 ms" in floor.harness

    missed = lag_rows(runs[:1] + [peak_round(_results(6.38, 13.3, realtime=False))] * 3, 1,
                      _floor(), "", Row)[0]
    assert (missed.harness, missed.met) == ("6.38", False)
    assert "not realtime in every round" in missed.measure


def test_fewer_than_three_rounds_are_not_judged():
    runs = [peak_round(_results(1.0, 10.0))]
    [lag, _] = lag_rows(runs, 0, _floor(), "", Row)
    assert lag.met is None and "not judged" in lag.ratio
