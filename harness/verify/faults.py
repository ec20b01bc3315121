"""Checks for injected faults: what each cost, how fast the service came back, and the promise
behind each kind (a killed replica is replaced, the pool reconnects after a database restart,
the app serves from the database with Redis down and retries within the limit).

Every number is client-side (the harness's own intervals) unless it can only be seen inside the
app (retries, cache errors), which comes from the replicas' scraped counters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from harness.collect.counters import increase
from harness.collect.series import ServerSeries, bucket_bound
from harness.config.model import SloSpec
from harness.faults.records import FaultEvent
from harness.load.aggregate import aggregate
from harness.load.records import Interval, LoadResult
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, Verdict, Window, judged, skipped
from harness.verify.check import fault_check_id as check_id
from harness.verify.rollout import AFTER as ROLLOUT_AFTER
from harness.verify.rollout import rollout_checks

__all__ = ["Recovery", "fault_checks", "recovery", "rejudged_outside_faults", "window_of",
           "without_fault_windows"]

# Server-side counters whose growth a fault explains: a pooling check that counts them is judged
# again on what grew outside the fault windows.
FAULT_COUNTERS = {
    "pool.acquire-timeouts": "servicedesk_db_pool_acquire_timeouts_total",
    "cache.errors": "servicedesk_cache_errors_total",
}
# Likewise for quantiles of a server-side histogram (seconds).
FAULT_QUANTILES = {
    "pool.acquire-wait-p99": ("servicedesk_db_pool_acquire_wait_seconds", 0.99),
    "pool.acquire-wait-p95": ("servicedesk_db_pool_acquire_wait_seconds", 0.95),
}

BASELINE_SECONDS = 30.0
MIN_REQUESTS = 20
# The app's histogram of the retries each Redis command made, observed when it ended.
COMMAND_RETRIES = "servicedesk_cache_command_retries"


@dataclass(frozen=True)
class Recovery:
    """How the service came back after one fault; times in seconds since the load started."""

    baseline_error_percent: float | None
    baseline_p95_ms: float | None
    error_limit: float  # an interval is "back" at or under this error rate...
    p95_limit: float | None  # ...and this p95
    recovered_at: float | None  # start of the first good stretch lasting `hold`
    seconds: float | None  # recovered_at - cleared (None: not back before the horizon)
    degraded: bool  # some interval after the injection was not good
    horizon: float  # where the search stopped (the next fault, or the load's end)


def _rel(t: float | None, origin: float) -> float | None:
    return None if t is None else t - origin


def window_of(event: FaultEvent, origin: float, after: float, end: float) -> tuple[float, float]:
    """The stretch a fault is judged over: from its injection to `after` seconds past its
    clearing, cut at the load's end (and, by the caller, at the next fault)."""
    start = _rel(event.injected_at, origin) or 0.0
    cleared = _rel(event.cleared_at, origin) or start
    return start, min(cleared + after, end)


def overlapping(intervals: Sequence[Interval], start: float, end: float, *,
                cut: bool = False) -> list[Interval]:
    """Intervals that share any time with [start, end]: a fault rarely begins on an interval's
    edge, and its first errors must not fall outside its window. With `cut` (the next fault
    begins at `end`), the interval straddling `end` is left to that fault."""
    return [i for i in intervals
            if i.end > start and i.start < end and not (cut and i.end > end + 0.01)]


def without_fault_windows(load: LoadResult, events: Sequence[FaultEvent], slo: SloSpec, *,
                          origin: float | None = None) -> tuple[LoadResult, str]:
    """The run without the intervals a fault check judges (from each injection to the fault's
    window after it was lifted), for the steady-state SLO checks: each request is judged once,
    either against the SLO or against its fault's budget. Also says what was left out."""
    spans = fault_spans(load, events, slo, origin=origin)
    if not spans:
        return load, ""
    kept = tuple(i for i in load.intervals
                 if not any(i.end > a and i.start < b for a, b in spans))
    left_out = sum(i.requests for i in load.intervals) - sum(i.requests for i in kept)
    windows = ", ".join(f"{a:.0f}-{b:.0f}s" for a, b in spans)
    note = (f"outside the fault windows {windows}: {left_out:,} requests there are judged by "
            "the faults.* checks")
    return replace(load, intervals=kept), note


