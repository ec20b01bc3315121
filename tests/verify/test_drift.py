"""slo.drift.p95: a significant upward p95 trend across the hold, projected against the SLO."""

import random

from harness.load.records import LoadResult, StagePlan
from harness.verify.check import Verdict
from harness.verify.drift import drift_check
from tests.load.helpers import interval

STAGES = (StagePlan(0, "ramp", 0, 10, 5, False), StagePlan(1, "hold", 10, 310, 10, True))


def run(p95_at) -> LoadResult:
    rnd = random.Random(3)
    intervals = [
        interval(t, t + 2, {"GET /a": [p95_at(t) * rnd.uniform(0.6, 1.0) for _ in range(40)]})
        for t in range(0, 310, 2)
    ]
    return LoadResult(0.0, 310.0, tuple(intervals), (), STAGES)


def test_flat_latency_passes_with_no_significant_trend():
    check = drift_check(run(lambda t: 20.0), 100.0)
    assert check.verdict is Verdict.PASS
    assert "no significant upward trend" in check.evidence
    assert check.observed < 25


def test_a_slow_rise_is_named_but_passes_when_an_hour_stays_under_the_slo():
    check = drift_check(run(lambda t: 5.0 + t / 100), 250.0)  # +0.6 ms/min
    assert check.verdict is Verdict.PASS
    assert "a significant rise" in check.evidence
    assert "+0.5" in check.evidence or "+0.6" in check.evidence


def test_a_rise_that_would_breach_the_slo_within_the_horizon_fails():
    check = drift_check(run(lambda t: 20.0 + t / 5), 250.0)  # +12 ms/min
    assert check.verdict is Verdict.FAIL
    assert check.observed > 250


def test_too_few_slices_or_no_limit_skip_with_the_reason():
    short = LoadResult(0.0, 30.0, run(lambda t: 20.0).intervals[:15], (),
                       (StagePlan(0, "hold", 0, 30, 5, True),))
    check = drift_check(short, 100.0)
    assert check.verdict is Verdict.SKIPPED and "a trend needs 8" in check.reason
    assert drift_check(run(lambda t: 20.0), None).verdict is Verdict.SKIPPED
