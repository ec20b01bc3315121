import pytest

from harness.config.model import GroupObjective, LatencyObjective, SloSpec, WindowSpec
from harness.load.records import LoadResult, StagePlan
from harness.verify.check import Verdict, exit_status_for
from harness.verify.slo import slo_checks, steady_window
from tests.load.helpers import interval

SPEC = SloSpec(
    latency=LatencyObjective(p95_ms=100, p99_ms=200),
    availability_percent=99.0,
    min_rps=10,
    groups={"write": GroupObjective(requests=("POST /t",), p95_ms=150)},
    windows=WindowSpec(size=10, step=5, min_requests=20),
)
STAGES = (StagePlan(0, "ramp", 0, 10, 5, False), StagePlan(1, "hold", 10, 60, 10, True))


def run(intervals):
    return LoadResult(0.0, 60.0, tuple(intervals), (), STAGES)


def healthy(start, end, latency=20.0, failures=0):
    return interval(start, end, {"GET /a": [latency] * 95, "POST /t": [latency] * 5},
                    failures={"GET /a": failures})


def by_id(checks):
    return {c.id: c for c in checks}


def test_a_healthy_run_passes_every_check():
    checks = by_id(slo_checks(run([healthy(t, t + 2) for t in range(0, 60, 2)]), SPEC))
    for check_id in ("load.requests", "slo.latency.p95", "slo.latency.p99", "slo.error-rate",
                     "slo.throughput", "slo.group.write.p95", "slo.sliding.p95",
                     "slo.sliding.error-rate"):
        assert checks[check_id].verdict is Verdict.PASS, checks[check_id]
    assert exit_status_for(checks.values()) == 0


def test_the_steady_window_excludes_the_ramp():
    slow_ramp = [healthy(t, t + 2, latency=900) for t in range(0, 10, 2)]
    steady = [healthy(t, t + 2) for t in range(10, 60, 2)]
    checks = by_id(slo_checks(run(slow_ramp + steady), SPEC))
    assert checks["slo.latency.p95"].verdict is Verdict.PASS
    assert checks["slo.latency.p95"].window == steady_window(run(steady))
    # ...but the sliding windows see the slow ramp.
    assert checks["slo.sliding.p95"].verdict is Verdict.FAIL
    assert checks["slo.sliding.p95"].window.start < 10


def test_a_late_collapse_cannot_hide_in_the_average():
    intervals = [healthy(t, t + 2) for t in range(0, 50, 2)]
    intervals += [healthy(t, t + 2, latency=400) for t in range(50, 60, 2)]
    checks = by_id(slo_checks(run(intervals), SPEC))
    sliding = checks["slo.sliding.p95"]
    assert sliding.verdict is Verdict.FAIL
    assert sliding.observed == pytest.approx(400, rel=0.01)
    assert sliding.window.start >= 45  # a window inside the collapse
    assert "worst of" in sliding.evidence


def test_errors_beyond_the_budget_fail_with_evidence():
    checks = by_id(slo_checks(run([healthy(t, t + 2, failures=5) for t in range(0, 60, 2)]), SPEC))
    error_rate = checks["slo.error-rate"]
    assert error_rate.verdict is Verdict.FAIL
    assert error_rate.observed == pytest.approx(5.0)
    assert error_rate.threshold == pytest.approx(1.0)
    assert "budget 1 %" in error_rate.evidence


def test_no_load_at_all_fails_and_latency_is_skipped():
    checks = by_id(slo_checks(run([]), SPEC))
    assert checks["load.requests"].verdict is Verdict.FAIL
    assert checks["slo.latency.p95"].verdict is Verdict.SKIPPED
    assert checks["slo.latency.p95"].reason


def test_throughput_below_minimum_fails():
    sparse = [interval(t, t + 2, {"GET /a": [10] * 5}) for t in range(0, 60, 2)]
    checks = by_id(slo_checks(run(sparse), SPEC))
    assert checks["slo.throughput"].verdict is Verdict.FAIL
    assert checks["slo.throughput"].comparison == ">="
