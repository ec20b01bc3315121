"""harness.stack.autoscaler against the documented Kubernetes HPA rules.

Sources: kubernetes.io "Horizontal Pod Autoscaling" (algorithm details, stabilization window,
scaling policies, default behavior) and pkg/controller/podautoscaler (replica_calculator.go,
horizontal.go). Periods and windows are shortened where a test says so.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import astuple, fields, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config.k8s import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    HpaMetricTarget,
    HpaSpec,
    Resources,
    ScalingPolicy,
    ScalingRules,
    load_hpa,
)
from harness.stack.autoscaler import (
    Autoscaler,
    AutoscalerLoop,
    Decision,
    PodSample,
    Reason,
    metric_recommendation,
    parse_kubernetes_version,
)

CPU_REQUEST = 500  # millicores
MEMORY_REQUEST = 512 * 2**20  # bytes
REQUESTS = Resources(CPU_REQUEST, MEMORY_REQUEST)
CPU70 = HpaMetricTarget("cpu", 70)
MEMORY80 = HpaMetricTarget("memory", 80)
NO_DOWN_WINDOW = replace(DEFAULT_SCALE_DOWN, stabilization_window_seconds=0)


def make_hpa(
    *,
    min_replicas: int = 2,
    max_replicas: int = 10,
    metrics: tuple[HpaMetricTarget, ...] = (CPU70,),
    scale_up: ScalingRules = DEFAULT_SCALE_UP,
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN,
    has_behavior: bool = True,
) -> HpaSpec:
    return HpaSpec(min_replicas, max_replicas, metrics, scale_up, scale_down, has_behavior)


def pod(
    name: str,
    cpu_percent: float | None = None,
    memory_percent: float | None = None,
    *,
    ready: bool = True,
    **extra: object,
) -> PodSample:
    return PodSample(
        name=name,
        ready=ready,
        cpu_millicores=None if cpu_percent is None else CPU_REQUEST * cpu_percent / 100,
        memory_bytes=None if memory_percent is None else MEMORY_REQUEST * memory_percent / 100,
        **extra,  # type: ignore[arg-type]
    )


def pods(
    n: int, cpu_percent: float | None = None, memory_percent: float | None = 10.0
) -> list[PodSample]:
    return [pod(f"pod-{i}", cpu_percent, memory_percent) for i in range(n)]


def run(
    autoscaler: Autoscaler, current: int, load: Sequence[tuple[float, float]]
) -> list[Decision]:
    """Closed loop: at each (time, total cpu demand in % of one request) the applied count is
    the next current count, and demand spreads evenly over the replicas."""
    decisions = []
    for now, demand in load:
        decision = autoscaler.decide(now, current, pods(current, demand / current))
        decisions.append(decision)
        current = decision.applied
    return decisions


# --------------------------------------------------------------------------- tolerance


@pytest.mark.parametrize(
    ("utilization", "applied", "reason"),
    [
        pytest.param(70, 10, Reason.WITHIN_TOLERANCE, id="70%-at-target"),
        pytest.param(77, 10, Reason.WITHIN_TOLERANCE, id="77%-no-change"),
        pytest.param(77.8, 10, Reason.WITHIN_TOLERANCE, id="77.8%-truncates-to-77"),
        pytest.param(78, 12, Reason.SCALE_UP, id="78%-up"),
        pytest.param(63, 10, Reason.WITHIN_TOLERANCE, id="63%-no-change"),
        pytest.param(62, 9, Reason.SCALE_DOWN, id="62%-down"),
        pytest.param(140, 20, Reason.SCALE_UP, id="double"),
        pytest.param(35, 5, Reason.SCALE_DOWN, id="half"),
    ],
)
def test_tolerance_band_around_70_percent(utilization: float, applied: int, reason: Reason) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=30, scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 10, pods(10, utilization))
    assert decision.applied == applied
    assert decision.reason == reason
    (cpu,) = decision.per_metric
    assert cpu.utilization_percent == int(utilization)
    assert cpu.target_percent == 70
    assert cpu.reason == reason


def test_utilization_is_total_usage_over_total_requests() -> None:
    uneven = [pod("a", 20), pod("b", 150), pod("c", 100)]  # 270 % over 3 requests = 90 %
    recommendation = metric_recommendation(CPU70, CPU_REQUEST, uneven, 3, 0.0)
    assert recommendation.utilization_percent == 90
    assert recommendation.replicas == 4  # ceil(90 / 70 * 3) = ceil(3.857)


@pytest.mark.parametrize(
    ("tolerance", "utilization", "replicas"),
    [
        pytest.param(0.05, 73, 10, id="5%-73-no-change"),
        pytest.param(0.05, 74, 11, id="5%-74-up"),
        pytest.param(0.0, 71, 11, id="zero-tolerance"),
        pytest.param(0.2, 84, 10, id="20%-84-no-change"),
    ],
)
def test_tolerance_is_a_parameter(tolerance: float, utilization: int, replicas: int) -> None:
    hpa = make_hpa(max_replicas=30)
    autoscaler = Autoscaler(hpa, REQUESTS, tolerance=tolerance)
    assert autoscaler.decide(0.0, 10, pods(10, utilization)).applied == replicas


def test_per_direction_tolerance_from_behavior() -> None:
    hpa = make_hpa(max_replicas=30, scale_up=replace(DEFAULT_SCALE_UP, tolerance=0.05))
    assert Autoscaler(hpa, REQUESTS).decide(0.0, 10, pods(10, 75)).applied == 11
    legacy = replace(hpa, has_behavior=False)  # behavior tolerances need spec.behavior
    assert Autoscaler(legacy, REQUESTS).decide(0.0, 10, pods(10, 75)).applied == 10


# --------------------------------------------------------------------------- several metrics


@pytest.mark.parametrize(
    ("version", "utilization", "applied"),
    [
        # 77/70 is 1.1 exactly in floating point: within 1.33's band, but |1 - 1.1| is a hair
        # above 0.1, so a 1.32 controller (math.Abs(1.0-usageRatio) <= tolerance) scales up.
        pytest.param((1, 33), 77, 10, id="1.33-77%-no-change"),
        pytest.param((1, 32), 77, 11, id="1.32-77%-scales-up"),
        pytest.param((1, 33), 78, 12, id="1.33-78%-up"),
        pytest.param((1, 32), 78, 12, id="1.32-78%-up"),
        pytest.param((1, 33), 63, 10, id="1.33-63%-no-change"),
        pytest.param((1, 32), 63, 10, id="1.32-63%-no-change"),
        pytest.param((1, 33), 62, 9, id="1.33-62%-down"),
        pytest.param((1, 32), 62, 9, id="1.32-62%-down"),
        pytest.param((1, 23), 77, 11, id="1.23-like-1.32"),
    ],
)
def test_tolerance_test_by_kubernetes_version(
    version: tuple[int, int], utilization: float, applied: int
) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=30, scale_down=NO_DOWN_WINDOW)
    autoscaler = Autoscaler(hpa, REQUESTS, kubernetes_version=version)
    assert autoscaler.decide(0.0, 10, pods(10, utilization)).applied == applied


def test_kubernetes_before_1_33_has_no_per_direction_tolerance() -> None:
    hpa = make_hpa(scale_up=replace(DEFAULT_SCALE_UP, tolerance=0.05))
    with pytest.raises(ValueError, match="needs Kubernetes 1.33"):
        Autoscaler(hpa, REQUESTS, kubernetes_version=(1, 32))
    with pytest.raises(ValueError, match="one tolerance for both directions"):
        metric_recommendation(CPU70, CPU_REQUEST, pods(2, 80), 2, 0.0, tolerance=(0.1, 0.05),
                              kubernetes_version=(1, 32))
    assert Autoscaler(hpa, REQUESTS).kubernetes_version == (1, 33)  # the default: the newest


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.33", (1, 33)), ("v1.32.4", (1, 32)), ("1.9", (1, 9)), ("2", None), ("1.x", None),
     ("1.2.3.4", None), ("", None)],
)
def test_parse_kubernetes_version(text: str, version: tuple[int, int] | None) -> None:
    if version is None:
        with pytest.raises(ValueError, match="not a Kubernetes version"):
            parse_kubernetes_version(text)
    else:
        assert parse_kubernetes_version(text) == version


@pytest.mark.parametrize(
    ("cpu", "memory", "applied", "winner"),
    [
        pytest.param(140, 40, 8, "cpu", id="cpu-wins"),
        pytest.param(35, 160, 8, "memory", id="memory-wins"),
        pytest.param(70, 80, 4, None, id="both-at-target"),
        pytest.param(105, 120, 6, None, id="both-up-tie"),
        pytest.param(105, 140, 7, "memory", id="larger-of-two-ups"),
        pytest.param(20, 88, 4, None, id="one-down-one-in-band-no-change"),
    ],
)
def test_several_metrics_largest_wins(
    cpu: float, memory: float, applied: int, winner: str | None
) -> None:
    hpa = make_hpa(metrics=(CPU70, MEMORY80), max_replicas=20, scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 4, pods(4, cpu, memory))
    assert decision.applied == applied
    proposals = {m.metric: m.replicas for m in decision.per_metric}
    assert decision.recommended == max(r for r in proposals.values() if r is not None)
    if winner is not None:
        assert proposals[winner] == applied
        assert all(r is not None and r < applied for m, r in proposals.items() if m != winner)


def test_scale_down_needs_every_metric_to_agree() -> None:
    hpa = make_hpa(metrics=(CPU70, MEMORY80), scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 6, pods(6, 10, 79))
    assert decision.applied == 6


# --------------------------------------------------------------------------- stabilization


def test_scale_down_only_after_300s_of_lower_recommendations() -> None:
    autoscaler = Autoscaler(make_hpa(), REQUESTS)
    decisions = run(autoscaler, 4, [(t, 4 * 35) for t in range(0, 316, 15)])
    for decision in decisions:
        assert decision.recommended == 2
        if decision.time < 300:  # the first sync's count (4) is a recommendation until t=300
            assert (decision.applied, decision.reason) == (4, Reason.STABILIZED)
            assert decision.desired == 4
    assert (decisions[20].time, decisions[20].applied) == (300, 2)
    assert decisions[20].reason == Reason.SCALE_DOWN


@pytest.mark.parametrize(
    ("window", "load", "expected"),
    [
        pytest.param(
            60,
            [(0, 280), (15, 280), (30, 100), (45, 100), (60, 100), (75, 100), (90, 100)],
            [4, 4, 4, 4, 4, 2, 2],  # last high recommendation at t=15: down at t=75
            id="60s-window-after-last-high",
        ),
        pytest.param(
            60,
            [(0, 100), (15, 100), (30, 280), (45, 100), (60, 100), (75, 100), (90, 100)],
            [4, 4, 4, 4, 4, 4, 2],  # without the spike at t=30, down at t=60
            id="a-spike-restarts-the-window",
        ),
        pytest.param(
            60,
            [(0, 280), (30, 100), (59.5, 100), (60, 100)],
            [4, 4, 4, 2],  # the t=0 recommendation holds at 59.5 s and leaves at exactly 60 s
            id="window-edge-is-exclusive",
        ),
        pytest.param(
            30,
            [(0, 140), (15, 140), (30, 140), (45, 140)],
            [4, 4, 2, 2],
            id="30s-window-from-first-sync",
        ),
        pytest.param(
            0,
            [(0, 140), (15, 140)],
            [2, 2],
            id="no-window",
        ),
    ],
)
def test_shortened_scale_down_window(
    window: int, load: list[tuple[float, float]], expected: list[int]
) -> None:
    rules = replace(DEFAULT_SCALE_DOWN, stabilization_window_seconds=window)
    decisions = run(Autoscaler(make_hpa(scale_down=rules), REQUESTS), 4, load)
    assert [d.applied for d in decisions] == expected


def test_scale_up_window_takes_the_lowest_recent_recommendation() -> None:
    rules = replace(DEFAULT_SCALE_UP, stabilization_window_seconds=30)
    hpa = make_hpa(scale_up=rules, max_replicas=20)
    decisions = run(Autoscaler(hpa, REQUESTS), 2, [(t, 280) for t in (0, 15, 30, 45)])
    assert [d.applied for d in decisions] == [2, 2, 4, 4]
    assert decisions[0].reason == Reason.STABILIZED
    assert decisions[2].reason == Reason.SCALE_UP


def test_without_window_scale_up_is_immediate() -> None:
    decision = Autoscaler(make_hpa(), REQUESTS).decide(0.0, 2, pods(2, 105))
    assert (decision.applied, decision.reason) == (3, Reason.SCALE_UP)


# --------------------------------------------------------------------------- policies


@pytest.mark.parametrize(
    ("current", "applied", "reason"),
    [
        pytest.param(1, 5, Reason.LIMITED_BY_POLICY, id="1-plus-4-pods"),
        pytest.param(2, 6, Reason.LIMITED_BY_POLICY, id="2-plus-4-pods"),
        pytest.param(3, 7, Reason.LIMITED_BY_POLICY, id="3-plus-4-pods-beats-double"),
        pytest.param(5, 10, Reason.LIMITED_BY_POLICY, id="5-doubles"),
        pytest.param(8, 16, Reason.LIMITED_BY_POLICY, id="8-doubles"),
        pytest.param(20, 40, Reason.CLAMPED_MAX, id="max-before-policy"),
    ],
)
def test_default_scale_up_is_max_of_100_percent_and_4_pods(
    current: int, applied: int, reason: Reason
) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=40)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, pods(current, 700))
    assert decision.recommended == current * 10
    assert (decision.applied, decision.reason) == (applied, reason)


def test_scale_up_limit_counts_from_the_start_of_the_period() -> None:
    autoscaler = Autoscaler(make_hpa(min_replicas=1, max_replicas=100), REQUESTS)
    decisions = run(autoscaler, 2, [(0, 1400), (5, 1400), (10, 1400), (15, 1400), (30, 1400)])
    # 2 -> 6 at t=0; until t=15 the period started at 2 (limit 6); then 6 -> 12 -> 24.
    assert [d.applied for d in decisions] == [6, 6, 6, 12, 20]
    assert decisions[1].reason == Reason.LIMITED_BY_POLICY


@pytest.mark.parametrize(
    ("current", "applied", "reason"),
    [
        pytest.param(10, 2, Reason.CLAMPED_MIN, id="100-percent-then-min"),
        pytest.param(3, 2, Reason.CLAMPED_MIN, id="small"),
    ],
)
def test_default_scale_down_is_100_percent(current: int, applied: int, reason: Reason) -> None:
    hpa = make_hpa(scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, pods(current, 1))
    assert decision.recommended == 1
    assert (decision.applied, decision.reason) == (applied, reason)


HPA_WITH_POLICIES = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  minReplicas: 1
  maxReplicas: 20
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
    scaleUp:
      selectPolicy: Min
      policies:
        - {type: Pods, value: 3, periodSeconds: 60}
        - {type: Percent, value: 50, periodSeconds: 60}
"""