def fault_spans(load: LoadResult, events: Sequence[FaultEvent], slo: SloSpec, *,
                origin: float | None = None) -> list[tuple[float, float]]:
    """Each fault's judged window, in seconds on the load's clock."""
    origin = load.started_at if origin is None else origin
    end = max((i.end for i in load.intervals), default=load.duration)
    return [window_of(e, origin, ROLLOUT_AFTER if e.kind == "rollout" else
                      slo.fault_objectives.window, end) for e in events if e.happened]


def rejudged_outside_faults(check: CheckResult, series: ServerSeries,
                            spans: Sequence[tuple[float, float]], shift: float) -> CheckResult:
    """A failed counter check (FAULT_COUNTERS) judged again on the growth between scrapes
    that lie outside every fault window; what the faults caused is said in the evidence."""
    if check.verdict is not Verdict.FAIL or check.threshold is None:
        return check
    if check.id in FAULT_QUANTILES:
        return _rejudged_quantile(check, series, spans, shift)
    metric = FAULT_COUNTERS.get(check.id)
    if metric is None:
        return check
    inside = outside = 0.0
    for _labels, during, grew in _growth(series, metric, spans, shift):
        if during:
            inside += grew
        else:
            outside += grew
    verdict = Verdict.PASS if outside <= check.threshold else Verdict.FAIL
    return replace(check, verdict=verdict, observed=round(outside, 4), evidence=(
        f"{outside:g} outside the fault windows; {inside:g} during them, judged by the "
        f"faults.* checks ({check.evidence})"))


def _growth(series: ServerSeries, metric: str, spans: Sequence[tuple[float, float]],
            shift: float) -> list[tuple[str, bool, float]]:
    """Each step of a counter between consecutive scrapes of a replica: its labels, whether
    the step touches a fault window (or the 5 s after it), and how much it grew."""
    steps: list[tuple[str, bool, float]] = []
    frame = series.metric(metric)
    for (_replica, labels), group in frame.sort_values("t").groupby(["replica", "labels"]):
        times, values = group["t"].to_numpy(), group["value"].to_numpy()
        for index in range(1, len(values)):
            t0, t1 = times[index - 1], times[index]
            v0, v1 = values[index - 1], values[index]
            grew = float(v1 - v0 if v1 >= v0 else v1)
            during = any(t1 > a + shift and t0 < b + shift + 5.0 for a, b in spans)
            steps.append((str(labels), during, grew))
    return steps


def _rejudged_quantile(check: CheckResult, series: ServerSeries,
                       spans: Sequence[tuple[float, float]], shift: float) -> CheckResult:
    from harness.collect.series import _quantile  # noqa: PLC2701 - the same interpolation

    base, q = FAULT_QUANTILES[check.id]
    buckets: dict[float, float] = {}
    for labels, during, grew in _growth(series, f"{base}_bucket", spans, shift):
        if during:
            continue
        le = bucket_bound(labels)
        buckets[le] = buckets.get(le, 0.0) + max(grew, 0.0)
    seconds = _quantile(q, sorted(buckets.items()))
    if seconds is None:
        return check
    value = seconds * 1000.0 if check.unit == "ms" else seconds  # the check's own unit
    verdict = Verdict.PASS if value <= check.threshold else Verdict.FAIL  # type: ignore[operator]
    return replace(check, verdict=verdict, observed=round(value, 4), evidence=(
        f"{seconds * 1000:.1f} ms outside the fault windows, judged by the faults.* checks "
        f"there ({check.evidence})"))


def _good(intervals: Sequence[Interval], error_limit: float, p95_limit: float | None) -> bool:
    stats = aggregate(intervals)
    if stats.requests == 0:
        return False
    if stats.error_percent > error_limit:
        return False
    return p95_limit is None or stats.judged.p95_ms <= p95_limit


