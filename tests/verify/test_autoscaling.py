from harness.config.k8s import DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, HpaMetricTarget, HpaSpec
from harness.stack.autoscaler import Decision, MetricRecommendation, Reason
from harness.stack.scaling import ReplicaCount
from harness.verify.autoscaling import autoscaling_checks
from harness.verify.check import Verdict

HPA = HpaSpec(min_replicas=2, max_replicas=10, metrics=(HpaMetricTarget("cpu", 70),),
              scale_up=DEFAULT_SCALE_UP, scale_down=DEFAULT_SCALE_DOWN)


def decision(t, current, applied, ratio, recommended=None):
    metric = MetricRecommendation("cpu", int(ratio * 70), 70, ratio, applied, Reason.SCALE_UP)
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
