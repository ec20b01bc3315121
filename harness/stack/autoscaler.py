"""The local autoscaler: the Kubernetes HPA algorithm, pure and clock-injected.

``Autoscaler.decide(now, current_replicas, pods)`` is one HPA sync: it turns per-replica cpu and
memory samples into a replica count exactly as the Kubernetes controller would for the bundled
HorizontalPodAutoscaler (harness.config.k8s.HpaSpec), and records the decision and why.
``AutoscalerLoop`` calls it every sync period for the embedded and local backends.

What it follows (kubernetes/kubernetes, pkg/controller/podautoscaler):

- replica_calculator.go ``GetResourceReplicas`` / ``groupPods``: utilization is
  ``sum(usage) * 100 / sum(requests)`` in integer percent over the pods that have metrics;
  ``ratio = utilization / target``; no change while ``1 - tolerance <= ratio <= 1 + tolerance``
  (``Tolerances.isWithin``); otherwise ``ceil(ratio * readyPods)``. Pending pods and, for cpu,
  pods that are not ready are set aside; pods without metrics are "missing". If there are missing
  pods, or unready ones on a scale-up, the ratio is recomputed with missing pods at
  ``max(100, target)`` % (scale-down) or 0 % (scale-up) and unready pods at 0 % (scale-up only);
  no change if the recomputed ratio is within tolerance, flips direction, or the count would move
  the other way. Within the cpu-initialization period a ready pod's cpu sample is set aside too
  when its measurement window began before the pod's last readiness transition
  (``metric.Timestamp.Before(LastTransitionTime + metric.Window)``).
- The tolerance test by Kubernetes version (``kubernetes_version``): from 1.33
  ``1 - down <= ratio <= 1 + up`` (``Tolerances.isWithin``, per-direction tolerances in
  ``behavior``); up to 1.32 ``math.Abs(1.0 - usageRatio) <= tolerance``, which in floating point
  scales at exactly 77 % of a 70 % target (|1 - 1.1| is a hair above 0.1) where 1.33 does not.
- horizontal.go ``computeReplicasForMetrics``: each metric proposes a count, the largest wins; if a
  metric cannot be computed, no scale-down happens (and nothing at all if none can).
- horizontal.go ``reconcileAutoscaler``: 0 current replicas disables scaling; above maxReplicas
  goes to max, below minReplicas to min, without consulting the metrics.
- horizontal.go ``stabilizeRecommendationWithBehaviors``: the recommendation is bounded below by
  the lowest recommendation within the scale-up window and above by the highest within the
  scale-down window (windows exclude their oldest instant); the first sync records the current
  count as a recommendation (``recordInitialRecommendation``).
- horizontal.go ``convertDesiredReplicasWithBehaviorRate`` with
  ``calculateScaleUpLimitWithScalingRules`` / ``calculateScaleDownLimitWithBehaviors``: each
  policy's limit counts from the replica count at the start of its period (current minus what was
  added plus what was removed within the period); selectPolicy Max takes the policy allowing the
  largest change, Min the smallest, Disabled forbids the direction; then [minReplicas,
  maxReplicas].
- Without ``spec.behavior`` (``HpaSpec.has_behavior`` False), the legacy path
  (``normalizeDesiredReplicas``): the highest recommendation of the scale-down window, then
  [minReplicas, min(maxReplicas, max(2 x current, 4))]. With behavior set that fixed scale-up
  limit does not apply; the default scale-up policies (4 pods or 100 % per 15 s) replace it.

Not emulated: container-level resource metrics; metric types other than Resource utilization.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from enum import StrEnum
from typing import Any

from harness.config.k8s import HpaMetricTarget, HpaSpec, Resources, ScalingRules

__all__ = [
    "DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS",
    "DEFAULT_INITIAL_READINESS_DELAY_SECONDS",
    "DEFAULT_SYNC_PERIOD_SECONDS",
    "DEFAULT_TOLERANCE",
    "NEWEST_KUBERNETES",
    "Autoscaler",
    "AutoscalerLoop",
    "Decision",
    "MetricRecommendation",
    "PodSample",
    "Reason",
    "metric_recommendation",
    "parse_kubernetes_version",
]

# kube-controller-manager defaults: --horizontal-pod-autoscaler-sync-period, -tolerance,
# -cpu-initialization-period, -initial-readiness-delay.
DEFAULT_SYNC_PERIOD_SECONDS = 15.0
DEFAULT_TOLERANCE = 0.1
DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS = 300.0
DEFAULT_INITIAL_READINESS_DELAY_SECONDS = 30.0
# horizontal.go: scaleUpLimitFactor, scaleUpLimitMinimum (legacy path only).
LEGACY_SCALE_UP_FACTOR = 2.0
LEGACY_SCALE_UP_MINIMUM = 4.0
# The newest controller behaviour emulated; 1.33 changed the tolerance test (Tolerances.isWithin).
NEWEST_KUBERNETES = (1, 33)
BAND_TOLERANCE_SINCE = (1, 33)


def parse_kubernetes_version(text: str) -> tuple[int, int]:
    """``"1.32"`` (or ``"v1.32.4"``) as ``(1, 32)``; ValueError for anything else."""
    parts = text.strip().removeprefix("v").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]) or len(parts) > 3:
        raise ValueError(f"{text!r} is not a Kubernetes version such as 1.33")
    return int(parts[0]), int(parts[1])


class Reason(StrEnum):
    """Why a decision (or one metric's proposal) came out as it did.

    For a decision, the last stage that determined the applied count: the metrics
    (within-tolerance, scale-up, scale-down), the stabilization window (stabilized), a scaling
    policy or the legacy scale-up limit (limited-by-policy), the HPA bounds (clamped-min,
    clamped-max), no usable metrics (no-metrics), or 0 current replicas (scaling-disabled).
    """

    WITHIN_TOLERANCE = "within-tolerance"
    SCALE_UP = "scale-up"
    SCALE_DOWN = "scale-down"
    STABILIZED = "stabilized"
    LIMITED_BY_POLICY = "limited-by-policy"
    CLAMPED_MIN = "clamped-min"
    CLAMPED_MAX = "clamped-max"
    NO_METRICS = "no-metrics"
    SCALING_DISABLED = "scaling-disabled"


@dataclass(frozen=True)
class PodSample:
    """One replica at one instant: readiness and resource usage (None: no metric for it).

    ``started_at`` and ``ready_changed_at`` (same clock as ``decide``'s ``now``) enable
    Kubernetes' cpu-initialization rules; without them a not-ready pod is simply set aside for
    cpu. ``cpu_window_start``: when the cpu measurement's window began (metrics-server's
    ``timestamp - window``); None: unknown, the window rule does not apply. ``pending``: not
    started yet (set aside for every metric). ``terminating``: being deleted (ignored entirely).
    """

    name: str
    ready: bool
    cpu_millicores: float | None
    memory_bytes: float | None
    started_at: float | None = None
    ready_changed_at: float | None = None
    cpu_window_start: float | None = None
    pending: bool = False
    terminating: bool = False

    def __post_init__(self) -> None:
        for value in (self.cpu_millicores, self.memory_bytes):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"pod {self.name}: usage must be finite and >= 0, got {value!r}")

    def usage(self, resource: str) -> float | None:
        return self.cpu_millicores if resource == "cpu" else self.memory_bytes


@dataclass(frozen=True)
class MetricRecommendation:
    """One metric's proposal. ``replicas`` None means the metric could not be computed."""

    metric: str
    utilization_percent: int | None
    target_percent: int
    ratio: float | None
    replicas: int | None
    reason: Reason
    ready_pods: int = 0
    unready_pods: int = 0
    missing_pods: int = 0
    message: str = ""


@dataclass(frozen=True)
class Decision:
    """One sync.

    ``recommended``: the largest per-metric proposal (before stabilization and limits).
    ``desired``: the recommendation after the stabilization window.
    ``applied``: the replica count to set, after scaling policies and [min, max] (what the
    Kubernetes controller writes to the Deployment and reports as status.desiredReplicas).
    """

    time: float
    current: int
    per_metric: tuple[MetricRecommendation, ...]
    recommended: int
    desired: int
    applied: int
    reason: Reason
    message: str = ""

    @property
    def changed(self) -> bool:
        return self.applied != self.current

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (reasons as their strings)."""
        data = asdict(self)
        data["reason"] = str(self.reason)
        for metric in data["per_metric"]:
            metric["reason"] = str(metric["reason"])
        return data


@dataclass(frozen=True)
class _Tolerances:
    down: float
    up: float
    band: bool = True  # Kubernetes >= 1.33; else the symmetric absolute test of <= 1.32

    def within(self, ratio: float) -> bool:
        if not self.band:
            return math.fabs(1.0 - ratio) <= self.up
        return (1.0 - self.down) <= ratio <= (1.0 + self.up)

    def describe(self) -> str:
        if not self.band:
            return f"|1 - ratio| <= {self.up:.2f}"
        return f"[{1.0 - self.down:.2f}, {1.0 + self.up:.2f}]"


# --------------------------------------------------------------------------- one metric


def metric_recommendation(
    target: HpaMetricTarget,
    request: int,
    pods: Sequence[PodSample],
    current_replicas: int,
    now: float,
    *,
    tolerance: float | tuple[float, float] = DEFAULT_TOLERANCE,
    cpu_initialization_period_seconds: float = DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS,
    initial_readiness_delay_seconds: float = DEFAULT_INITIAL_READINESS_DELAY_SECONDS,
    kubernetes_version: tuple[int, int] = NEWEST_KUBERNETES,
) -> MetricRecommendation:
    """Replicas one resource-utilization metric asks for (replica_calculator.go).

    ``request`` is the per-pod request (millicores or bytes); ``tolerance`` one value or
    ``(scale_down, scale_up)`` (per direction only from Kubernetes 1.33).
    """
    if request <= 0:
        raise ValueError(f"the {target.resource} request must be > 0, got {request}")
    down, up = tolerance if isinstance(tolerance, tuple) else (tolerance, tolerance)
    band = kubernetes_version >= BAND_TOLERANCE_SINCE
    if not band and down != up:
        raise ValueError(f"Kubernetes {kubernetes_version[0]}.{kubernetes_version[1]} has one "
                         f"tolerance for both directions, got down {down} and up {up}")
    tolerances = _Tolerances(down=down, up=up, band=band)
    resource, goal = target.resource, target.average_utilization
    usage: dict[str, int] = {}
    unready: list[str] = []
    missing: list[str] = []
    for pod in pods:
        if pod.terminating:
            continue
        if pod.pending:
            unready.append(pod.name)
            continue
        value = pod.usage(resource)
        if value is None:
            missing.append(pod.name)
            continue
        if resource == "cpu" and _cpu_unready(
            pod, now, cpu_initialization_period_seconds, initial_readiness_delay_seconds
        ):
            unready.append(pod.name)
            continue
        usage[pod.name] = math.ceil(value)  # Quantity.MilliValue() rounds up
    ready = len(usage)

    def result(
        replicas: int | None, reason: Reason, utilization: int | None, message: str
    ) -> MetricRecommendation:
        ratio = None if utilization is None else utilization / goal
        return MetricRecommendation(
            resource, utilization, goal, ratio, replicas, reason,
            ready, len(unready), len(missing), message,
        )  # fmt: skip

    if not usage:
        return result(None, Reason.NO_METRICS, None, "no metrics for any ready pod")
    utilization = _utilization(usage.values(), request)
    ratio = utilization / goal
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.within(ratio):
            note = f"ratio {ratio:.3f} within tolerance {tolerances.describe()}"
            return result(current_replicas, Reason.WITHIN_TOLERANCE, utilization, note)
        replicas = math.ceil(ratio * ready)
        note = f"ceil({ratio:.3f} x {ready} ready pods)"
        return result(replicas, _direction(replicas, current_replicas), utilization, note)

    filled = list(usage.values())
    if missing and ratio < 1.0:
        filled += [request * max(100, goal) // 100] * len(missing)
    elif missing and ratio > 1.0:
        filled += [0] * len(missing)
    if scale_up_with_unready:
        filled += [0] * len(unready)
    new_ratio = _utilization(filled, request) / goal
    note = (
        f"recomputed with {len(missing)} missing and {len(unready)} unready pods: {new_ratio:.2f}"
    )
    flipped = (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio)
    if tolerances.within(new_ratio) or flipped:
        return result(current_replicas, Reason.WITHIN_TOLERANCE, utilization, note)
    replicas = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and replicas > current_replicas) or (
        new_ratio > 1.0 and replicas < current_replicas
    ):
        return result(current_replicas, Reason.WITHIN_TOLERANCE, utilization, note)
    return result(replicas, _direction(replicas, current_replicas), utilization, note)


def _utilization(usage: Iterable[int], request: int) -> int:
    """Integer percent of the summed requests, truncated (metrics/utilization.go)."""
    values = list(usage)
    return (sum(values) * 100) // (request * len(values))


def _direction(replicas: int, current: int) -> Reason:
    if replicas > current:
        return Reason.SCALE_UP
    if replicas < current:
        return Reason.SCALE_DOWN
    return Reason.WITHIN_TOLERANCE


def _cpu_unready(pod: PodSample, now: float, init_period: float, readiness_delay: float) -> bool:
    """groupPods: whether a pod's cpu sample is set aside as unready."""
    if pod.started_at is None or pod.ready_changed_at is None:
        return not pod.ready
    if pod.started_at + init_period > now:
        # Still initializing: also set aside a sample measured partly before the transition.
        window_began_before = (pod.cpu_window_start is not None
                               and pod.cpu_window_start < pod.ready_changed_at)
        return not pod.ready or window_began_before
    # After the initialization period only a pod that never became ready is set aside.
    return not pod.ready and pod.started_at + readiness_delay > pod.ready_changed_at


# --------------------------------------------------------------------------- the controller


@dataclass(eq=False)
class Autoscaler:
    """The HPA controller for one scale target; keeps its own recommendation and event history.

    The settings after ``requests`` are Kubernetes' defaults unless given (keyword only);
    ``decisions`` is every decision so far, oldest first.
    """

    hpa: HpaSpec
    requests: Resources
    _: KW_ONLY
    tolerance: float = DEFAULT_TOLERANCE
    sync_period_seconds: float = DEFAULT_SYNC_PERIOD_SECONDS
    cpu_initialization_period_seconds: float = DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS
    initial_readiness_delay_seconds: float = DEFAULT_INITIAL_READINESS_DELAY_SECONDS
    kubernetes_version: tuple[int, int] = NEWEST_KUBERNETES  # the controller emulated
    # The controller's memory: recommendations and scale events (behavior), what it decided.
    _recommendations: list[tuple[float, int]] = field(default_factory=list, init=False)
    _scale_up_events: list[tuple[float, int]] = field(default_factory=list, init=False)
    _scale_down_events: list[tuple[float, int]] = field(default_factory=list, init=False)
    _decisions: list[Decision] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        hpa, version = self.hpa, self.kubernetes_version
        for metric in hpa.metrics:
            if not self.requests.get(metric.resource):
                raise ValueError(f"the HPA scales on {metric.resource} but its request is unset")
        if self.tolerance < 0 or self.sync_period_seconds <= 0:
            raise ValueError("tolerance must be >= 0 and sync_period_seconds > 0")
        per_direction = hpa.scale_up.tolerance is not None or hpa.scale_down.tolerance is not None
        if version < BAND_TOLERANCE_SINCE and hpa.has_behavior and per_direction:
            raise ValueError("behavior.scaleUp/scaleDown.tolerance needs Kubernetes 1.33 or "
                             f"newer, not {version[0]}.{version[1]}")

    @property
    def decisions(self) -> tuple[Decision, ...]:
        with self._lock:
            return tuple(self._decisions)

    def decide(self, now: float, current_replicas: int, pods: Sequence[PodSample]) -> Decision:
        """One sync at time ``now`` (seconds, any monotonic origin); the caller applies it."""
        with self._lock:
            if self._decisions and now < self._decisions[-1].time:
                raise ValueError(f"time went backwards: {now} < {self._decisions[-1].time}")
            if current_replicas < 0:
                raise ValueError(f"current_replicas must be >= 0, got {current_replicas}")
            if len({pod.name for pod in pods}) != len(pods):
                raise ValueError("pod names must be unique")
            decision = self._decide(now, current_replicas, pods)
            if decision.changed and self.hpa.has_behavior:
                self._store_scale_event(now, current_replicas, decision.applied)
            self._decisions.append(decision)
            return decision

    def _decide(self, now: float, current: int, pods: Sequence[PodSample]) -> Decision:
        hpa = self.hpa
        if not self._recommendations and not self._decisions:
            self._recommendations.append((now, current))
        per_metric = tuple(self._metric(m, current, pods, now) for m in hpa.metrics)
        valid = [m.replicas for m in per_metric if m.replicas is not None]
        recommended = max(valid) if valid else current

        def decision(desired: int, applied: int, reason: Reason, message: str) -> Decision:
            return Decision(
                now, current, per_metric, recommended, desired, applied, reason, message
            )

        if current == 0 and hpa.min_replicas != 0:
            return decision(0, 0, Reason.SCALING_DISABLED, "0 replicas: autoscaling is disabled")
        if current > hpa.max_replicas:
            return decision(hpa.max_replicas, hpa.max_replicas, Reason.CLAMPED_MAX, "above max")
        if current < hpa.min_replicas:
            return decision(hpa.min_replicas, hpa.min_replicas, Reason.CLAMPED_MIN, "below min")
        if not valid or (len(valid) < len(per_metric) and recommended < current):
            return decision(current, current, Reason.NO_METRICS, "not every metric is available")
        if hpa.has_behavior:
            desired = self._stabilize(now, current, recommended)
            applied, limiter = self._limit_rate(now, current, desired)
        else:
            desired = self._stabilize_legacy(now, recommended)
            applied, limiter = self._limit_legacy(current, desired)
        if applied != desired:
            reason = limiter
        elif desired != recommended:
            reason = Reason.STABILIZED
        else:
            reason = _direction(applied, current)
        message = f"recommended {recommended}, stabilized {desired}, applied {applied}"
        return decision(desired, applied, reason, message)

    def _metric(
        self, target: HpaMetricTarget, current: int, pods: Sequence[PodSample], now: float
    ) -> MetricRecommendation:
        tolerance: tuple[float, float] = (self.tolerance, self.tolerance)
        if self.hpa.has_behavior:
            down, up = self.hpa.scale_down.tolerance, self.hpa.scale_up.tolerance
            tolerance = (
                self.tolerance if down is None else down,
                self.tolerance if up is None else up,
            )
        request = self.requests.get(target.resource) or 0
        return metric_recommendation(
            target,
            request,
            pods,
            current,
            now,
            tolerance=tolerance,
            cpu_initialization_period_seconds=self.cpu_initialization_period_seconds,
            initial_readiness_delay_seconds=self.initial_readiness_delay_seconds,
            kubernetes_version=self.kubernetes_version,
        )

    # -- stabilization

    def _stabilize(self, now: float, current: int, recommended: int) -> int:
        up_cutoff = now - self.hpa.scale_up.stabilization_window_seconds
        down_cutoff = now - self.hpa.scale_down.stabilization_window_seconds
        lowest = highest = recommended
        for at, replicas in self._recommendations:
            if at > up_cutoff:
                lowest = min(lowest, replicas)
            if at > down_cutoff:
                highest = max(highest, replicas)
        # Samples older than both windows never count again (Kubernetes reuses their slots).
        oldest = min(up_cutoff, down_cutoff)
        self._recommendations = [r for r in self._recommendations if r[0] >= oldest]
        self._recommendations.append((now, recommended))
        return min(max(current, lowest), highest)

    def _stabilize_legacy(self, now: float, recommended: int) -> int:
        cutoff = now - self.hpa.scale_down.stabilization_window_seconds
        kept = [r for r in self._recommendations if r[0] >= cutoff]
        highest = max([recommended, *(replicas for _, replicas in kept)])
        self._recommendations = [*kept, (now, recommended)]
        return highest

    # -- rate limits and bounds

    def _limit_rate(self, now: float, current: int, desired: int) -> tuple[int, Reason]:
        hpa = self.hpa
        if desired > current:
            limit = max(self._scale_limit(now, current, hpa.scale_up, up=True), current)
            if hpa.max_replicas > limit:
                return min(desired, limit), Reason.LIMITED_BY_POLICY
            return min(desired, hpa.max_replicas), Reason.CLAMPED_MAX
        if desired < current:
            limit = min(self._scale_limit(now, current, hpa.scale_down, up=False), current)
            if hpa.min_replicas < limit:
                return max(desired, limit), Reason.LIMITED_BY_POLICY
            return max(desired, hpa.min_replicas), Reason.CLAMPED_MIN
        return desired, Reason.WITHIN_TOLERANCE

    def _limit_legacy(self, current: int, desired: int) -> tuple[int, Reason]:
        hpa = self.hpa
        limit = int(max(LEGACY_SCALE_UP_FACTOR * current, LEGACY_SCALE_UP_MINIMUM))
        ceiling, limiter = (
            (limit, Reason.LIMITED_BY_POLICY)
            if hpa.max_replicas > limit
            else (hpa.max_replicas, Reason.CLAMPED_MAX)
        )
        if desired < hpa.min_replicas:
            return hpa.min_replicas, Reason.CLAMPED_MIN
        if desired > ceiling:
            return ceiling, limiter
        return desired, Reason.WITHIN_TOLERANCE

    def _period_start(self, now: float, current: int, period_seconds: int) -> int:
        cutoff = now - period_seconds
        added = sum(change for at, change in self._scale_up_events if at > cutoff)
        removed = sum(change for at, change in self._scale_down_events if at > cutoff)
        return current - added + removed

    def _scale_limit(self, now: float, current: int, rules: ScalingRules, up: bool) -> int:
        """The replicas the policies allow this period: upstream's
        calculateScaleUpLimitWithScalingRules (up) and calculateScaleDownLimitWithBehaviors,
        which differ only in the direction of each proposal and of the selection."""
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now, current, policy.period_seconds)
            if policy.type == "Pods":
                proposals.append(start + policy.value if up else start - policy.value)
            elif up:  # the proposal is rounded up so that a small Percent still allows one pod
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        if not proposals:
            return current
        # Max selects the policy that allows the largest change, Min the smallest.
        largest_change = max(proposals) if up else min(proposals)
        smallest_change = min(proposals) if up else max(proposals)
        return smallest_change if rules.select_policy == "Min" else largest_change

    def _store_scale_event(self, now: float, previous: int, applied: int) -> None:
        longest = max(
            self.hpa.scale_up.longest_period_seconds, self.hpa.scale_down.longest_period_seconds
        )
        cutoff = now - longest
        self._scale_up_events = [e for e in self._scale_up_events if e[0] > cutoff]
        self._scale_down_events = [e for e in self._scale_down_events if e[0] > cutoff]
        if applied > previous:
            self._scale_up_events.append((now, applied - previous))
        else:
            self._scale_down_events.append((now, previous - applied))