@pytest.fixture
def custom_hpa(tmp_path: Path) -> HpaSpec:
    path = tmp_path / "hpa.yaml"
    path.write_text(HPA_WITH_POLICIES, encoding="utf-8")
    return load_hpa(path)


def test_custom_scale_down_policy_one_pod_per_minute(custom_hpa: HpaSpec) -> None:
    load = [(t, 70) for t in (0, 15, 30, 45, 60, 75, 120, 180)]
    decisions = run(Autoscaler(custom_hpa, REQUESTS), 6, load)
    assert [d.applied for d in decisions] == [5, 5, 5, 5, 4, 4, 3, 2]
    assert decisions[1].reason == Reason.LIMITED_BY_POLICY
    assert decisions[4].recommended == 1


@pytest.mark.parametrize(
    ("current", "applied"),
    [
        pytest.param(2, 3, id="50-percent-of-2-rounds-up"),
        pytest.param(4, 6, id="50-percent-smaller-than-3-pods"),
        pytest.param(10, 13, id="3-pods-smaller-than-50-percent"),
    ],
)
def test_custom_scale_up_select_min(custom_hpa: HpaSpec, current: int, applied: int) -> None:
    decision = Autoscaler(custom_hpa, REQUESTS).decide(0.0, current, pods(current, 700))
    assert (decision.applied, decision.reason) == (applied, Reason.LIMITED_BY_POLICY)