def recovery(load: LoadResult, event: FaultEvent, slo: SloSpec, *, hold: float,
             horizon: float, exclude: Sequence[tuple[float, float]] = (),
             origin: float | None = None,
             fallback_baseline: Sequence[Interval] = ()) -> Recovery:
    """When errors were back to the baseline (or within the SLO's budget, if higher) and p95
    back under the SLO, held for `hold` seconds, after the fault was lifted. Times are seconds
    on the load's clock, which began at `origin` (epoch; default the load's start)."""
    origin = load.started_at if origin is None else origin
    injected = _rel(event.injected_at, origin) or 0.0
    cleared = _rel(event.cleared_at, origin) or injected
    before = [i for i in overlapping(load.intervals, injected - BASELINE_SECONDS, injected)
              if i.end <= injected + 0.01
              and not any(i.end > a and i.start < b for a, b in exclude)]
    # Just before the fault; when an earlier fault still colours that stretch, before any fault.
    base = aggregate(before) if before else (
        aggregate(fallback_baseline) if fallback_baseline else None)
    base_error = base.error_percent if base and base.requests else None
    base_p95 = base.judged.p95_ms if base and base.requests else None
    error_limit = max(slo.max_error_percent, 2.0 * (base_error or 0.0))
    p95_limit = slo.latency.p95_ms
    after = [i for i in load.intervals if i.end > injected and i.start < horizon]
    degraded = any(not _good([i], error_limit, p95_limit) for i in after)
    # Back = the next `hold` seconds, taken together, are within both limits (one noisy
    # interval on a busy machine is not a relapse; p95 over ~10 s is).
    recovered: float | None = None
    candidates = [i for i in after if i.end > cleared]
    for index, first in enumerate(candidates):
        stretch = [i for i in candidates[index:] if i.start < first.start + hold - 1e-6]
        if stretch[-1].end - first.start < hold - 1e-6:
            break  # not enough load left before the horizon to tell
        if _good(stretch, error_limit, p95_limit):
            recovered = max(first.start, cleared)
            break
    return Recovery(base_error, base_p95, round(error_limit, 4), p95_limit,
                    None if recovered is None else round(recovered, 3),
                    None if recovered is None else round(max(recovered - cleared, 0.0), 3),
                    degraded, round(horizon, 3))


def _counter_delta(series: ServerSeries, name: str, start: float, end: float) -> float:
    """Growth of a counter summed over replicas and labels between two moments (seconds since
    the load started); see :func:`_growth_by_labels`."""
    return sum(_growth_by_labels(series, name, start, end).values())


def _growth_by_labels(series: ServerSeries, name: str, start: float,
                      end: float) -> dict[str, float]:
    """Growth of a counter per label set, summed over replicas, between two moments, from the
    scrapes nearest outside the stretch (the last one a replica gave, if it stopped answering
    before the end), a restart inside counted as growth from zero."""
    frame = series.metric(name)
    found: dict[str, float] = {}
    if frame.empty:
        return found
    for (_replica, labels), group in frame.sort_values("t").groupby(["replica", "labels"]):
        times, values = group["t"].tolist(), group["value"].tolist()
        before = [i for i, t in enumerate(times) if t <= start]
        after = [i for i, t in enumerate(times) if t >= end]
        inside = [i for i, t in enumerate(times) if t > start]
        if not inside:
            continue
        last = after[0] if after else inside[-1]
        if before:
            grew = increase(values[before[-1]:last + 1])
        else:  # first seen inside: it counted from zero
            grew = increase([0.0, *values[inside[0]:last + 1]])
        found[str(labels)] = found.get(str(labels), 0.0) + grew
    return found


def _check(check_id: str, title: str, observed: float | None, threshold: float | None, unit: str,
           window: Window, evidence: str, *, at_most: bool = True,
           verdict: Verdict | None = None) -> CheckResult:
    """Judged, failing when nothing was measured; `verdict` overrides the judgement."""
    check = judged(check_id, title, observed, threshold, unit, window, evidence, at_most=at_most,
                   unmeasured=verdict or Verdict.FAIL)
    if verdict is None or check.verdict is verdict:
        return check
    return replace(check, verdict=verdict,
                   reason=evidence if verdict is Verdict.SKIPPED else None)


