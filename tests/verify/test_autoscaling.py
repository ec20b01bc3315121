import pytest

from harness.config.k8s import DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, HpaMetricTarget, HpaSpec
from harness.config.model import LatencyObjective, SloSpec
from harness.load.records import LoadResult, StagePlan
from harness.stack.autoscaler import Decision, MetricRecommendation, Reason
from harness.stack.scaling import ReplicaCount
from harness.verify.autoscaling import LoadPlanned, autoscaling_checks, reaction_bound
from harness.verify.check import Verdict
from tests.load.helpers import interval

HPA = HpaSpec(min_replicas=2, max_replicas=10, metrics=(HpaMetricTarget("cpu", 70),),
              scale_up=DEFAULT_SCALE_UP, scale_down=DEFAULT_SCALE_DOWN)


def decision(t, current, applied, ratio, recommended=None):
    metric = MetricRecommendation("cpu", round(ratio * 70), 70, ratio, applied, Reason.SCALE_UP,
                                  ready_pods=current)
    reason = Reason.SCALE_UP if applied > current else Reason.WITHIN_TOLERANCE
    return Decision(t, current, (metric,), recommended if recommended is not None else applied,
                    applied, applied, reason)


def checks(decisions, counts, **kw):
    result = autoscaling_checks(decisions, counts, HPA, origin=0.0, duration=600.0,
                                sync_period=15.0, startup_budget=30.0, **kw)
    return {c.id: c for c in result}


def test_prompt_scale_up_passes_with_its_timing():
    decisions = [decision(0, 3, 3, 0.5), decision(15, 3, 6, 1.8), decision(30, 6, 6, 1.0)]
    counts = [ReplicaCount(0, 3), ReplicaCount(15, 3), ReplicaCount(21, 6), ReplicaCount(30, 6)]
    result = checks(decisions, counts)
    assert result["autoscaling.scale-up"].verdict is Verdict.PASS
    assert result["autoscaling.scale-up"].observed == 6
    assert result["autoscaling.bounds"].verdict is Verdict.PASS


def test_hot_without_scaling_fails():
    decisions = [decision(t, 3, 3, 1.5) for t in range(0, 120, 15)]
    counts = [ReplicaCount(t, 3) for t in range(0, 120, 15)]
    result = checks(decisions, counts)
    assert result["autoscaling.scale-up"].verdict is Verdict.FAIL
    assert "no replica was added" in result["autoscaling.scale-up"].evidence


def test_cool_run_skips_scale_up_with_a_reason():
    result = checks([decision(0, 3, 3, 0.3)], [ReplicaCount(0, 3)])
    assert result["autoscaling.scale-up"].verdict is Verdict.SKIPPED
    assert "never rose" in result["autoscaling.scale-up"].reason


def test_replicas_outside_bounds_fail():
    result = checks([decision(0, 3, 3, 1.0)], [ReplicaCount(0, 1), ReplicaCount(15, 11)])
    assert result["autoscaling.bounds"].verdict is Verdict.FAIL


def test_early_scale_down_and_flapping_fail():
    decisions = [decision(0, 3, 5, 1.6), decision(15, 5, 5, 1.0, recommended=5),
                 decision(60, 5, 3, 0.5, recommended=3)]
    result = checks(decisions, [ReplicaCount(0, 3), ReplicaCount(60, 3)])
    assert result["autoscaling.scale-down-stabilization"].verdict is Verdict.FAIL
    assert result["autoscaling.scale-down-stabilization"].observed == 45
    assert result["autoscaling.no-flapping"].verdict is Verdict.FAIL


def test_scale_down_after_the_window_passes():
    decisions = [decision(0, 3, 5, 1.6, recommended=5), decision(300, 5, 3, 0.5, recommended=3)]
    result = checks(decisions, [ReplicaCount(0, 3), ReplicaCount(300, 3)])
    assert result["autoscaling.scale-down-stabilization"].verdict is Verdict.PASS
    assert result["autoscaling.no-flapping"].verdict is Verdict.PASS


def test_the_scale_up_bound_is_kubernetes_e2e_max_hpa_reaction_time():
    # horizontal_pod_autoscaling_behavior.go: 30 + 30 + 15 s metrics, 15 s sync, 10 s actuation
    assert reaction_bound(15.0) == 100.0
    decisions = [decision(0, 2, 2, 0.5), decision(15, 2, 3, 1.45), decision(30, 3, 3, 0.97)]
    slow = [ReplicaCount(0, 2), ReplicaCount(15, 3, ready=2), ReplicaCount(116, 3, ready=3)]
    result = checks(decisions, slow)["autoscaling.scale-up"]
    assert (result.verdict, result.observed, result.threshold) == (Verdict.FAIL, 101.0, 100.0)
    assert "maxHPAReactionTime" in result.evidence