@pytest.mark.parametrize(
    ("direction", "cpu", "current"),
    [
        pytest.param("scale_down", 1, 6, id="scale-down-disabled"),
        pytest.param("scale_up", 700, 3, id="scale-up-disabled"),
    ],
)
def test_disabled_forbids_the_direction(direction: str, cpu: float, current: int) -> None:
    disabled = {
        "scale_down": replace(NO_DOWN_WINDOW, select_policy="Disabled"),
        "scale_up": replace(DEFAULT_SCALE_UP, select_policy="Disabled"),
    }
    hpa = make_hpa(**{direction: disabled[direction]})  # type: ignore[arg-type]
    autoscaler = Autoscaler(hpa, REQUESTS)
    for now in (0.0, 15.0, 600.0):
        decision = autoscaler.decide(now, current, pods(current, cpu))
        assert (decision.applied, decision.reason) == (current, Reason.LIMITED_BY_POLICY)
        assert decision.recommended != current


def test_events_of_both_directions_count_toward_the_period() -> None:
    # Kubernetes: periodStartReplicas = current - added + removed within the period.
    rules = ScalingRules(0, "Max", (ScalingPolicy("Pods", 2, 60),))
    hpa = make_hpa(min_replicas=1, max_replicas=20, scale_up=rules, scale_down=rules)
    autoscaler = Autoscaler(hpa, REQUESTS)
    decisions = run(autoscaler, 6, [(0, 70), (15, 2000)])
    # down 6 -> 4 at t=0; at t=15 the period started at 6, so up to 6 + 2 = 8.
    assert [d.applied for d in decisions] == [4, 8]


# --------------------------------------------------------------------------- clamps


@pytest.mark.parametrize(
    ("current", "cpu", "applied", "reason"),
    [
        pytest.param(12, 70, 10, Reason.CLAMPED_MAX, id="above-max-goes-to-max"),
        pytest.param(1, 70, 2, Reason.CLAMPED_MIN, id="below-min-goes-to-min"),
        pytest.param(8, 140, 10, Reason.CLAMPED_MAX, id="recommendation-above-max"),
        pytest.param(10, 700, 10, Reason.CLAMPED_MAX, id="at-max-stays"),
        pytest.param(4, 0, 2, Reason.CLAMPED_MIN, id="zero-load-to-min"),
        pytest.param(0, 700, 0, Reason.SCALING_DISABLED, id="zero-replicas-disabled"),
    ],
)
def test_clamps(current: int, cpu: float, applied: int, reason: Reason) -> None:
    hpa = make_hpa(scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, pods(current, cpu))
    assert (decision.applied, decision.reason) == (applied, reason)


# --------------------------------------------------------------------------- unready, missing


CPU50 = HpaMetricTarget("cpu", 50)
MEMORY50 = HpaMetricTarget("memory", 50)