def fault_checks(
    load: LoadResult,
    events: Sequence[FaultEvent],
    slo: SloSpec,
    *,
    series: ServerSeries | None = None,
    replica_events: Sequence[ReplicaEvent] = (),
    app_settings: Mapping[str, str] | None = None,
    bundled_settings: Mapping[str, str] | None = None,
    startup_budget: float = 30.0,
    origin: float | None = None,
) -> tuple[CheckResult, ...]:
    """`origin`: when the load generator's clock began (epoch), which the intervals count
    from; the scrapes count from the load's start, `shift` seconds earlier."""
    objectives = slo.fault_objectives
    origin = load.started_at if origin is None else origin
    shift = origin - load.started_at
    end = max((i.end for i in load.intervals), default=load.duration)
    happened = sorted((e for e in events if e.happened), key=lambda e: e.injected_at or 0.0)
    windows: dict[str, tuple[float, float]] = {}
    cuts: set[str] = set()
    for position, event in enumerate(happened):
        start, stop = window_of(event, origin, ROLLOUT_AFTER if event.kind == "rollout" else
                                objectives.window, end)
        if position + 1 < len(happened):  # another fault's effects are not this one's
            following = max(_rel(happened[position + 1].injected_at, origin) or stop, start)
            if following < stop:
                stop = following
                cuts.add(event.name)
        windows[event.name] = (start, stop)
    first = _rel(happened[0].injected_at, origin) if happened else None
    clean = [i for i in load.intervals if first is not None and i.end <= first + 0.01
             and i.start >= first - BASELINE_SECONDS]
    checks: list[CheckResult] = []
    for index, event in enumerate(events):
        fault = event.name
        if not event.happened:
            checks.append(skipped(check_id(fault, "injected"), f"{event.kind} was injected",
                                  f"{event.kind} at {event.scheduled:g}s was {event.outcome}: "
                                  f"{event.detail}"))
            if event.outcome == "failed":
                checks[-1] = CheckResult(check_id(fault, "injected"), f"{event.kind} was injected",
                                         Verdict.FAIL, None, None, "", "<=", None,
                                         f"the fault could not be injected: {event.detail}")
            continue
        later = [e for e in events[index + 1:] if e.happened]
        if event.kind == "rollout":  # its own promises, harness.verify.rollout
            starts = [e.injected_at - origin for e in later if e.injected_at is not None]
            checks += rollout_checks(event, load, slo, origin=origin,
                                     next_start=starts[0] if starts else None)
            continue
        start, stop = windows[event.name]
        window = Window(round(start, 3), round(stop, 3), f"{event.kind} + {objectives.window:g}s")
        budget = objectives.budget_for(event.kind, slo.availability_percent)
        checks.append(_availability(fault, event, load, start, stop, budget, window,
                                    cut=event.name in cuts))
        horizon = min([_rel(e.injected_at, origin) or end for e in later] + [end])
        others = [w for name, w in windows.items() if name != event.name]
        found = recovery(load, event, slo, hold=objectives.hold, horizon=horizon, exclude=others,
                         origin=origin, fallback_baseline=clean)
        checks.append(_recovery_check(fault, event, found, objectives.recovery_for(event.kind),
                                      objectives.hold, origin))
        if event.kind == "kill-replica":
            checks.append(_replacement(fault, event, replica_events, startup_budget, origin))
        elif event.kind == "restart-postgres":
            checks.append(_reconnect(fault, event, objectives.recovery_for(event.kind), window))
        elif event.kind == "stop-redis":
            checks += _redis(fault, event, load, series, app_settings or {},
                             bundled_settings or {}, budget, origin, shift)
        elif event.kind == "exhaust-pool" and series is not None:
            checks.append(_pool_exhausted(fault, event, series, window, origin, shift))
    return tuple(checks)


def _availability(fault: str, event: FaultEvent, load: LoadResult, start: float, stop: float,
                  budget: float, window: Window, *, cut: bool = False) -> CheckResult:
    title = f"Availability during {event.kind} within its error budget"
    stats = aggregate(overlapping(load.intervals, start, stop, cut=cut))
    if stats.requests < MIN_REQUESTS:
        return skipped(check_id(fault, "availability"), title,
                       f"only {stats.requests} requests in the fault's window", window=window)
    observed = 100.0 - stats.error_percent
    return _check(
        check_id(fault, "availability"), title, observed, round(100.0 - budget, 6), "%", window,
        f"{stats.failures:,} of {stats.requests:,} requests failed ({stats.error_percent:.3g} %) "
        f"from {event.kind} at {start:.1f}s to {stop:.1f}s; the budget allows {budget:g} %",
        at_most=False,
    )


