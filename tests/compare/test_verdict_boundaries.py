"""The regression rule at its edges: significance is `p < alpha` (p equal to alpha is not
significant), and a change must exceed both minimum effects (equal to one is within it)."""

from __future__ import annotations

import pytest

from harness.compare.metrics import Measurement, MetricSpec
from harness.compare.verdict import Outcome, Rule, Thresholds, judge, raw_p_values

P95 = MetricSpec("latency.read.p95", "read p95", "ms", "p95")


def _windows(center: float) -> tuple[float, ...]:
    return tuple(center + ((i % 5) - 2) / 2.0 for i in range(20))


def _judge(candidate: float, p_worse: float, alpha: float = 0.01):
    return judge(P95, [Measurement(100.0, _windows(100.0))],
                 Measurement(candidate, _windows(candidate)), Thresholds(alpha=alpha),
                 p_values=(p_worse, 1.0))


def test_p_equal_to_alpha_is_not_significant():
    assert _judge(120.0, p_worse=0.01).outcome is Outcome.UNCHANGED
    assert "not significant" in _judge(120.0, p_worse=0.01).reason
    assert _judge(120.0, p_worse=0.0099).outcome is Outcome.REGRESSION


def test_a_change_equal_to_the_relative_minimum_is_within_it():
    # p95: 7.5 % and 1 ms; 107.5 ms against 100 ms is exactly 7.5 %
    assert _judge(107.5, p_worse=1e-6).outcome is Outcome.UNCHANGED
    assert _judge(107.6, p_worse=1e-6).outcome is Outcome.REGRESSION


def test_a_change_equal_to_the_absolute_minimum_is_within_it():
    base = [Measurement(10.0, tuple(10.0 + ((i % 5) - 2) / 100 for i in range(20)))]

    def outcome(candidate: float) -> Outcome:
        cand = Measurement(candidate, tuple(candidate + ((i % 5) - 2) / 100 for i in range(20)))
        return judge(P95, base, cand, Thresholds(), p_values=(1e-6, 1.0)).outcome

    assert outcome(11.0) is Outcome.UNCHANGED  # +1 ms (10 %): exactly the 1 ms floor
    assert outcome(11.01) is Outcome.REGRESSION


def test_no_change_at_all_is_unchanged_with_p_one():
    m = _judge(100.0, p_worse=0.0)
    assert m.outcome is Outcome.UNCHANGED and m.p_value == 1.0
    assert m.reason == "no change"


def test_exactly_min_windows_a_side_is_testable() -> None:
    five = Measurement(100.0, (99.0, 100.0, 100.0, 100.0, 101.0))
    four = Measurement(100.0, (99.0, 100.0, 100.0, 101.0))
    assert raw_p_values(P95, [five], five, Thresholds(min_windows=5)) is not None
    assert raw_p_values(P95, [five], four, Thresholds(min_windows=5)) is None


def test_two_runs_are_enough_for_a_spread() -> None:
    # 100 and 120 ms: sd 14.14, mean 110 -> CV 0.129; x 2 = 25.7 % and 28.3 ms
    result = judge(P95, [Measurement(100.0, _windows(100.0))], Measurement(100.0, _windows(100.0)),
                   Thresholds(), noise=[Measurement(120.0, ())])
    assert result.tolerance_relative == pytest.approx(2 * 14.142 / 110, rel=1e-3)
    assert result.tolerance_absolute == pytest.approx(2 * 14.142, rel=1e-3)


def test_a_spread_of_values_below_one_is_relative_to_their_mean() -> None:
    # 0.4 and 0.6 ms: sd 0.1414, mean 0.5 -> CV 0.283; x 2 = 56.6 %
    result = judge(P95, [Measurement(0.4, _windows(0.4))], Measurement(0.4, _windows(0.4)),
                   Thresholds(), noise=[Measurement(0.6, ())])
    assert result.tolerance_relative == pytest.approx(2 * 0.14142 / 0.5, rel=1e-3)


def test_a_spread_of_zeros_adds_nothing() -> None:
    result = judge(P95, [Measurement(0.0, _windows(0.0))], Measurement(0.0, _windows(0.0)),
                   Thresholds(), noise=[Measurement(0.0, ())])
    assert (result.tolerance_relative, result.tolerance_absolute) == (0.075, 1.0)  # p95's rule


def test_a_metric_judged_alone_names_no_family() -> None:
    regression = _judge(120.0, p_worse=0.0099)
    assert (regression.p_value, regression.reason) == (
        0.0099, "worse by 20 ms (20.0%), beyond 7.5% and 1 ms; p = 0.0099 < 0.01")


def test_a_family_of_two_is_named() -> None:
    result = judge(P95, [Measurement(100.0, _windows(100.0))], Measurement(120.0, _windows(120.0)),
                   Thresholds(), p_values=(0.001, 1.0), family=2)
    assert result.reason.endswith("; p = 0.001 (Holm, 2 metrics) < 0.01")


def test_an_improvement_says_better() -> None:
    result = judge(P95, [Measurement(100.0, _windows(100.0))], Measurement(80.0, _windows(80.0)),
                   Thresholds(), p_values=(1.0, 0.001))
    assert (result.outcome, result.p_value, result.reason) == (
        Outcome.IMPROVEMENT, 0.001,
        "better by 20 ms (20.0%), beyond 7.5% and 1 ms; p = 0.001 < 0.01")


def test_the_error_rate_is_judged_in_points_only() -> None:
    errors = MetricSpec("error-rate", "error rate", "%", "error-rate")
    result = judge(errors, [Measurement(1.0, (), 1000, 10)], Measurement(2.0, (), 1000, 20),
                   Thresholds(), p_values=(1e-6, 1.0))
    assert result.reason == "worse by 1 pp, beyond 0.5 pp; p = 1e-06 < 0.01"


def test_a_baseline_below_one_is_still_relative() -> None:
    # 0.8 -> 1.0 ms is 25 %: within a 50 % minimum however tiny the absolute one
    result = judge(P95, [Measurement(0.8, _windows(0.8))], Measurement(1.0, _windows(1.0)),
                   Thresholds(rules={"p95": Rule(0.5, 0.01)}), p_values=(1e-6, 1.0))
    assert (result.outcome, result.reason) == (
        Outcome.UNCHANGED, "worse by 0.2 ms (25.0%), within 50.0% and 0.01 ms")
