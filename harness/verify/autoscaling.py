"""Autoscaling checks: bounds, time to scale up, scale-down stabilization, no flapping.

Times are seconds since the load started. The evidence is the autoscaler's own decisions, each
with the per-metric utilization that drove it.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.config.k8s import HpaSpec
from harness.stack.autoscaler import Decision
from harness.stack.scaling import ReplicaCount
from harness.verify.check import CheckResult, Verdict, Window

__all__ = ["autoscaling_checks"]


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
    tolerance: float = 0.1,
) -> tuple[CheckResult, ...]:
    whole = Window(0.0, round(duration, 3), "whole run")
    checks = [_bounds(counts, hpa, whole)]
    checks.append(_scale_up(decisions, counts, hpa, origin, whole, sync_period, startup_budget,
                            tolerance))
    window = float(hpa.scale_down.stabilization_window_seconds)
    checks.append(_stabilization(decisions, origin, window, whole))
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
              tolerance: float) -> CheckResult:
    title = "Scale-up follows high utilization in bounded time"
    bound = round(2 * sync_period + startup_budget, 3)
    hot = [d for d in decisions if _hot(d, tolerance)]
    if not hot:
        highest = max((_ratio(d) for d in decisions), default=0.0)
        reason = (f"utilization never rose above target + {tolerance:.0%} "
                  f"(highest ratio {highest:.2f} of target)")
        return CheckResult("autoscaling.scale-up", title, Verdict.SKIPPED, None, bound, "s", "<=",
                           whole, reason, reason=reason)
    first = hot[0]
    start_count = first.current
    # Ready replicas: a sync only writes the count, the new replicas are added once ready.
    reached = next((c for c in counts
                    if c.t >= first.time and c.ready_replicas > start_count), None)
    if reached is None:
        if start_count >= hpa.max_replicas:
            reason = f"already at the most replicas allowed ({start_count}) when utilization rose"
            return CheckResult("autoscaling.scale-up", title, Verdict.SKIPPED, None, bound, "s",
                               "<=", whole, reason, reason=reason)
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
        f"(bound: 2 syncs of {sync_period:g}s + {startup_budget:g}s startup)",
    )


def _stabilization(decisions: Sequence[Decision], origin: float, window: float,
                   whole: Window) -> CheckResult:
    title = "Scale-down only after the stabilization window"
    downs = [d for d in decisions if d.applied < d.current]
    if not downs:
        reason = "no scale-down happened"
        return CheckResult("autoscaling.scale-down-stabilization", title, Verdict.SKIPPED, None,
                           window, "s", ">=", whole, reason, reason=reason)
    shortest = None
    for down in downs:
        higher = [d.time for d in decisions if d.time < down.time and d.recommended > down.applied]
        waited = down.time - max(higher) if higher else down.time - decisions[0].time
        shortest = waited if shortest is None else min(shortest, waited)
    assert shortest is not None  # noqa: S101 - downs is not empty
    # A recommendation leaves the window exactly `window` seconds later (Kubernetes excludes the
    # oldest instant), so the wait is at least the window less one sync's rounding.
    ok = shortest >= window - 1e-6
    return CheckResult(
        "autoscaling.scale-down-stabilization", title, Verdict.PASS if ok else Verdict.FAIL,
        round(shortest, 3), window, "s", ">=", whole,
        f"{len(downs)} scale-down(s); the shortest came {shortest:.0f}s after a higher "
        f"recommendation; window {window:g}s",
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