def _recovery_check(fault: str, event: FaultEvent, found: Recovery, bound: float, hold: float,
                    origin: float) -> CheckResult:
    cleared = (_rel(event.cleared_at, origin) or 0.0)
    window = Window(round(cleared, 3), found.horizon, "after the fault was lifted")
    criteria = f"errors <= {found.error_limit:g} %" + (
        f" and p95 <= {found.p95_limit:g} ms" if found.p95_limit is not None else "")
    base = ("baseline before it: " + (f"{found.baseline_error_percent:.3g} % errors, p95 "
            f"{found.baseline_p95_ms:.0f} ms" if found.baseline_error_percent is not None
            else "none measured"))
    if found.seconds is None:
        evidence = (f"not back ({criteria} for {hold:g}s) before {found.horizon:.0f}s, "
                    f"{found.horizon - cleared:.0f}s after the fault was lifted; {base}")
    elif not found.degraded:
        evidence = f"no interval after the fault broke {criteria}; {base}"
    else:
        evidence = (f"back ({criteria} for {hold:g}s) at {found.recovered_at:.1f}s, "
                    f"{found.seconds:.1f}s after the fault was lifted at {cleared:.1f}s; {base}")
    return _check(check_id(fault, "recovery"), f"Time to recover from {event.kind}", found.seconds,
                  bound, "s", window, evidence)


def _replacement(fault: str, event: FaultEvent, replica_events: Sequence[ReplicaEvent],
                 budget: float, origin: float) -> CheckResult:
    """Each killed replica was replaced by one that passed its readiness probe in time."""
    title = "Killed replicas replaced and ready (Deployment controller)"
    killed = event.facts.get("killed", [])
    if not replica_events:
        return skipped(check_id(fault, "replacement"), title,
                       "this stack has no replica controller")
    starts = [e for e in replica_events if e.event == "started"]
    readies = [e for e in replica_events if e.event == "ready"]
    used: set[str] = set()
    times: list[float | None] = []
    names: list[str] = []
    for kill in killed:
        after = [s for s in starts if s.t >= kill["t"] - 0.01 and s.replica not in used]
        if not after:
            times.append(None)
            continue
        replacement = after[0]
        used.add(replacement.replica)
        ready = next((r for r in readies if r.replica == replacement.replica), None)
        times.append(None if ready is None else ready.t - kill["t"])
        names.append(f"{kill['replica']} -> {replacement.replica}"
                     + (f" ready after {ready.t - kill['t']:.1f}s" if ready else " never ready"))
    first = killed[0]["t"] - origin if killed else 0.0
    window = Window(round(first, 3), round(first + budget, 3), "startup-probe budget")
    if any(t is None for t in times) or not times:
        return _check(check_id(fault, "replacement"), title, None, budget, "s", window,
                      "; ".join(names) or "no replacement was started", verdict=Verdict.FAIL)
    slowest = max(t for t in times if t is not None)
    return _check(check_id(fault, "replacement"), title, slowest, budget, "s", window,
                  "; ".join(names) + f" (budget: the startup probe's {budget:g}s)")


def _reconnect(fault: str, event: FaultEvent, bound: float, window: Window) -> CheckResult:
    """After the restart every replica's pool served a query again, without an app restart."""
    title = "Pool reconnects after the database restart, without an app restart"
    rows = event.facts.get("reconnects", [])
    if not rows:
        return skipped(check_id(fault, "pool-reconnect"), title,
                       "no replica ran through the restart", window=window)
    missing = [r["replica"] for r in rows if r["seconds"] is None]
    restarted = [r["replica"] for r in rows if not r["same_process"]]
    slowest = max((r["seconds"] for r in rows if r["seconds"] is not None), default=None)
    parts = [f"{r['replica']} {r['seconds']:.1f}s" if r["seconds"] is not None
             else f"{r['replica']} never" for r in rows]
    evidence = ("readiness (a query through each replica's pool) answered again after the "
                f"restart: {', '.join(parts)}")
    if restarted:
        evidence += f"; restarted meanwhile (not a reconnect): {', '.join(restarted)}"
    if missing or restarted:
        return _check(check_id(fault, "pool-reconnect"), title, slowest, bound, "s", window,
                      evidence, verdict=Verdict.FAIL)
    return _check(check_id(fault, "pool-reconnect"), title, slowest, bound, "s", window, evidence)


