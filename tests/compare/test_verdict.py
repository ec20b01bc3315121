"""The regression rule: ordinary noise passes, a real slowdown or more errors fail, by name."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import replace

import pytest

from harness.compare.metrics import Direction, Measurement, MetricSpec, measure
from harness.compare.runs import RunData
from harness.compare.stats import holm_adjust
from harness.compare.verdict import (
    Comparison,
    MetricComparison,
    Outcome,
    Rule,
    Thresholds,
    compare_runs,
    judge,
    raw_p_values,
)
from harness.errors import UsageError

P95 = MetricSpec("latency.read.p95", "read p95", "ms", "p95")
ERRORS = MetricSpec("error-rate", "error rate", "%", "error-rate")


def _windows(center: float, spread: float = 1.0, n: int = 20) -> tuple[float, ...]:
    return tuple(center + spread * ((i % 5) - 2) / 2.0 for i in range(n))


# ------------------------------------------------------------------ the rule on its own


def test_a_big_significant_change_is_a_regression() -> None:
    m = judge(P95, [Measurement(100.0, _windows(100.0))], Measurement(110.0, _windows(110.0)),
              Thresholds())
    assert m.outcome is Outcome.REGRESSION
    assert m.change == pytest.approx(0.10)
    assert "worse by 10 ms (10.0%)" in m.reason and "p =" in m.reason


def test_a_small_change_passes_however_significant() -> None:
    m = judge(P95, [Measurement(100.0, _windows(100.0, 0.1))],
              Measurement(103.0, _windows(103.0, 0.1)), Thresholds())
    assert m.outcome is Outcome.UNCHANGED
    assert m.p_value is not None and m.p_value < 0.001
    assert "within 7.5% and 1 ms" in m.reason


def test_a_big_change_within_the_noise_passes() -> None:
    # windows overlap completely: the values differ by chance
    base, cand = (90.0, 110.0) * 10, (88.0, 132.0) * 10
    m = judge(P95, [Measurement(100.0, base)], Measurement(110.0, cand), Thresholds())
    assert m.outcome is Outcome.UNCHANGED
    assert "not significant" in m.reason


def test_the_absolute_floor_keeps_tiny_latencies_out() -> None:
    m = judge(P95, [Measurement(2.0, _windows(2.0, 0.01))], Measurement(2.5, _windows(2.5, 0.01)),
              Thresholds())  # +25 % but only 0.5 ms
    assert m.outcome is Outcome.UNCHANGED


def test_improvements_are_reported_not_failed() -> None:
    m = judge(P95, [Measurement(110.0, _windows(110.0))], Measurement(100.0, _windows(100.0)),
              Thresholds())
    assert m.outcome is Outcome.IMPROVEMENT


def test_too_few_windows_give_no_verdict() -> None:
    m = judge(P95, [Measurement(100.0, (100.0, 101.0))], Measurement(200.0, (200.0, 201.0)),
              Thresholds())
    assert m.outcome is Outcome.NO_DATA
    assert "too few windows" in m.reason


def test_error_rate_is_judged_on_counts_in_percentage_points() -> None:
    base = Measurement(0.0, (), requests=20_000, failures=0)
    worse = judge(ERRORS, [base], Measurement(1.0, (), requests=20_000, failures=200), Thresholds())
    assert worse.outcome is Outcome.REGRESSION
    assert "worse by 1 pp" in worse.reason
    slight = judge(ERRORS, [base], Measurement(0.2, (), requests=20_000, failures=40), Thresholds())
    assert slight.outcome is Outcome.UNCHANGED


def test_history_spread_widens_the_minimum_effect() -> None:
    history = [Measurement(v, _windows(v)) for v in (90.0, 100.0, 112.0)]
    m = judge(P95, history, Measurement(115.0, _windows(115.0)), Thresholds())
    # per-run values 90, 100, 112: CV ~ 0.11, so 2 x CV ~ 22 % > 15 %
    assert m.tolerance_relative > 0.2
    assert m.outcome is Outcome.UNCHANGED
    assert m.baseline == 100.0  # the median run
    assert m.baseline_runs == (90.0, 100.0, 112.0)


def test_min_effect_override() -> None:
    thresholds = Thresholds().with_min_effect("p95", 0.02)
    assert thresholds.rules["p95"] == Rule(0.02, 1.0)
    with pytest.raises(UsageError, match="unknown metric kind"):
        Thresholds().with_min_effect("p42", 0.1)


# ------------------------------------------------------------------ whole synthetic runs


def test_identical_distributions_pass(baseline_run: RunData, same_run: RunData) -> None:
    cmp = compare_runs(same_run, [baseline_run])
    assert not cmp.regressed, [m.reason for m in cmp.regressions]
    assert cmp.verdict == "pass"
    assert {m.outcome for m in cmp.metrics} <= {Outcome.UNCHANGED}


@pytest.mark.parametrize("seeds", [(11, 12), (13, 14), (15, 16)])
def test_more_identical_pairs_pass(make_run: Callable[..., RunData], seeds: tuple[int, int]
                                   ) -> None:
    a, b = (make_run(f"null-{s}", seed=s) for s in seeds)
    assert not compare_runs(b, [a]).regressed


def test_ten_percent_slower_fails_naming_the_latency_metrics(baseline_run: RunData,
                                                             slow_run: RunData) -> None:
    cmp = compare_runs(slow_run, [baseline_run])
    assert cmp.regressed and cmp.verdict == "regression"
    named = {m.metric.id for m in cmp.regressions}
    assert "latency.all.p95" in named
    assert {"latency.read.p95", "latency.write.p95"} <= named
    assert all(name.startswith("latency.") for name in named)
    by_id = {m.metric.id: m for m in cmp.metrics}
    assert by_id["latency.all.p95"].change == pytest.approx(0.10, abs=0.04)


def test_one_percent_more_errors_fails_naming_the_error_rate(baseline_run: RunData,
                                                             failing_run: RunData) -> None:
    cmp = compare_runs(failing_run, [baseline_run])
    assert [m.metric.id for m in cmp.regressions] == ["error-rate"]
    (errors,) = cmp.regressions
    assert errors.candidate == pytest.approx(1.0, abs=0.15)


def test_the_baseline_against_the_slow_run_is_an_improvement(baseline_run: RunData,
                                                             slow_run: RunData) -> None:
    cmp = compare_runs(baseline_run, [slow_run])
    assert not cmp.regressed
    assert any(m.outcome is Outcome.IMPROVEMENT for m in cmp.metrics)


def test_history_baseline_pools_runs(baseline_run: RunData, same_run: RunData,
                                     make_run: Callable[..., RunData], slow_run: RunData) -> None:
    third = make_run("null-13", seed=13)
    cmp = compare_runs(slow_run, [baseline_run, same_run, third], baseline_kind="history")
    assert cmp.baseline_runs == (baseline_run.run_id, same_run.run_id, third.run_id)
    assert "latency.all.p95" in {m.metric.id for m in cmp.regressions}
    p95 = next(m for m in cmp.metrics if m.metric.id == "latency.all.p95")
    assert len(p95.baseline_runs) == 3
    assert len(p95.baseline_windows) == 3 * len(p95.candidate_windows)


def test_other_scenarios_are_noted(baseline_run: RunData, make_run: Callable[..., RunData]
                                   ) -> None:
    other = make_run("other-scenario", seed=21, scenario="peak")
    cmp = compare_runs(other, [baseline_run])
    assert any("scenario 'nightly'" in note for note in cmp.notes)


def test_no_baseline_is_a_usage_error(baseline_run: RunData) -> None:
    with pytest.raises(UsageError):
        compare_runs(baseline_run, [])


def test_recent_runs_widen_the_minimum_effect_of_a_single_baseline() -> None:
    base = [Measurement(100.0, _windows(100.0))]
    cand = Measurement(112.0, _windows(112.0))
    alone = judge(P95, base, cand, Thresholds())
    assert alone.outcome is Outcome.REGRESSION
    # nights of the same build measured 100, 88 and 114: CV ~ 0.13, so 2 x CV ~ 26 %
    noisy = judge(P95, base, cand, Thresholds(), noise=[Measurement(88.0, ()),
                                                        Measurement(114.0, ())])
    assert noisy.tolerance_relative == pytest.approx(2 * 13.0 / (302 / 3), rel=0.01)
    assert noisy.outcome is Outcome.UNCHANGED
    assert noisy.baseline == 100.0  # the baseline itself is still the promoted run


# ------------------------------------------------------------------ what compare promises
# (mutation testing found these unpinned)


def test_an_unknown_min_effect_kind_names_the_flag_and_every_allowed_kind() -> None:
    with pytest.raises(UsageError) as error:
        Thresholds().with_min_effect("p42", 0.1)
    assert str(error.value) == (
        "--min-effect: unknown metric kind 'p42' (allowed: p50, p95, p99, throughput, "
        "error-rate, cpu-per-request, pool-wait)")


def test_a_single_baseline_is_a_run_and_no_baseline_says_so(baseline_run: RunData,
                                                            same_run: RunData) -> None:
    assert compare_runs(same_run, [baseline_run]).baseline_kind == "run"
    with pytest.raises(UsageError, match="no baseline run"):
        compare_runs(same_run, [])


def test_noise_runs_already_compared_count_once(baseline_run: RunData, same_run: RunData,
                                                slow_run: RunData) -> None:
    cmp = compare_runs(same_run, [baseline_run], noise=[baseline_run, same_run, slow_run])
    assert cmp.notes[-1] == ("run-to-run spread also from 1 other stored run(s) of the "
                             "scenario")


def test_no_baseline_message(same_run: RunData) -> None:
    with pytest.raises(UsageError) as error:
        compare_runs(same_run, [])
    assert str(error.value) == "compare: no baseline run to compare with"


def test_one_window_length_from_the_shortest_steady_state_of_either_side(
        baseline_run: RunData, make_run: Callable[..., RunData]) -> None:
    short = make_run("short-steady", seed=31, steady=50.0)  # 50 s / 12 windows = 4.1667 s
    assert compare_runs(short, [baseline_run]).window_seconds == 4.167  # to the millisecond
    assert compare_runs(baseline_run, [short]).window_seconds == 4.167
    assert compare_runs(baseline_run, [baseline_run]).window_seconds == 10.0  # 240 s: at most 10


def test_another_stack_is_noted_and_the_same_stack_is_not(baseline_run: RunData,
                                                          same_run: RunData) -> None:
    assert compare_runs(same_run, [baseline_run]).notes == ()
    local = replace(same_run, result=replace(same_run.result, stack="local"))
    assert compare_runs(local, [baseline_run]).notes == (
        f"baseline {baseline_run.run_id} ran on the embedded stack, this run on local",)


def test_p_values_are_holm_adjusted_over_every_metric_tested(baseline_run: RunData,
                                                             slow_run: RunData) -> None:
    cmp = compare_runs(slow_run, [baseline_run])
    base, cand = (measure(r.samples, cmp.window_seconds, sorted(slow_run.samples.groups))
                  for r in (baseline_run, slow_run))
    raw = {}
    for m in cmp.metrics:
        found = raw_p_values(m.metric, [base[m.metric.id]], cand[m.metric.id], cmp.thresholds)
        if found is not None:
            raw[m.metric.id] = found
    assert len(raw) > 10
    worse = holm_adjust({k: v[0] for k, v in raw.items()})
    p95 = next(m for m in cmp.metrics if m.metric.id == "latency.all.p95")
    assert p95.outcome is Outcome.REGRESSION
    assert p95.p_value == worse["latency.all.p95"]
    assert f"(Holm, {len(raw)} metrics)" in p95.reason


THROUGHPUT = MetricSpec("throughput", "throughput", "req/s", "throughput", Direction.LOWER_IS_WORSE)


def test_lower_throughput_is_worse() -> None:
    result = judge(THROUGHPUT, [Measurement(100.0, _windows(100.0))],
                   Measurement(80.0, _windows(80.0)), Thresholds(), p_values=(1e-6, 1.0))
    assert result.outcome is Outcome.REGRESSION
    assert result.reason.startswith("worse by 20 req/s (20.0%)")


def test_error_rate_baseline_pools_the_runs_counts() -> None:
    # 1 of 100 and 30 of 1,000 failed: 31 / 1,100 = 2.82 %, not the median of 1 % and 3 %
    base = [Measurement(1.0, (), 100, 1), Measurement(3.0, (), 1000, 30)]
    result = judge(ERRORS, base, Measurement(2.0, (), 1000, 20), Thresholds())
    assert result.baseline == pytest.approx(100 * 31 / 1100)


def test_error_rate_without_requests_is_no_data() -> None:
    empty = Measurement(None, (), 0, 0)
    result = judge(ERRORS, [empty], Measurement(1.0, (), 100, 1), Thresholds())
    assert (result.outcome, result.reason) == (Outcome.NO_DATA, "no data in the baseline")
    assert raw_p_values(ERRORS, [Measurement(1.0, (), 100, 1)], empty, Thresholds()) is None


def test_no_data_on_either_side_says_which() -> None:
    data = Measurement(100.0, _windows(100.0))
    none = Measurement(None, ())
    for base, cand, reason in ((none, data, "no data in the baseline"),
                               (data, none, "no data in this run")):
        result = judge(P95, [base], cand, Thresholds())
        assert (result.outcome, result.reason, result.p_value) == (Outcome.NO_DATA, reason, None)
        assert (result.tolerance_relative, result.tolerance_absolute) == (0.075, 1.0)


def test_the_comparison_names_the_candidate_and_its_scenario(baseline_run: RunData,
                                                            same_run: RunData) -> None:
    cmp = compare_runs(same_run, [baseline_run])
    assert (cmp.candidate, cmp.scenario) == (same_run.run_id, "nightly")


def test_noise_runs_widen_each_metrics_minimum_effect(baseline_run: RunData, same_run: RunData,
                                                      slow_run: RunData) -> None:
    def p95(cmp: Comparison) -> MetricComparison:
        return next(m for m in cmp.metrics if m.metric.id == "latency.all.p95")

    alone = p95(compare_runs(same_run, [baseline_run]))
    noisy = p95(compare_runs(same_run, [baseline_run], noise=[slow_run]))
    slow = p95(compare_runs(slow_run, [baseline_run])).candidate
    assert alone.tolerance_relative == 0.075  # p95's rule: one baseline has no spread
    values = [noisy.baseline, slow]  # ~10 % apart: CV ~0.067, x 2
    assert noisy.tolerance_relative == pytest.approx(
        2 * statistics.stdev(values) / statistics.fmean(values))


def test_metrics_not_testable_are_no_data_while_the_rest_are_judged(baseline_run: RunData,
                                                                    same_run: RunData) -> None:
    cmp = compare_runs(same_run, [baseline_run], thresholds=Thresholds(min_windows=1000))
    by_id = {m.metric.id: m for m in cmp.metrics}
    assert by_id["latency.all.p95"].outcome is Outcome.NO_DATA
    assert by_id["latency.all.p95"].reason.startswith("too few windows to test")
    assert by_id["error-rate"].outcome is not Outcome.NO_DATA  # counts, not windows