# --------------------------------------------------------------------------- the loop


class AutoscalerLoop:
    """Drives an Autoscaler every sync period: ``sample()`` -> ``decide`` -> ``scale(n)``.

    ``sample`` returns ``(current_replicas, pods)``; ``scale`` is called only when the count
    changes. ``clock`` (monotonic: a wall-clock step must not move the schedule) and ``wait``
    are injectable: ``wait(seconds)`` sleeps and returns True when the loop should stop (default:
    the stop event's ``wait``). The first sync comes one period after the start, as the
    controller's first resync does; then one period after each sync's start. ``scale`` only
    writes the new count (the replica set starts pods in the background), so syncs go on while
    pods start. Exceptions from ``sample``/``scale`` propagate and end ``run``.
    """

    def __init__(
        self,
        autoscaler: Autoscaler,
        *,
        sample: Callable[[], tuple[int, Sequence[PodSample]]],
        scale: Callable[[int], None],
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
        stop: threading.Event | None = None,
        on_decision: Callable[[Decision], None] | None = None,
    ) -> None:
        self.autoscaler = autoscaler
        self.stop_event = stop if stop is not None else threading.Event()
        self._sample = sample
        self._scale = scale
        self._clock = clock
        self._wait = wait if wait is not None else self.stop_event.wait
        self._on_decision = on_decision

    def stop(self) -> None:
        self.stop_event.set()

    def step(self) -> Decision:
        """One sync, now."""
        current, pods = self._sample()
        decision = self.autoscaler.decide(self._clock(), current, pods)
        if decision.changed:
            self._scale(decision.applied)
        if self._on_decision is not None:
            self._on_decision(decision)
        return decision

    def run(self, duration_seconds: float, *, max_syncs: int | None = None) -> int:
        """Sync every period until ``duration_seconds`` pass, ``max_syncs`` are done, or stop.

        Returns the number of syncs. Bounded in time and in count.
        """
        if not (duration_seconds > 0 and math.isfinite(duration_seconds)):
            raise ValueError(f"duration_seconds must be finite and > 0, got {duration_seconds!r}")
        period = self.autoscaler.sync_period_seconds
        limit = math.ceil(duration_seconds / period) + 1 if max_syncs is None else max_syncs
        start = self._clock()
        deadline = start + duration_seconds
        next_sync = start + period
        syncs = 0
        while syncs < limit and not self.stop_event.is_set():
            now = self._clock()
            if now >= deadline:
                break
            if now < next_sync:
                if self._wait(min(next_sync, deadline) - now):
                    break
                continue
            self.step()
            syncs += 1
            next_sync = now + period  # fixed rate from each sync's start; no catch-up bursts
        return syncs