@pytest.mark.parametrize(
    ("target", "samples", "current", "replicas", "reason"),
    [
        pytest.param(
            CPU50,
            [pod("a", 100), pod("b", 100), pod("c", 100), pod("d", 300, ready=False)],
            4,
            6,  # unready counted at 0 %: 300 / 4 = 75 % -> ratio 1.5 -> ceil(6.0)
            Reason.SCALE_UP,
            id="cpu-scale-up-unready-at-0",
        ),
        pytest.param(
            CPU50,
            [pod("a", 70), pod("b", 70), pod("c", 70), pod("d", 500, ready=False)],
            4,
            4,  # ready pods alone: 140 % -> ceil(1.4 x 3) = 5; with d at 0 %: 52 % -> in band
            Reason.WITHIN_TOLERANCE,
            id="cpu-unready-at-0-brings-ratio-into-band",
        ),
        pytest.param(
            CPU50,
            [pod("a", 20), pod("b", 20), pod("c", 100, ready=False), pod("d", 100, ready=False)],
            4,
            1,  # unready set aside on scale-down: ceil(0.4 x 2 ready)
            Reason.SCALE_DOWN,
            id="cpu-scale-down-ignores-unready",
        ),
        pytest.param(
            MEMORY50,
            [pod("a", None, 20), pod("b", None, 20), pod("c", None, 100, ready=False)],
            3,
            3,  # memory counts unready pods: 140 / 3 = 46 % -> within tolerance
            Reason.WITHIN_TOLERANCE,
            id="memory-counts-unready",
        ),
        pytest.param(
            CPU50,
            [pod("a", 100), pod("b", 100), pod("c", 100), pod("d")],
            4,
            6,  # missing at 0 % on scale-up
            Reason.SCALE_UP,
            id="missing-at-0-on-scale-up",
        ),
        pytest.param(
            CPU50,
            [pod("a", 10), pod("b", 10), pod("c", 10), pod("d")],
            4,
            3,  # missing at 100 %: (30 + 100) / 4 = 32 % -> 0.64 x 4 -> ceil(2.56)
            Reason.SCALE_DOWN,
            id="missing-at-100-on-scale-down",
        ),
        pytest.param(
            HpaMetricTarget("cpu", 200),
            [pod("a", 100), pod("b")],
            2,
            2,  # missing at max(100, target) = 200 %: 150 % -> 0.75 x 2 -> 2 (at 100 %: 1)
            Reason.WITHIN_TOLERANCE,
            id="missing-at-target-when-target-above-100",
        ),
        pytest.param(
            CPU50,
            [pod("a", 60), pod("b"), pod("c"), pod("d")],
            4,
            4,  # 120 % alone says up; with 3 missing at 0 % it says 30 %: direction flips
            Reason.WITHIN_TOLERANCE,
            id="flip-keeps-current",
        ),
        pytest.param(
            CPU50,
            [pod("a", 52), pod("b")],
            2,
            2,  # in band before and after: no change
            Reason.WITHIN_TOLERANCE,
            id="missing-within-tolerance",
        ),
        pytest.param(
            CPU50,
            [pod("a", 100), pod("b", 100), pod("c", 900, pending=True)],
            3,
            4,  # pending counts like unready: 200 / 3 = 66 % -> 1.32 x 3 -> ceil(3.96)
            Reason.SCALE_UP,
            id="pending-at-0-on-scale-up",
        ),
        pytest.param(
            CPU50,
            [pod("a", 100), pod("b", 100), pod("c", 0, terminating=True)],
            3,
            4,  # terminating pods are ignored: 200 % over 2 -> ratio 2 -> ceil(2 x 2)
            Reason.SCALE_UP,
            id="terminating-ignored",
        ),
        pytest.param(
            CPU50,
            [pod("a"), pod("b", 900, ready=False)],
            2,
            None,
            Reason.NO_METRICS,
            id="no-ready-pod-with-metrics",
        ),
    ],
)
def test_unready_and_missing_pods(
    target: HpaMetricTarget,
    samples: list[PodSample],
    current: int,
    replicas: int | None,
    reason: Reason,
) -> None:
    request = CPU_REQUEST if target.resource == "cpu" else MEMORY_REQUEST
    recommendation = metric_recommendation(target, request, samples, current, 0.0)
    assert recommendation.replicas == replicas
    assert recommendation.reason == reason


def test_cpu_initialization_period() -> None:
    # Within 300 s of start an unready pod is set aside; afterwards only a pod that never became
    # ready is (a pod that was ready and now is not counts, like a merely overloaded one).
    def sample(now: float, ready_changed_at: float) -> int | None:
        samples = [
            pod("a", 100),
            pod("b", 100, ready=False, started_at=0.0, ready_changed_at=ready_changed_at),
        ]
        return metric_recommendation(CPU50, CPU_REQUEST, samples, 2, now).ready_pods

    assert sample(now=100.0, ready_changed_at=50.0) == 1  # initializing: set aside
    assert sample(now=400.0, ready_changed_at=200.0) == 2  # was ready, now overloaded: counts
    assert sample(now=400.0, ready_changed_at=10.0) == 1  # never ready (within 30 s of start)


@pytest.mark.parametrize(
    ("window_start", "now", "counted"),
    [
        pytest.param(40.0, 60.0, 1, id="window-began-before-ready-while-initializing"),
        pytest.param(55.0, 60.0, 2, id="window-began-after-ready"),
        pytest.param(50.0, 60.0, 2, id="window-began-at-ready"),
        pytest.param(None, 60.0, 2, id="window-unknown"),
        pytest.param(40.0, 400.0, 2, id="after-the-initialization-period"),
    ],
)
def test_cpu_sample_measured_before_readiness_is_set_aside(
    window_start: float | None, now: float, counted: int
) -> None:
    # groupPods: within the initialization period a ready pod's sample counts only if one
    # metric window was collected since its readiness transition.
    samples = [
        pod("a", 100),
        pod("b", 100, started_at=0.0, ready_changed_at=50.0, cpu_window_start=window_start),
    ]
    assert metric_recommendation(CPU50, CPU_REQUEST, samples, 2, now).ready_pods == counted


@pytest.mark.parametrize(
    ("cpu", "memory", "applied", "reason"),
    [
        pytest.param(None, 10, 4, Reason.NO_METRICS, id="cpu-missing-memory-down-no-change"),
        pytest.param(None, 200, 8, Reason.LIMITED_BY_POLICY, id="cpu-missing-memory-up-scales"),
        pytest.param(None, None, 4, Reason.NO_METRICS, id="no-metrics-at-all"),
    ],
)
def test_a_failing_metric_blocks_scale_down_only(
    cpu: float | None, memory: float | None, applied: int, reason: Reason
) -> None:
    hpa = make_hpa(metrics=(CPU70, MEMORY80), max_replicas=20, scale_down=NO_DOWN_WINDOW)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 4, pods(4, cpu, memory))
    assert (decision.applied, decision.reason) == (applied, reason)


# --------------------------------------------------------------------------- legacy path


@pytest.mark.parametrize(
    ("current", "applied"),
    [
        pytest.param(1, 4, id="at-least-4"),
        pytest.param(3, 6, id="doubles-3"),
        pytest.param(5, 10, id="doubles-5"),
    ],
)
def test_without_behavior_scale_up_is_max_of_double_and_4(current: int, applied: int) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=40, has_behavior=False)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, pods(current, 700))
    assert (decision.applied, decision.reason) == (applied, Reason.LIMITED_BY_POLICY)


@pytest.mark.parametrize(
    ("max_replicas", "reason"),
    [
        pytest.param(6, Reason.CLAMPED_MAX, id="max-equal-to-the-limit-is-the-bound"),
        pytest.param(7, Reason.LIMITED_BY_POLICY, id="max-above-the-limit"),
    ],
)
def test_without_behavior_the_reason_at_the_limit_is_the_max(max_replicas: int,
                                                             reason: Reason) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=max_replicas, has_behavior=False)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 3, pods(3, 700))  # wants 30; limit 2 x 3
    assert (decision.applied, decision.reason) == (6, reason)


def test_legacy_path_limits_every_sync_not_every_period() -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=100, has_behavior=False)
    decisions = run(Autoscaler(hpa, REQUESTS), 2, [(0, 1400), (5, 1400), (10, 1400)])
    assert [d.applied for d in decisions] == [4, 8, 16]


def test_legacy_path_stabilizes_scale_down() -> None:
    hpa = make_hpa(
        has_behavior=False, scale_down=replace(DEFAULT_SCALE_DOWN, stabilization_window_seconds=60)
    )
    decisions = run(Autoscaler(hpa, REQUESTS), 4, [(t, 140) for t in (0, 30, 60, 61)])
    assert [d.applied for d in decisions] == [4, 4, 4, 2]  # the t=0 sample counts through t=60


# --------------------------------------------------------------------------- records and state


def test_decisions_are_recorded_and_serializable() -> None:
    autoscaler = Autoscaler(make_hpa(metrics=(CPU70, MEMORY80)), REQUESTS)
    first = autoscaler.decide(0.0, 2, pods(2, 140, 40))
    second = autoscaler.decide(15.0, 4, pods(4, 70, 40))
    assert autoscaler.decisions == (first, second)
    data = json.loads(json.dumps(first.as_dict()))
    assert data["reason"] == "scale-up"
    assert data["per_metric"][0]["metric"] == "cpu"
    assert data["per_metric"][0]["utilization_percent"] == 140
    assert data["per_metric"][1]["reason"] == "scale-down"
    assert {"time", "current", "recommended", "desired", "applied"} <= data.keys()


