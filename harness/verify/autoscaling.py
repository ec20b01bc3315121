"""Autoscaling checks: bounds, time to scale up, the SLO through the scale-up, the replicas it
reached, scale-down stabilization, no flapping.

Times are seconds since the load started. The evidence is the autoscaler's own decisions, each
with the per-metric utilization that drove it.

The time to scale up is bounded as Kubernetes' own HPA e2e tests bound it
(kubernetes/kubernetes test/e2e/autoscaling/horizontal_pod_autoscaling_behavior.go):
``maxHPAReactionTime = metricsAvailableDelay + hpaReconciliationInterval + actuationDelay``, where
``metricsAvailableDelay = fullWindowOfNewUsage (30 s) + windowWithOldUsagePasses (30 s) +
newPodMetricsDelay (15 s)``, ``hpaReconciliationInterval`` is the 15 s sync (here: the run's sync
period) and ``actuationDelay`` 10 s: 100 s at Kubernetes' clock, until the Deployment's
readyReplicas reach the new count. Those tests add ``maxResourceConsumerDelay`` (50 s) for their
load tool; the harness's load has no such delay, so it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.config.k8s import HpaSpec
from harness.config.model import SloSpec
from harness.load.aggregate import aggregate, in_window
from harness.load.health import saturation_evidence
from harness.load.records import LoadResult
from harness.stack.autoscaler import DEFAULT_SYNC_PERIOD_SECONDS, DEFAULT_TOLERANCE, Decision
from harness.stack.scaling import ReplicaCount
from harness.verify.check import CheckResult, Verdict, Window, skipped

__all__ = ["ACTUATION_DELAY", "METRICS_AVAILABLE_DELAY", "LoadPlanned", "autoscaling_checks",
           "reaction_bound"]

# horizontal_pod_autoscaling_behavior.go: metricsAvailableDelay and actuationDelay (seconds).
METRICS_AVAILABLE_DELAY = 30.0 + 30.0 + 15.0
ACTUATION_DELAY = 10.0


def reaction_bound(sync_period: float) -> float:
    """maxHPAReactionTime of Kubernetes' HPA e2e tests, with this run's sync period."""
    return METRICS_AVAILABLE_DELAY + sync_period + ACTUATION_DELAY


@dataclass(frozen=True)
class LoadPlanned:
    """What the run meant to do to the HPA: the highest utilization its calibrated stages were
    sized for (x target), and how much of the planned request rate went out."""

    highest_ratio: float
    sent_rps: float
    intended_rps: float


def _ratio(decision: Decision) -> float:
    ratios = [m.ratio for m in decision.per_metric if m.ratio is not None]
    return max(ratios) if ratios else 0.0


def _hot(decision: Decision, tolerance: float) -> bool:
    return _ratio(decision) > 1.0 + tolerance


def autoscaling_checks(
    decisions: Sequence[Decision],
    counts: Sequence[ReplicaCount],
    hpa: HpaSpec,
    *,
    origin: float,
    duration: float,
    sync_period: float,
    startup_budget: float,
    tolerance: float = DEFAULT_TOLERANCE,
    load: LoadResult | None = None,
    slo: SloSpec | None = None,
    planned: LoadPlanned | None = None,
) -> tuple[CheckResult, ...]:
    whole = Window(0.0, round(duration, 3), "whole run")
    checks = [_bounds(counts, hpa, whole)]
    up = _scale_up(decisions, counts, hpa, origin, whole, sync_period, startup_budget,
                   tolerance, planned)
    checks.append(up)
    if load is not None and slo is not None:
        checks += _slo_through_scale_up(up, load, slo, sync_period)
    checks.append(_replicas_reached(decisions, counts, hpa, origin, tolerance, up))
    window = float(hpa.scale_down.stabilization_window_seconds)
    checks.append(_stabilization(decisions, origin, window, whole, tolerance, sync_period,
                                 hpa.min_replicas))
    checks.append(_flapping(decisions, origin, window, whole))
    return tuple(checks)


def _bounds(counts: Sequence[ReplicaCount], hpa: HpaSpec, whole: Window) -> CheckResult:
    title = "Replicas stay within the HPA's bounds"
    if not counts:
        return CheckResult("autoscaling.bounds", title, Verdict.SKIPPED, None, None, "replicas",
                           "<=", whole, "no replica counts recorded", reason="no samples")
    low = min(c.replicas for c in counts)
    high = max(c.replicas for c in counts)
    ok = hpa.min_replicas <= low and high <= hpa.max_replicas
    return CheckResult(
        "autoscaling.bounds", title, Verdict.PASS if ok else Verdict.FAIL, float(high),
        float(hpa.max_replicas), "replicas", "<=", whole,
        f"replicas ranged {low}-{high} over {len(counts)} syncs; "
        f"HPA allows {hpa.min_replicas}-{hpa.max_replicas}",
    )


def _scale_up(decisions: Sequence[Decision], counts: Sequence[ReplicaCount], hpa: HpaSpec,
              origin: float, whole: Window, sync_period: float, startup_budget: float,
              tolerance: float, planned: LoadPlanned | None = None) -> CheckResult:
    title = "Scale-up follows high utilization in bounded time"
    bound = round(reaction_bound(sync_period), 3)
    hot = [d for d in decisions if _hot(d, tolerance)]
    if not hot:
        highest = max((_ratio(d) for d in decisions), default=0.0)
        reason = (f"utilization never rose above target + {tolerance:.0%} "
                  f"(highest ratio {highest:.2f} of target)")
        if planned is not None and planned.highest_ratio > 1.0 + tolerance:
            # The run meant to cross the threshold and did not: the load never got there, so
            # the HPA was not tested, which is no pass and no skip (like a saturated generator).
            evidence = (f"the load was sized for {planned.highest_ratio:.2f}x the CPU target "
                        f"but the replicas reached at most {highest:.2f}x; "
                        f"{planned.sent_rps:.0f} req/s went out of {planned.intended_rps:.0f} "
                        "planned in those stages: the replicas did not get the CPU the load "
                        "needed (is this machine busy?), so the HPA was never tested")
            return CheckResult("autoscaling.scale-up", title, Verdict.UNTRUSTED, round(highest, 3),
                               bound, "s", "<=", whole, evidence, reason=evidence)
        return skipped("autoscaling.scale-up", title, reason, threshold=bound, unit="s",
                       window=whole)
    first = hot[0]
    start_count = first.current
    # Ready replicas: a sync only writes the count, the new replicas are added once ready.
    reached = next((c for c in counts
                    if c.t >= first.time and c.ready_replicas > start_count), None)
    if reached is None:
        if start_count >= hpa.max_replicas:
            reason = f"already at the most replicas allowed ({start_count}) when utilization rose"
            return skipped("autoscaling.scale-up", title, reason, threshold=bound, unit="s",
                           window=whole)
        left = whole.end - (first.time - origin)
        if left < bound:  # the run ended before the bound: no verdict either way
            evidence = (f"utilization reached {_ratio(first):.2f}x target at "
                        f"{first.time - origin:.0f}s with {start_count} replicas, but the run "
                        f"ended {left:.0f}s later, before the {bound:g}s bound and before a new "
                        "replica was ready: too short to judge the scale-up")
            return CheckResult("autoscaling.scale-up", title, Verdict.UNTRUSTED, None, bound, "s",
                               "<=", whole, evidence, reason=evidence)
        return CheckResult(
            "autoscaling.scale-up", title, Verdict.FAIL, None, bound, "s", "<=",
            Window(round(first.time - origin, 3), whole.end, "after utilization rose"),
            f"utilization reached {_ratio(first):.2f}x target at {first.time - origin:.0f}s "
            f"with {start_count} replicas, and no replica was added afterwards",
        )
    elapsed = reached.t - first.time
    window = Window(round(first.time - origin, 3), round(reached.t - origin, 3), "scale-up")
    return CheckResult(
        "autoscaling.scale-up", title, Verdict.PASS if elapsed <= bound else Verdict.FAIL,
        round(elapsed, 3), bound, "s", "<=", window,
        f"utilization {_ratio(first):.2f}x target at {first.time - origin:.0f}s with "
        f"{start_count} replicas; {reached.ready_replicas} replicas ready {elapsed:.1f}s later "
        f"(bound {bound:g}s: Kubernetes' HPA e2e maxHPAReactionTime, metrics "
        f"{METRICS_AVAILABLE_DELAY:g}s + sync {sync_period:g}s + actuation {ACTUATION_DELAY:g}s)",
    )


def _slo_through_scale_up(up: CheckResult, load: LoadResult, slo: SloSpec,
                          sync_period: float) -> list[CheckResult]:
    """Does the HPA protect the SLO? p95, p99 and errors from the first sync that saw the
    utilization too high until one sync after the new replicas were ready."""
    limits = (("p95", slo.latency.p95_ms, "ms"), ("p99", slo.latency.p99_ms, "ms"),
              ("error-rate", slo.max_error_percent, "%"))
    ids = [f"autoscaling.scale-up-slo.{key}" for key, _, _ in limits]
    titles = [f"SLO {key} held through the scale-up" for key, _, _ in limits]
    if up.verdict not in (Verdict.PASS, Verdict.FAIL) or up.window is None:
        reason = f"no scale-up to judge it through: {up.reason or up.evidence}"
        return [skipped(i, t, reason, threshold=limit, unit=unit, window=up.window)
                for i, t, (_, limit, unit) in zip(ids, titles, limits, strict=True)]
    start = up.window.start
    end = (up.window.end if up.verdict is Verdict.PASS
           else start + reaction_bound(sync_period)) + sync_period
    window = Window(round(start, 3), round(end, 3), "scale-up")
    chosen = in_window(load.intervals, start, end)
    stats = aggregate(chosen)
    saturation = saturation_evidence(chosen, load.stages[-1].end if load.stages else None)
    checks = []
    for check_id, title, (key, limit, unit) in zip(ids, titles, limits, strict=True):
        if limit is None:
            continue
        if not stats.requests:
            reason = "no requests in the scale-up window"
            checks.append(skipped(check_id, title, reason, threshold=limit, unit=unit,
                                  window=window))
            continue
        observed = (stats.error_percent if key == "error-rate"
                    else stats.judged.percentile(key))
        verdict = Verdict.PASS if observed <= limit else Verdict.FAIL
        evidence = (f"{key} {observed:.2f} {unit} over {stats.requests} requests "
                    f"({stats.failures} failed) from {start:.0f}s to {end:.0f}s (first sync above "
                    f"target + tolerance until one sync after the new replicas were ready); "
                    f"limit {limit:g} {unit}")
        if saturation and key != "error-rate":
            evidence += (f". Untrusted (would be {verdict.value}): the load generator saturated "
                         f"in {saturation}")
            verdict = Verdict.UNTRUSTED
        checks.append(CheckResult(check_id, title, verdict, round(observed, 3), limit, unit,
                                  "<=", window, evidence))
    return checks


def _formula(decision: Decision, hpa: HpaSpec, tolerance: float) -> int:
    """The HPA's count for what this sync measured: per metric ceil(utilization / target x
    ready pods) beyond the tolerance, the largest, limited by the scale-up policies, clamped."""
    current = decision.current
    wanted = current
    for metric in decision.per_metric:
        if metric.utilization_percent is None or not metric.ready_pods:
            continue
        ratio = metric.utilization_percent / metric.target_percent
        if abs(ratio - 1.0) > tolerance:
            wanted = max(wanted, math.ceil(round(ratio * metric.ready_pods, 9)))
    limit = max(current + 4, 2 * current)  # default policies: 4 pods or 100 % per period
    return max(hpa.min_replicas, min(wanted, limit, hpa.max_replicas))


def _replicas_reached(decisions: Sequence[Decision], counts: Sequence[ReplicaCount],
                      hpa: HpaSpec, origin: float, tolerance: float,
                      up: CheckResult) -> CheckResult:
    """Replicas ready once the HPA settled (the first sync no longer above target + tolerance)
    against the formula for the utilization the last sync above it measured."""
    title = "Scale-up reached the replicas the HPA formula gives"
    check_id = "autoscaling.scale-up-replicas"
    hot = [d for d in decisions if _hot(d, tolerance)]
    if up.verdict not in (Verdict.PASS, Verdict.FAIL) or not hot:
        reason = f"no scale-up to count: {up.reason or up.evidence}"
        return skipped(check_id, title, reason, unit="replicas", comparison="==",
                       window=up.window)
    first = hot[0]
    settle = next((d for d in decisions if d.time > first.time and not _hot(d, tolerance)), None)
    last_hot = [d for d in hot if settle is None or d.time < settle.time][-1]
    expected = _formula(last_hot, hpa, tolerance)
    at = settle.time if settle is not None else (counts[-1].t if counts else last_hot.time)
    seen = [c for c in counts if c.t <= at]
    reached = seen[-1].ready_replicas if seen else last_hot.current
    metric = max((m for m in last_hot.per_metric if m.ratio is not None),
                 key=lambda m: m.ratio or 0.0, default=None)
    measured = (f"{metric.metric} {metric.utilization_percent} % of request "
                f"({metric.ratio:.2f}x target) on {metric.ready_pods} ready replicas"
                if metric is not None and metric.ratio is not None else "no metric")
    window = Window(round(first.time - origin, 3), round(at - origin, 3), "scale-up")
    when = (f"when the HPA settled at {at - origin:.0f}s" if settle is not None
            else "at the end (utilization stayed above target + tolerance)")
    return CheckResult(
        check_id, title, Verdict.PASS if reached == expected else Verdict.FAIL, float(reached),
        float(expected), "replicas", "==", window,
        f"{reached} replicas ready {when}; the last sync above target + tolerance "
        f"({last_hot.time - origin:.0f}s) measured {measured}, for which the HPA formula gives "
        f"{expected} (ceil(utilization / target x ready replicas), within {hpa.min_replicas}-"
        f"{hpa.max_replicas})",
    )


def _no_scale_down(decisions: Sequence[Decision], origin: float, window: float, whole: Window,
                   tolerance: float, sync_period: float, min_replicas: int) -> CheckResult:
    """No scale-down: a failure if one was due (utilization below target - tolerance with a
    lower recommendation, a whole window after the last higher one), else a skip with numbers."""
    title = "Scale-down only after the stabilization window"
    check_id = "autoscaling.scale-down-stabilization"
    for decision in decisions:
        higher = [d.time for d in decisions
                  if d.time < decision.time and d.recommended >= decision.current]
        waited = decision.time - max(higher) if higher else decision.time - decisions[0].time
        low = 0.0 < _ratio(decision) < 1.0 - tolerance
        lower = max(decision.recommended, min_replicas) < decision.current
        if low and lower and waited > window + sync_period:
            evidence = (f"no scale-down, though at {decision.time - origin:.0f}s utilization was "
                        f"{_ratio(decision):.2f}x target with {decision.current} replicas "
                        f"(recommended {decision.recommended}) and the last recommendation of "
                        f"{decision.current} or more was {waited:.0f}s before; window {window:g}s")
            return CheckResult(check_id, title, Verdict.FAIL, round(waited, 3), window, "s", ">=",
                               whole, evidence)
    after = (decisions[-1].time - max(
        (d.time for d in decisions if d.recommended >= decisions[-1].current),
        default=decisions[-1].time)) if decisions else 0.0
    lowest = min((_ratio(d) for d in decisions if _ratio(d) > 0), default=0.0)
    reason = (f"no scale-down happened: none was due (lowest utilization {lowest:.2f}x target; "
              f"the run's last sync came {after:.0f}s after the last recommendation of its "
              f"replica count, window {window:g}s)")
    return skipped(check_id, title, reason, threshold=window, unit="s", comparison=">=",
                   window=whole)


def _stabilization(decisions: Sequence[Decision], origin: float, window: float,
                   whole: Window, tolerance: float = DEFAULT_TOLERANCE,
                   sync_period: float = DEFAULT_SYNC_PERIOD_SECONDS,
                   min_replicas: int = 1) -> CheckResult:
    title = "Scale-down only after the stabilization window"
    downs = [d for d in decisions if d.applied < d.current]
    if not downs:
        return _no_scale_down(decisions, origin, window, whole, tolerance, sync_period,
                              min_replicas)
    shortest = None
    for down in downs:
        higher = [d.time for d in decisions if d.time < down.time and d.recommended > down.applied]
        waited = down.time - max(higher) if higher else down.time - decisions[0].time
        shortest = waited if shortest is None else min(shortest, waited)
    assert shortest is not None  # noqa: S101 - downs is not empty
    # A recommendation leaves the window exactly `window` seconds later (Kubernetes excludes the
    # oldest instant), so the wait is at least the window less one sync's rounding.
    ok = shortest >= window - 1e-6
    first = downs[0]
    fell = next((d.time for d in decisions
                 if d.time <= first.time and 0.0 < _ratio(d) < 1.0 - tolerance
                 and not any(_hot(e, tolerance) for e in decisions
                             if d.time <= e.time <= first.time)), None)
    since = (f"; utilization fell below target - tolerance at {fell - origin:.0f}s, "
             f"{first.time - fell:.0f}s before the first scale-down"
             if fell is not None else "")
    return CheckResult(
        "autoscaling.scale-down-stabilization", title, Verdict.PASS if ok else Verdict.FAIL,
        round(shortest, 3), window, "s", ">=", whole,
        f"{len(downs)} scale-down(s), the first at {first.time - origin:.0f}s "
        f"({first.current} to {first.applied}); the shortest came {shortest:.0f}s after a "
        f"higher recommendation; window {window:g}s{since}",
    )


def _flapping(decisions: Sequence[Decision], origin: float, window: float,
              whole: Window) -> CheckResult:
    title = "No flapping (no reversal within the stabilization window)"
    changes = [(d.time, 1 if d.applied > d.current else -1) for d in decisions if d.changed]
    reversals = [
        (a, b) for a, b in zip(changes, changes[1:], strict=False)
        if a[1] != b[1] and b[0] - a[0] < window
    ]
    evidence = f"{len(changes)} scaling change(s), {len(reversals)} reversal(s) within {window:g}s"
    if reversals:
        first = reversals[0]
        evidence += f"; first at {first[0][0] - origin:.0f}s and {first[1][0] - origin:.0f}s"
    return CheckResult(
        "autoscaling.no-flapping", title, Verdict.PASS if not reversals else Verdict.FAIL,
        float(len(reversals)), 0.0, "reversals", "<=", whole, evidence,
    )
