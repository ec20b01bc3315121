"""The shared check constructors: judged against a threshold either way, unmeasured, skipped."""

from __future__ import annotations

from harness.verify.check import (
    Verdict,
    Window,
    fault_check_id,
    fault_checks,
    judged,
    skipped,
)

WINDOW = Window(0.0, 60.0, "steady state")


def test_judged_at_most_and_at_least_with_the_threshold_itself_passing():
    at_most = judged("x.p95", "p95", 250.0, 250.0, "ms", WINDOW, "p95 250 ms")
    assert at_most.verdict is Verdict.PASS and at_most.comparison == "<="
    assert judged("x.p95", "p95", 250.01, 250.0, "ms", WINDOW, "e").verdict is Verdict.FAIL
    at_least = judged("x.rps", "rps", 9.99, 10.0, "req/s", WINDOW, "e", at_most=False)
    assert at_least.verdict is Verdict.FAIL and at_least.comparison == ">="
    assert at_least.reason is None


def test_judged_rounds_the_observed_value_to_the_digits_asked():
    assert judged("x", "t", 1.23456, 2.0, "s", WINDOW, "e").observed == 1.235
    assert judged("x", "t", 1.23456, 2.0, "s", WINDOW, "e", digits=4).observed == 1.2346


def test_unmeasured_is_skipped_with_the_evidence_as_reason_unless_told_otherwise():
    check = judged("x", "t", None, 2.0, "s", WINDOW, "no samples")
    assert check.verdict is Verdict.SKIPPED and check.reason == "no samples"
    assert check.threshold == 2.0 and check.observed is None
    failed = judged("x", "t", 1.0, None, "s", WINDOW, "no limit", unmeasured=Verdict.FAIL)
    assert failed.verdict is Verdict.FAIL and failed.reason is None and failed.observed is None


def test_skipped_keeps_threshold_unit_comparison_and_window():
    check = skipped("x", "t", "why not", threshold=5.0, unit="s", comparison=">=", window=WINDOW)
    assert check.verdict is Verdict.SKIPPED
    assert (check.reason, check.evidence) == ("why not", "why not")
    assert (check.threshold, check.unit, check.comparison, check.window) == (5.0, "s", ">=", WINDOW)
    bare = skipped("x", "t", "why")
    assert (bare.threshold, bare.unit, bare.comparison, bare.window) == (None, "", "<=", None)


def test_a_faults_checks_are_found_again_by_aspect_and_not_another_faults():
    checks = [skipped(fault_check_id("kill-1", "recovery"), "t", "r"),
              skipped(fault_check_id("kill-1", "availability"), "t", "r"),
              skipped(fault_check_id("kill-10", "recovery"), "t", "r"),  # a longer name, same start
              skipped("slo.latency.p95", "t", "r")]
    assert fault_check_id("kill-1", "recovery") == "faults.kill-1.recovery"
    found = fault_checks(checks, "kill-1")
    assert sorted(found) == ["availability", "recovery"]
    assert found["recovery"] is checks[0]
    assert fault_checks(checks, "kill-10") == {"recovery": checks[2]}
    assert fault_checks(checks, "stop-redis") == {}
