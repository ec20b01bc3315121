"""Checks for a `rollout` fault: did the deploy drop anything, did it keep the Deployment's
promises on capacity, and how long and how slow was it.

Per rollout (ids `faults.<name>.*`, window: from the rollout's start until its last retired
replica ended plus `AFTER` seconds, cut at the next fault):
- `failed-requests`: failed requests in the window within the fault's budget (0 by default);
- `ready-floor`: ready replicas never below replicas - maxUnavailable (the new version's only
  once ready, the old ones' until retired);
- `surge-ceiling`: replicas (not terminating) never above replicas + maxSurge;
- `p99`: client-side p99 over the window within the SLO's p99 (untrusted when the load
  generator saturated in it);
- a good version: `completed`, every replica replaced and available within the progress
  deadline (its observed value is the rollout's duration);
- `bad: true`: `stopped-at-deadline` (no progress, and the rollout stopped within a few seconds
  of the deadline: the deploy failed, as the run says) and `old-serving` (the old revision's
  replicas all ready once it was rolled back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from harness.config.model import SloSpec
from harness.faults.records import FaultEvent
from harness.load.aggregate import aggregate
from harness.load.health import saturation_evidence
from harness.load.records import Interval, LoadResult
from harness.verify.check import CheckResult, Verdict, Window, judged, skipped
from harness.verify.check import fault_check_id as check_id
from harness.verify.slo import mark_untrusted

__all__ = ["AFTER", "DEADLINE_SLACK", "rollout_checks", "rollout_window"]

AFTER = 5.0  # seconds after the last retired replica ended: its last responses and resets
DEADLINE_SLACK = 5.0  # a failed rollout stops this close to its deadline (rounds, first start)


def rollout_window(event: FaultEvent, origin: float, end: float,
                   next_start: float | None = None) -> Window:
    """Seconds since `origin`: the rollout's start to AFTER past its settling, cut at `end`
    (the load's) and at the next fault's start."""
    start = (event.injected_at or origin) - origin
    stop = min((event.cleared_at or event.injected_at or origin) - origin + AFTER, end)
    if next_start is not None:
        stop = min(stop, max(next_start, start))
    return Window(round(start, 3), round(stop, 3), f"rollout {event.name}")


# A rollout's number that could not be measured fails: each is the rollout's own promise.
_check = partial(judged, unmeasured=Verdict.FAIL)


def _overlapping(intervals: Sequence[Interval], window: Window) -> list[Interval]:
    return [i for i in intervals if i.end > window.start and i.start < window.end]


def rollout_checks(event: FaultEvent, load: LoadResult, slo: SloSpec, *, origin: float,
                   next_start: float | None = None) -> list[CheckResult]:
    """The checks of one rollout that happened (`event.facts` from harness.faults.rollout)."""
    facts: Mapping[str, Any] = event.facts
    fault = event.name
    end = max((i.end for i in load.intervals), default=load.duration)
    window = rollout_window(event, origin, end, next_start)
    inside = _overlapping(load.intervals, window)
    stats = aggregate(inside)
    checks = [_failed_requests(fault, stats.requests, inside, int(facts["failed_requests_budget"]),
                               window)]
    samples = facts.get("samples") or []
    replicas, surge = int(facts["replicas"]), int(facts["max_surge"])
    floor = replicas - int(facts["max_unavailable"])
    lowest = min(samples, key=lambda s: s["new_ready"] + s["old_ready"], default=None)
    if lowest is None:
        checks.append(_check(check_id(fault, "ready-floor"),
                             "Ready replicas never below replicas - "
                             "maxUnavailable", None, floor, "replicas", window,
                             "no replica count was sampled during the rollout"))
    else:
        ready = lowest["new_ready"] + lowest["old_ready"]
        checks.append(_check(
            check_id(fault, "ready-floor"), "Ready replicas never below replicas - maxUnavailable",
            ready, floor, "replicas", window,
            f"fewest ready {ready} ({lowest['old_ready']} old, {lowest['new_ready']} new) at "
            f"{lowest['t'] - origin:.1f}s over {len(samples)} changes; floor {replicas} - "
            f"{facts['max_unavailable']}"
            + (f"; {facts['ready_means']}" if facts.get("ready_means") else ""), at_most=False))
    highest = max(samples, key=lambda s: s["new"] + s["old"], default=None)
    terminating = max((s["terminating"] for s in samples), default=0)
    if highest is not None:
        total = highest["new"] + highest["old"]
        checks.append(_check(
            check_id(fault, "surge-ceiling"), "Replicas never above replicas + maxSurge", total,
            replicas + surge, "replicas", window,
            f"most replicas {total} ({highest['old']} old, {highest['new']} new) at "
            f"{highest['t'] - origin:.1f}s; ceiling {replicas} + {surge}; besides them at most "
            f"{terminating} retired replica(s) were still ending (not counted, as Kubernetes "
            "does not count terminating pods)"))
    checks.append(_p99(fault, stats, inside, slo, window))
    if facts.get("bad"):
        checks += _bad(fault, facts, samples, origin, window)
    else:
        checks.append(_completed(fault, facts, window))
    return checks


def _failed_requests(fault: str, requests: int, inside: Sequence[Interval], budget: int,
                     window: Window) -> CheckResult:
    failures: dict[str, int] = {}
    for interval in inside:
        for name in interval.names:
            if name.failures:
                failures[name.name] = failures.get(name.name, 0) + name.failures
    total = sum(failures.values())
    named = ", ".join(f"{n} {c}" for n, c in sorted(failures.items(), key=lambda kv: -kv[1])[:5])
    return _check(check_id(fault, "failed-requests"), "No failed request during the rollout", total,
                  budget, "requests", window,
                  f"{total} of {requests:,} requests failed from {window.start:.1f}s to "
                  f"{window.end:.1f}s" + (f" ({named})" if named else "")
                  + f"; budget {budget}")


def _p99(fault: str, stats: Any, inside: Sequence[Interval], slo: SloSpec,
         window: Window) -> CheckResult:
    title = "p99 latency during the rollout within the SLO"
    limit = slo.latency.p99_ms
    if not stats.requests or limit is None:
        why = "no requests in the rollout's window" if limit is not None else "no p99 SLO"
        return skipped(check_id(fault, "p99"), title, why, threshold=limit, unit="ms",
                       window=window)
    observed = stats.judged.percentile("p99")
    check = _check(check_id(fault, "p99"), title, observed, limit, "ms", window,
                   f"p99 {observed:.1f} ms over {stats.requests:,} requests during the rollout; "
                   f"limit {limit:g} ms")
    saturation = saturation_evidence(inside)
    return mark_untrusted(check, saturation, "run again with more --workers")


def _completed(fault: str, facts: Mapping[str, Any], window: Window) -> CheckResult:
    deadline = float(facts["progress_deadline_seconds"])
    duration = float(facts["duration_seconds"])
    done = facts["status"] == "complete"
    evidence = (f"revision {facts['new_revision']} on all {facts['replicas']} replicas and "
                f"available after {duration:.1f}s ({len(facts['retired'])} retired)"
                if done else f"{facts['status']} after {duration:.1f}s: the deploy failed")
    check = _check(check_id(fault, "completed"), "Rollout completed within the progress deadline",
                   duration, deadline, "s", window, evidence)
    if done:
        return check
    return CheckResult(check.id, check.title, Verdict.FAIL, check.observed, deadline, "s", "<=",
                       window, evidence)


def _bad(fault: str, facts: Mapping[str, Any], samples: Sequence[Mapping[str, Any]],
         origin: float, window: Window) -> list[CheckResult]:
    deadline = float(facts["progress_deadline_seconds"])
    duration = float(facts["duration_seconds"])
    stopped = facts["status"] == "deadline-exceeded"
    title = "A version that never turns ready stops at the progress deadline"
    evidence = (f"no progress for {deadline:g}s: stopped after {duration:.1f}s, the deploy "
                f"failed and revision {facts['new_revision']} was rolled back"
                if stopped else f"the rollout ended {facts['status']} after {duration:.1f}s "
                "instead of failing at its deadline")
    bound = deadline + DEADLINE_SLACK
    checks = [CheckResult(check_id(fault, "stopped-at-deadline"), title,
                          Verdict.PASS if stopped and duration <= bound else Verdict.FAIL,
                          round(duration, 3), bound, "s", "<=", window, evidence)]
    last = samples[-1] if samples else None
    replicas = int(facts["replicas"])
    serving = None if last is None else int(last["old_ready"])
    checks.append(_check(
        check_id(fault, "old-serving"), "The old version keeps serving after the failed deploy",
        serving, replicas, "replicas", window,
        "no replica count was sampled" if last is None else
        f"{last['old_ready']} of {replicas} old replicas ready, {last['new']} of the new "
        f"version left at {last['t'] - origin:.1f}s", at_most=False))
    return checks