def test_decision_record_has_its_fields_with_reasons_as_plain_strings() -> None:
    decision = Autoscaler(make_hpa(metrics=(CPU70, MEMORY80)), REQUESTS).decide(
        0.0, 2, pods(2, 140, 40))
    data = decision.as_dict()
    assert data.keys() == {f.name for f in fields(Decision)}
    assert type(data["reason"]) is str
    per_metric_fields = {f.name for f in fields(decision.per_metric[0])}
    assert [m.keys() for m in data["per_metric"]] == [per_metric_fields] * 2
    assert [type(m["reason"]) for m in data["per_metric"]] == [str, str]


def test_autoscalers_share_no_state() -> None:
    load = [(t, 140 if t < 45 else 30) for t in range(0, 400, 15)]
    one = run(Autoscaler(make_hpa(), REQUESTS), 3, load)
    Autoscaler(make_hpa(), REQUESTS).decide(0.0, 9, pods(9, 700))  # an unrelated instance
    two = run(Autoscaler(make_hpa(), REQUESTS), 3, load)
    assert one == two


@pytest.mark.parametrize(
    ("now", "current", "samples", "problem"),
    [
        pytest.param(10.0, 2, pods(2, 50), "time went backwards", id="time-backwards"),
        pytest.param(30.0, -1, pods(2, 50), "current_replicas", id="negative-current"),
        pytest.param(30.0, 2, [pod("a", 50), pod("a", 50)], "unique", id="duplicate-names"),
    ],
)
def test_decide_rejects_bad_input(
    now: float, current: int, samples: list[PodSample], problem: str
) -> None:
    autoscaler = Autoscaler(make_hpa(), REQUESTS)
    autoscaler.decide(20.0, 2, pods(2, 50))
    with pytest.raises(ValueError, match=problem):
        autoscaler.decide(now, current, samples)


def test_request_needed_for_every_metric() -> None:
    with pytest.raises(ValueError, match="memory"):
        Autoscaler(make_hpa(metrics=(MEMORY80,)), Resources(500, None))


def test_defaults_match_kubernetes() -> None:
    autoscaler = Autoscaler(make_hpa(), REQUESTS)
    assert autoscaler.sync_period_seconds == 15.0
    assert autoscaler.tolerance == 0.1
    assert autoscaler.cpu_initialization_period_seconds == 300.0
    assert autoscaler.initial_readiness_delay_seconds == 30.0


# --------------------------------------------------------------------------- properties

utilizations = st.one_of(
    st.none(), st.just(0.0), st.floats(min_value=0, max_value=2000, allow_nan=False)
)