def test_a_run_that_ended_before_the_bound_cannot_fail_the_scale_up():
    decisions = [decision(0, 2, 2, 0.5), decision(560, 2, 3, 1.45)]
    up = checks(decisions, [ReplicaCount(0, 2)])["autoscaling.scale-up"]
    assert up.verdict is Verdict.UNTRUSTED and "ended 40s later" in up.evidence


def test_a_run_sized_to_cross_the_target_that_never_did_is_untrusted_not_skipped():
    result = checks([decision(t, 2, 2, 0.7) for t in range(0, 90, 15)],
                    [ReplicaCount(0, 2)], planned=LoadPlanned(1.45, 300.0, 700.0))
    up = result["autoscaling.scale-up"]
    assert up.verdict is Verdict.UNTRUSTED
    assert "1.45x" in up.evidence and "300 req/s went out of 700" in up.evidence
    assert result["autoscaling.scale-up-replicas"].verdict is Verdict.SKIPPED


@pytest.mark.parametrize(("ready", "verdict"), [(3, Verdict.PASS), (4, Verdict.FAIL)])
def test_the_replicas_reached_are_what_the_formula_gives_for_the_measured_utilization(
        ready, verdict):
    # 1.45 x target on 2 ready replicas: ceil(2.9) = 3
    decisions = [decision(0, 2, 2, 0.5), decision(15, 2, ready, 1.45),
                 decision(30, ready, ready, 0.97)]
    counts = [ReplicaCount(0, 2), ReplicaCount(15, ready, ready=2),
              ReplicaCount(20, ready, ready=ready)]
    result = checks(decisions, counts)["autoscaling.scale-up-replicas"]
    assert (result.verdict, result.observed, result.threshold) == (verdict, float(ready), 3.0)


def _load(latency_ms):
    stages = (StagePlan(0, "surge", 0.0, 60.0, 100, True, rate=100.0),)
    intervals = [interval(t, t + 2, {"GET /a": [latency_ms] * 100}) for t in range(0, 60, 2)]
    return LoadResult(0.0, 60.0, tuple(intervals), (), stages)


@pytest.mark.parametrize(("latency", "verdict"), [(20.0, Verdict.PASS), (400.0, Verdict.FAIL)])
def test_the_slo_is_judged_through_the_scale_up_window(latency, verdict):
    decisions = [decision(0, 2, 2, 0.5), decision(15, 2, 3, 1.45), decision(30, 3, 3, 0.97)]
    counts = [ReplicaCount(0, 2), ReplicaCount(15, 3, ready=2), ReplicaCount(21, 3, ready=3)]
    slo = SloSpec(latency=LatencyObjective(p95_ms=250, p99_ms=500))
    result = checks(decisions, counts, load=_load(latency), slo=slo)
    p95 = result["autoscaling.scale-up-slo.p95"]
    assert p95.verdict is verdict
    assert (p95.window.start, p95.window.end) == (15.0, 36.0)  # first hot sync to ready + 1 sync
    assert result["autoscaling.scale-up-slo.error-rate"].verdict is Verdict.PASS


def test_a_scale_down_that_was_due_and_never_came_fails_and_one_not_due_is_skipped_with_numbers():
    hot = [decision(0, 2, 3, 1.45, recommended=3)]
    due = hot + [decision(t, 3, 3, 0.3, recommended=2) for t in range(15, 400, 15)]
    result = checks(due, [ReplicaCount(0, 3)])["autoscaling.scale-down-stabilization"]
    assert result.verdict is Verdict.FAIL and "no scale-down" in result.evidence
    early = hot + [decision(t, 3, 3, 0.3, recommended=2) for t in range(15, 200, 15)]
    result = checks(early, [ReplicaCount(0, 3)])["autoscaling.scale-down-stabilization"]
    assert result.verdict is Verdict.SKIPPED and "window 300s" in result.reason
    # at minReplicas a lower recommendation is no scale-down due
    floor = [decision(t, 2, 2, 0.3, recommended=1) for t in range(0, 400, 15)]
    result = checks(floor, [ReplicaCount(0, 2)])["autoscaling.scale-down-stabilization"]
    assert result.verdict is Verdict.SKIPPED