def _redis(fault: str, event: FaultEvent, load: LoadResult, series: ServerSeries | None,
           settings: Mapping[str, str], bundled: Mapping[str, str], budget: float,
           origin: float, shift: float) -> list[CheckResult]:
    start = _rel(event.injected_at, origin) or 0.0
    stop = _rel(event.cleared_at, origin) or start
    reads = aggregate(overlapping(load.intervals, start, stop), lambda n: n.startswith("GET "))
    outage = Window(round(start, 3), round(stop, 3), "while Redis was down")
    title = "With Redis down the app serves from the database"
    errors = _counter_delta(series, "servicedesk_cache_errors_total", start + shift,
                            stop + shift) if series is not None else 0.0
    checks: list[CheckResult] = []
    if reads.requests < MIN_REQUESTS:
        checks.append(skipped(check_id(fault, "cache-fallback"), title,
                              f"only {reads.requests} reads while Redis was down", window=outage))
    else:
        noticed = (f"the app counted {errors:g} cache errors, so it did see Redis down"
                   if errors else "the app counted no cache errors (did it notice?)")
        checks.append(_check(
            check_id(fault, "cache-fallback"), title, 100.0 - reads.error_percent,
            round(100.0 - budget, 6), "%", outage,
            f"{reads.failures:,} of {reads.requests:,} reads failed while Redis was down; "
            f"{noticed}", at_most=False))
    limit = int(bundled.get("REDIS_MAX_RETRIES", "3"))
    retries_title = f"Redis retries at most {limit} per command, with backoff"
    if series is None:
        checks.append(skipped(check_id(fault, "redis-retries"), retries_title, "no server metrics"))
        return checks
    base = float(settings.get("REDIS_RETRY_BACKOFF_BASE_SECONDS", "0") or 0)
    cap = float(settings.get("REDIS_RETRY_BACKOFF_CAP_SECONDS", "0") or 0)
    # The app observes each command's own retries once, when the command ends: the most any
    # command made is exact whichever scrapes the outage falls between.
    commands, top = _commands_by_retries(series, start + shift, stop + shift)
    if not commands:
        checks.append(skipped(check_id(fault, "redis-retries"), retries_title,
                              f"no Redis command ended while Redis was down ({start:.1f}s-"
                              f"{stop:.1f}s; the app's {COMMAND_RETRIES} histogram)",
                              window=outage))
        return checks
    most = max(commands)
    backoff = (f"exponential backoff base {base:g}s, cap {cap:g}s" if base > 0
               else "no backoff between retries (REDIS_RETRY_BACKOFF_BASE_SECONDS 0)")
    made = ", ".join(f"{_retries_text(r, top)}: {n:g}" for r, n in sorted(commands.items()))
    evidence = (f"{sum(commands.values()):g} Redis commands ended while Redis was down, by the "
                f"retries each made: {made}; the most: {_retries_text(most, top)} (the seed: at "
                f"most {limit}); {backoff}")
    # Beyond the last bucket the count is only known to be above it.
    observed = top + 1 if math.isinf(most) else most
    checks.append(_check(check_id(fault, "redis-retries"), retries_title, observed, float(limit),
                         "retries", outage, evidence,
                         verdict=Verdict.FAIL if base <= 0 else None))
    return checks


def _commands_by_retries(series: ServerSeries, start: float,
                         end: float) -> tuple[dict[float, float], float]:
    """Commands that ended between two moments, by the retries each made (infinity: more than
    the last bucket), from the app's histogram summed over replicas; and that last bucket."""
    cumulative = sorted((bucket_bound(labels), grew) for labels, grew in
                        _growth_by_labels(series, f"{COMMAND_RETRIES}_bucket", start, end).items())
    found: dict[float, float] = {}
    below = 0.0
    for bound, count in cumulative:
        if count > below:
            found[bound] = count - below
        below = max(below, count)
    top = max((b for b, _ in cumulative if not math.isinf(b)), default=0.0)
    return found, top


def _retries_text(retries: float, top: float) -> str:
    if math.isinf(retries):
        return f"more than {top:g} retries"
    return f"{retries:g} {'retry' if retries == 1 else 'retries'}"


def _pool_exhausted(fault: str, event: FaultEvent, series: ServerSeries, window: Window,
                    origin: float, shift: float) -> CheckResult:
    """The fault did what it says: requests gave up waiting for a connection (503 with
    Retry-After) instead of queueing without end."""
    start = _rel(event.injected_at, origin) or 0.0
    stop = _rel(event.cleared_at, origin) or start
    timeouts = _counter_delta(series, "servicedesk_db_pool_acquire_timeouts_total",
                              start + shift, stop + shift + 5.0)
    title = "An exhausted pool fails fast (acquire timeouts, not endless queues)"
    if timeouts == 0:
        return skipped(check_id(fault, "fail-fast"), title,
                       "no acquire timeout happened: the pool was never exhausted", window=window)
    return _check(check_id(fault, "fail-fast"), title, timeouts, 1.0, "timeouts", window,
                  f"{timeouts:g} requests gave up waiting for a connection while {event.detail}",
                  at_most=False)