@st.composite
def hpa_specs(draw: st.DrawFn) -> HpaSpec:
    low = draw(st.integers(1, 5))
    high = draw(st.integers(low, 15))
    policies = st.lists(
        st.builds(
            ScalingPolicy,
            st.sampled_from(["Pods", "Percent"]),
            st.integers(1, 200),
            st.integers(1, 120),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple)
    rules = st.builds(
        ScalingRules,
        st.one_of(st.sampled_from([0, 15, 60, 300]), st.integers(0, 120)),
        st.sampled_from(["Max", "Min", "Disabled"]),
        policies,
    )
    metrics = draw(st.sampled_from([(CPU70,), (MEMORY80,), (CPU70, MEMORY80)]))
    return HpaSpec(low, high, metrics, draw(rules), draw(rules), draw(st.booleans()))


@st.composite
def pod_lists(draw: st.DrawFn, size: int) -> list[PodSample]:
    return [
        PodSample(
            f"pod-{i}",
            draw(st.booleans()),
            draw(utilizations),
            draw(utilizations.map(lambda v: None if v is None else v * 1e6)),
            pending=draw(st.booleans()) and draw(st.booleans()),
        )
        for i in range(size)
    ]


def test_applied_always_within_min_and_max(property_settings: Callable[[int], settings]) -> None:
    @property_settings(200)
    @given(hpa=hpa_specs(), data=st.data())
    def check(hpa: HpaSpec, data: st.DataObject) -> None:
        autoscaler = Autoscaler(hpa, REQUESTS)
        now = 0.0
        for _ in range(data.draw(st.integers(1, 12))):
            now += data.draw(st.floats(0, 40))
            current = data.draw(st.integers(1, 20))
            decision = autoscaler.decide(now, current, data.draw(pod_lists(min(current, 12))))
            assert hpa.min_replicas <= decision.applied <= hpa.max_replicas

    check()


def test_no_scale_down_within_window_after_higher_recommendation(
    property_settings: Callable[[int], settings],
) -> None:
    @property_settings(200)
    @given(hpa=hpa_specs(), data=st.data())
    def check(hpa: HpaSpec, data: st.DataObject) -> None:
        window = hpa.scale_down.stabilization_window_seconds
        autoscaler = Autoscaler(hpa, REQUESTS)
        current = data.draw(st.integers(hpa.min_replicas, hpa.max_replicas))
        history = []  # (time, recommendation): the first sync's count, then every recommendation
        now = 0.0
        for step in range(data.draw(st.integers(1, 15))):
            now += data.draw(st.sampled_from([1.0, 5.0, 15.0, 30.0]))
            cpu = data.draw(st.floats(0, 2000, allow_nan=False))
            samples = [PodSample(f"p{i}", True, cpu, 1e8) for i in range(current)]
            decision = autoscaler.decide(now, current, samples)
            if step == 0:
                history.append((now, current))
            if decision.applied < current:
                recent = [r for at, r in history if at > now - window] + [decision.recommended]
                assert max(recent) <= decision.applied
            history.append((now, decision.recommended))
            current = decision.applied

    check()


# --------------------------------------------------------------------------- the loop


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return False


def test_loop_syncs_every_period_from_one_period_after_start_and_scales_on_change() -> None:
    clock = FakeClock()
    replicas = [2]
    sync_times: list[float] = []

    def sample() -> tuple[int, list[PodSample]]:
        sync_times.append(clock.now)
        return replicas[0], pods(replicas[0], 280 / replicas[0])

    scaled: list[int] = []

    def scale(n: int) -> None:
        scaled.append(n)
        replicas[0] = n

    autoscaler = Autoscaler(make_hpa(), REQUESTS)
    loop = AutoscalerLoop(autoscaler, sample=sample, scale=scale, clock=clock, wait=clock.wait)
    syncs = loop.run(61.0)
    assert syncs == 4
    # The controller's first resync comes one period after it starts, not at once.
    assert sync_times == [1015.0, 1030.0, 1045.0, 1060.0]
    assert scaled == [4]  # 2 -> 4 once; then 70 % each: within tolerance
    assert len(autoscaler.decisions) == 4


def test_loop_sync_period_is_a_parameter() -> None:
    clock = FakeClock()
    autoscaler = Autoscaler(make_hpa(), REQUESTS, sync_period_seconds=1.0)
    loop = AutoscalerLoop(
        autoscaler,
        sample=lambda: (2, pods(2, 70)),
        scale=lambda n: None,
        clock=clock,
        wait=clock.wait,
    )
    assert loop.run(10.5) == 10


def test_loop_hands_every_decision_to_on_decision() -> None:
    clock = FakeClock()
    seen: list[Decision] = []
    autoscaler = Autoscaler(make_hpa(), REQUESTS)
    loop = AutoscalerLoop(autoscaler, sample=lambda: (2, pods(2, 140)), scale=lambda n: None,
                          clock=clock, wait=clock.wait, on_decision=seen.append)
    assert loop.run(31.0) == 2
    assert seen == list(autoscaler.decisions)
    assert [d.applied for d in seen] == [4, 4]


def test_loop_runs_for_less_than_a_second() -> None:
    clock = FakeClock()
    loop = AutoscalerLoop(Autoscaler(make_hpa(), REQUESTS), sample=lambda: (2, pods(2, 70)),
                          scale=lambda n: None, clock=clock, wait=clock.wait)
    assert loop.run(0.5) == 0  # shorter than a period: no sync, and not an error
    assert clock.waits == [0.5]


def test_loop_stopped_while_waiting_returns_its_sync_count() -> None:
    clock = FakeClock()
    waits: list[float] = []

    def stop_on_second_wait(seconds: float) -> bool:
        waits.append(seconds)
        clock.now += seconds
        return len(waits) == 2

    loop = AutoscalerLoop(Autoscaler(make_hpa(), REQUESTS), sample=lambda: (2, pods(2, 70)),
                          scale=lambda n: None, clock=clock, wait=stop_on_second_wait)
    assert loop.run(600.0) == 1


def test_loop_with_a_sub_second_period_syncs_every_period() -> None:
    clock = FakeClock()
    autoscaler = Autoscaler(make_hpa(), REQUESTS, sync_period_seconds=0.5)
    loop = AutoscalerLoop(autoscaler, sample=lambda: (2, pods(2, 70)), scale=lambda n: None,
                          clock=clock, wait=clock.wait)
    assert loop.run(3.0) == 5  # at 0.5, 1.0, ... 2.5 s; the run ends at 3.0 s


def test_loop_is_bounded_by_count() -> None:
    clock = FakeClock()
    loop = AutoscalerLoop(
        Autoscaler(make_hpa(), REQUESTS),
        sample=lambda: (2, pods(2, 70)),
        scale=lambda n: None,
        clock=clock,
        wait=clock.wait,
    )
    assert loop.run(3600.0, max_syncs=3) == 3


def test_loop_stops_on_event() -> None:
    stop = threading.Event()
    calls = []

    def sample() -> tuple[int, list[PodSample]]:
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        return 2, pods(2, 70)

    autoscaler = Autoscaler(make_hpa(), REQUESTS, sync_period_seconds=0.01)
    loop = AutoscalerLoop(autoscaler, sample=sample, scale=lambda n: None, stop=stop)
    assert loop.run(30.0) == 2  # real clock, real wait: returns as soon as the event is set


def test_loop_stop_from_another_thread() -> None:
    autoscaler = Autoscaler(make_hpa(), REQUESTS, sync_period_seconds=60.0)
    loop = AutoscalerLoop(autoscaler, sample=lambda: (2, pods(2, 70)), scale=lambda n: None)
    thread = threading.Thread(target=loop.run, args=(300.0,))
    thread.start()
    loop.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_loop_propagates_backend_errors() -> None:
    def broken() -> tuple[int, list[PodSample]]:
        raise RuntimeError("replica vanished")

    clock = FakeClock()
    loop = AutoscalerLoop(Autoscaler(make_hpa(), REQUESTS), sample=broken, scale=lambda n: None,
                          clock=clock, wait=clock.wait)
    with pytest.raises(RuntimeError, match="replica vanished"):
        loop.run(30.0)


@pytest.mark.parametrize("duration", [0.0, -1.0, float("inf"), float("nan")])
def test_loop_needs_a_finite_duration(duration: float) -> None:
    loop = AutoscalerLoop(Autoscaler(make_hpa(), REQUESTS), sample=lambda: (2, []), scale=print)
    with pytest.raises(ValueError, match="duration"):
        loop.run(duration)


# --------------------------------------------------------------------------- whole records
# Each record pinned field by field: utilization, ratio, the pod counts and the recomputed ratio
# in the note are the evidence a reader of the scaling trace checks the decision against.


def cpu_pod(name: str, millicores: float | None, *, ready: bool = True,
            **extra: object) -> PodSample:
    return PodSample(name, ready, millicores, None, **extra)  # type: ignore[arg-type]


def recomputed(missing: int, unready: int, ratio: str) -> str:
    return f"recomputed with {missing} missing and {unready} unready pods: {ratio}"


@pytest.mark.parametrize(
    ("target", "samples", "current", "expected"),
    [
        pytest.param(
            CPU50,
            [cpu_pod("t", 0, terminating=True), cpu_pod("p", 900, pending=True),
             cpu_pod("m", None), cpu_pod("u", 900, ready=False), cpu_pod("a", 500),
             cpu_pod("b", 500)],
            5,
            # 200 % on a and b; m at 0 % (scale-up), p and u at 0 %: 1000 / 5 pods = 40 %
            ("cpu", 100, 50, 2.0, 5, Reason.WITHIN_TOLERANCE, 2, 2, 1, recomputed(1, 2, "0.80")),
            id="set-aside-pods-first-then-ready-ones-flip",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 250), cpu_pod("b", None)], 2,
            # at exactly ratio 1 a missing pod is neither 100 % nor 0 %
            ("cpu", 50, 50, 1.0, 2, Reason.WITHIN_TOLERANCE, 1, 0, 1, recomputed(1, 0, "1.00")),
            id="missing-at-ratio-exactly-1",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 250), cpu_pod("b", 250), cpu_pod("u", 900, ready=False)], 3,
            # at exactly ratio 1 an unready pod does not make it a scale-up
            ("cpu", 50, 50, 1.0, 3, Reason.WITHIN_TOLERANCE, 2, 1, 0,
             "ratio 1.000 within tolerance [0.90, 1.10]"),
            id="unready-at-ratio-exactly-1",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 375), cpu_pod("b", 375), cpu_pod("m", None)], 3,
            # 150 %: m at 0 %: 750 / 3 = 50 % -> ratio 1.00
            ("cpu", 75, 50, 1.5, 3, Reason.WITHIN_TOLERANCE, 2, 0, 1, recomputed(1, 0, "1.00")),
            id="missing-at-0-below-double",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 200), cpu_pod("m", None)], 2,
            # 80 %: m at 100 %: 700 / 2 = 70 % -> 1.40, the other side of 1: keep 2
            ("cpu", 40, 50, 0.8, 2, Reason.WITHIN_TOLERANCE, 1, 0, 1, recomputed(1, 0, "1.40")),
            id="flip-up-from-below-1",
        ),
        pytest.param(
            HpaMetricTarget("cpu", 100), [cpu_pod("a", 200), cpu_pod("m", None)], 1,
            # 0.40; m at 100 %: 70 % -> ceil(0.7 x 2) = 2 would scale up on a down signal
            ("cpu", 40, 100, 0.4, 1, Reason.WITHIN_TOLERANCE, 1, 0, 1, recomputed(1, 0, "0.70")),
            id="down-signal-never-scales-up",
        ),
        pytest.param(
            HpaMetricTarget("cpu", 100), [cpu_pod("a", 196), cpu_pod("m", None)], 1,
            # m at exactly 100 % of 500 m: (196 + 500) / 1000 = 69 %
            ("cpu", 39, 100, 0.39, 1, Reason.WITHIN_TOLERANCE, 1, 0, 1,
             recomputed(1, 0, "0.69")),
            id="missing-filled-at-exactly-100",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 500), cpu_pod("b", 500), cpu_pod("u", 900, ready=False)], 5,
            # u at 0 %: 66 % -> 1.32 -> ceil(3.96) = 4 would scale down on an up signal
            ("cpu", 100, 50, 2.0, 5, Reason.WITHIN_TOLERANCE, 2, 1, 0, recomputed(0, 1, "1.32")),
            id="up-signal-never-scales-down",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 1009), cpu_pod("m", None)], 2,
            # m at exactly 0: 1009 / 1000 = 100 % (truncated) -> 2.00 -> 4
            ("cpu", 201, 50, 4.02, 4, Reason.SCALE_UP, 1, 0, 1, recomputed(1, 0, "2.00")),
            id="missing-filled-at-exactly-0",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 1009), cpu_pod("u", 9, ready=False)], 2,
            ("cpu", 201, 50, 4.02, 4, Reason.SCALE_UP, 1, 1, 0, recomputed(0, 1, "2.00")),
            id="unready-filled-at-exactly-0",
        ),
        pytest.param(
            CPU50, [cpu_pod("a", 500), cpu_pod("b", 500)], 2,
            ("cpu", 100, 50, 2.0, 4, Reason.SCALE_UP, 2, 0, 0, "ceil(2.000 x 2 ready pods)"),
            id="plain-scale-up",
        ),
        pytest.param(
            CPU50, [cpu_pod("m", None)], 1,
            ("cpu", None, 50, None, None, Reason.NO_METRICS, 0, 0, 1,
             "no metrics for any ready pod"),
            id="no-metrics",
        ),
    ],
)
def test_metric_recommendation_record(
    target: HpaMetricTarget, samples: list[PodSample], current: int, expected: tuple[object, ...]
) -> None:
    recommendation = metric_recommendation(target, CPU_REQUEST, samples, current, 0.0)
    assert astuple(recommendation) == expected


def test_missing_pod_filled_at_the_target_above_100_percent_rounds_down() -> None:
    # 333 m x 150 // 100 = 499 m (integer millicores, as upstream): (100 + 499) / 666 = 89 %
    samples = [cpu_pod("a", 100), cpu_pod("m", None)]
    recommendation = metric_recommendation(HpaMetricTarget("cpu", 150), 333, samples, 2, 0.0)
    assert recommendation.message == recomputed(1, 0, "0.59")


def test_missing_pod_at_100_percent_fills_the_whole_request() -> None:
    # (200 + 500) / 1000 = 70 %: a missing pod counts its whole 500 m request, not 505 or 495
    samples = [cpu_pod("a", 200), cpu_pod("m", None)]
    recommendation = metric_recommendation(HpaMetricTarget("cpu", 100), 500, samples, 1, 0.0)
    assert recommendation.message == recomputed(1, 0, "0.70")


def test_a_request_must_be_positive() -> None:
    with pytest.raises(ValueError, match="the cpu request must be > 0, got 0"):
        metric_recommendation(CPU50, 0, [cpu_pod("a", 1)], 1, 0.0)
    one_millicore = metric_recommendation(HpaMetricTarget("cpu", 100), 1, [cpu_pod("a", 1)], 1, 0.0)
    assert (one_millicore.utilization_percent, one_millicore.replicas) == (100, 1)


def test_one_tolerance_before_kubernetes_1_33() -> None:
    with pytest.raises(ValueError, match=r"Kubernetes 1\.32 has one tolerance for both directions"):
        metric_recommendation(CPU50, CPU_REQUEST, [cpu_pod("a", 250)], 1, 0.0,
                              tolerance=(0.1, 0.2), kubernetes_version=(1, 32))


def test_before_1_33_a_ratio_exactly_at_the_tolerance_is_within() -> None:
    samples = [cpu_pod("a", 375), cpu_pod("b", 375)]  # 75 % of a 50 % target: |1 - 1.5| = 0.5
    recommendation = metric_recommendation(CPU50, CPU_REQUEST, samples, 2, 0.0, tolerance=0.5,
                                           kubernetes_version=(1, 32))
    assert (recommendation.replicas, recommendation.reason) == (2, Reason.WITHIN_TOLERANCE)
    assert recommendation.message == "ratio 1.500 within tolerance |1 - ratio| <= 0.50"


@pytest.mark.parametrize(
    ("sample", "now", "ready_pods"),
    [
        pytest.param(dict(ready=False, started_at=0.0), 400.0, 1,
                     id="unready-with-no-transition-time-is-set-aside"),
        pytest.param(dict(started_at=0.0, ready_changed_at=50.0, cpu_window_start=40.0), 300.0, 2,
                     id="at-exactly-the-end-of-initialization-the-sample-counts"),
        pytest.param(dict(ready=False, started_at=0.0, ready_changed_at=30.0), 400.0, 2,
                     id="ready-exactly-at-the-readiness-delay-counts"),
    ],
)
def test_cpu_initialization_boundaries(sample: dict[str, object], now: float,
                                       ready_pods: int) -> None:
    samples = [cpu_pod("a", 250), cpu_pod("b", 250, **sample)]
    assert metric_recommendation(CPU50, CPU_REQUEST, samples, 2, now).ready_pods == ready_pods


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(dict(sync_period_seconds=0), id="period-0"),
        pytest.param(dict(tolerance=-0.1), id="negative-tolerance"),
    ],
)
def test_autoscaler_options_are_checked(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="^tolerance must be >= 0 and sync_period_seconds > 0$"):
        Autoscaler(make_hpa(), REQUESTS, **options)  # type: ignore[arg-type]


def test_a_metric_without_its_request_is_refused() -> None:
    with pytest.raises(ValueError, match="scales on cpu but its request is unset"):
        Autoscaler(make_hpa(), Resources(0, MEMORY_REQUEST))


def test_per_direction_tolerance_names_the_version() -> None:
    hpa = make_hpa(scale_up=replace(DEFAULT_SCALE_UP, tolerance=0.2))
    with pytest.raises(ValueError, match=r"needs Kubernetes 1\.33 or newer, not 1\.31"):
        Autoscaler(hpa, REQUESTS, kubernetes_version=(1, 31))


def test_pod_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="^pod names must be unique$"):
        Autoscaler(make_hpa(), REQUESTS).decide(0.0, 2, [pod("a", 70), pod("a", 70)])


@pytest.mark.parametrize(
    ("hpa", "current", "samples", "expected"),
    [
        pytest.param(make_hpa(min_replicas=1), 0, [], (0, 0, 0, Reason.SCALING_DISABLED,
                     "0 replicas: autoscaling is disabled"), id="zero-replicas-min-1"),
        pytest.param(make_hpa(), 12, pods(12, 70), (12, 10, 10, Reason.CLAMPED_MAX, "above max"),
                     id="above-max"),
        pytest.param(make_hpa(), 1, pods(1, 70), (1, 2, 2, Reason.CLAMPED_MIN, "below min"),
                     id="below-min"),
        pytest.param(make_hpa(), 3, pods(3), (3, 3, 3, Reason.NO_METRICS,
                     "not every metric is available"), id="no-metrics"),
        pytest.param(make_hpa(metrics=(CPU70, MEMORY80)), 4, pods(4, None, 80),
                     (4, 4, 4, Reason.WITHIN_TOLERANCE, "recommended 4, stabilized 4, applied 4"),
                     id="one-metric-missing-other-at-current-is-not-no-metrics"),
        pytest.param(make_hpa(), 2, pods(2, 140), (4, 4, 4, Reason.SCALE_UP,
                     "recommended 4, stabilized 4, applied 4"), id="scale-up"),
    ],
)
def test_decision_record(hpa: HpaSpec, current: int, samples: list[PodSample],
                         expected: tuple[object, ...]) -> None:
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, samples)
    assert (decision.recommended, decision.desired, decision.applied, decision.reason,
            decision.message) == expected


def test_the_controller_passes_its_time_and_cpu_periods_to_each_metric() -> None:
    # b became unready at 50 s (ready since 20 s): after a 60 s initialization period it counts;
    # with a 60 s readiness delay, it is one that never became ready and is set aside.
    samples = [pod("a", 70, started_at=0.0, ready_changed_at=10.0),
               pod("b", 70, ready=False, started_at=0.0, ready_changed_at=50.0)]

    def ready_pods(**periods: float) -> int:
        autoscaler = Autoscaler(make_hpa(), REQUESTS, **periods)  # type: ignore[arg-type]
        return autoscaler.decide(100.0, 2, samples).per_metric[0].ready_pods

    assert ready_pods() == 1  # the default 300 s: still initializing, b set aside
    assert ready_pods(cpu_initialization_period_seconds=60) == 2
    assert ready_pods(cpu_initialization_period_seconds=60, initial_readiness_delay_seconds=60) == 1


def test_scale_down_tolerance_of_its_own() -> None:
    hpa = make_hpa(scale_down=replace(NO_DOWN_WINDOW, tolerance=0.3))
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, 4, pods(4, 52))  # 0.74: 3 at 0.1
    assert (decision.applied, decision.reason) == (4, Reason.WITHIN_TOLERANCE)


def test_stabilization_window_holds_at_any_clock_origin() -> None:
    # Times near 1000 s: the recommendation of 6 at 1000 s still holds the count at 1030 s.
    hpa = make_hpa(scale_down=replace(DEFAULT_SCALE_DOWN, stabilization_window_seconds=60))
    decisions = run(Autoscaler(hpa, REQUESTS), 6, [(1000, 420), (1015, 140), (1030, 140)])
    assert [d.applied for d in decisions] == [6, 6, 6]


def test_scale_down_to_the_min_names_the_min_not_the_policy() -> None:
    rules = ScalingRules(0, "Max", (ScalingPolicy("Percent", 50, 60),))
    decision = Autoscaler(make_hpa(scale_down=rules), REQUESTS).decide(0.0, 4, pods(4, 10))
    assert (decision.desired, decision.applied, decision.reason) == (1, 2, Reason.CLAMPED_MIN)


@pytest.mark.parametrize(
    ("current", "demand", "rules", "applied"),
    [
        pytest.param(101, 101 * 200, ScalingRules(0, "Max", (ScalingPolicy("Percent", 1, 60),)),
                     103, id="up-1-percent-of-101-rounds-1.01-up-to-2"),
        pytest.param(101, 101 * 10, ScalingRules(0, "Max", (ScalingPolicy("Percent", 1, 60),)),
                     99, id="down-1-percent-of-101-truncates-99.99-to-99"),
        pytest.param(4, 40, ScalingRules(0, "Max", (ScalingPolicy("Percent", 50, 60),)),
                     2, id="down-50-percent"),
        pytest.param(4, 40, ScalingRules(0, "Max", (ScalingPolicy("Pods", 1, 60),
                                                     ScalingPolicy("Percent", 50, 60))),
                     2, id="down-max-selects-the-largest-change"),
        pytest.param(4, 40, ScalingRules(0, "Min", (ScalingPolicy("Pods", 1, 60),
                                                     ScalingPolicy("Percent", 50, 60))),
                     3, id="down-min-selects-the-smallest-change"),
    ],
)
def test_policy_arithmetic(current: int, demand: float, rules: ScalingRules,
                           applied: int) -> None:
    hpa = make_hpa(min_replicas=1, max_replicas=200, scale_up=rules, scale_down=rules)
    decision = Autoscaler(hpa, REQUESTS).decide(0.0, current, pods(current, demand / current))
    assert decision.applied == applied


def test_scale_events_count_within_their_period_at_any_clock_origin() -> None:
    # 4 pods per 60 s: +2 at 1000 s and +2 at 1015 s use the period up; at 1030 s it stays 6.
    rules = ScalingRules(0, "Max", (ScalingPolicy("Pods", 4, 60),))
    hpa = make_hpa(scale_up=rules)
    decisions = run(Autoscaler(hpa, REQUESTS), 2, [(1000, 280), (1015, 420), (1030, 700)])
    assert [d.applied for d in decisions] == [4, 6, 6]


def test_scale_down_events_count_within_their_period_at_any_clock_origin() -> None:
    # 1 pod per 60 s down: -1 at 1000 s; at 1015 s the period allows no more.
    rules = ScalingRules(0, "Max", (ScalingPolicy("Pods", 1, 60),))
    hpa = make_hpa(min_replicas=1, scale_down=rules)
    decisions = run(Autoscaler(hpa, REQUESTS), 6, [(1000, 70), (1015, 70)])
    assert [d.applied for d in decisions] == [5, 5]


def test_a_scale_up_keeps_the_earlier_scale_down_in_its_period() -> None:
    # 1 pod per 60 s down: -1 at 1000 s, +1 at 1015 s; at 1030 s the down period still holds
    # the -1 (6 - 1 up + 1 down = 6 at its start), so the count goes to 5, not 4.
    rules = ScalingRules(0, "Max", (ScalingPolicy("Pods", 1, 60),))
    hpa = make_hpa(min_replicas=1, scale_down=rules)
    decisions = run(Autoscaler(hpa, REQUESTS), 6, [(1000, 70), (1015, 420), (1030, 70)])
    assert [d.applied for d in decisions] == [5, 6, 5]


@pytest.mark.parametrize("usage", [float("inf"), float("nan"), -1.0])
def test_pod_usage_must_be_finite_and_not_negative(usage: float) -> None:
    with pytest.raises(ValueError, match=r"^pod a: usage must be finite and >= 0, got "):
        PodSample("a", True, usage, None)
