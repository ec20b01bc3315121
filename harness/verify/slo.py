"""SLO checks on client-side latency, errors and throughput.

Judged twice: over the steady-state stages as a whole, and over sliding windows across the whole
run (the worst window decides), so a late collapse cannot hide in a whole-run average.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.config.durations import format_duration
from harness.config.model import SloSpec
from harness.load.aggregate import RequestStats, aggregate, in_window
from harness.load.records import Interval, LoadResult
from harness.verify.check import CheckResult, Verdict, Window

__all__ = ["slo_checks", "steady_window"]


def steady_window(load: LoadResult) -> Window:
    steady = [s for s in load.stages if s.steady] or list(load.stages)
    if not steady:
        return Window(0.0, load.duration, "whole run")
    return Window(steady[0].start, steady[-1].end, "steady state")


def _limit(
    check_id: str,
    title: str,
    observed: float | None,
    threshold: float,
    unit: str,
    window: Window,
    evidence: str,
    *,
    at_most: bool = True,
) -> CheckResult:
    if observed is None:
        return CheckResult(check_id, title, Verdict.SKIPPED, None, threshold, unit,
                           "<=" if at_most else ">=", window, evidence, reason=evidence)
    ok = observed <= threshold if at_most else observed >= threshold
    return CheckResult(
        id=check_id,
        title=title,
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        observed=round(observed, 3),
        threshold=threshold,
        unit=unit,
        comparison="<=" if at_most else ">=",
        window=window,
        evidence=evidence,
    )


def _latency_checks(
    prefix: str, label: str, stats: RequestStats, window: Window, p95: float | None, p99: float | None
) -> list[CheckResult]:
    checks = []
    for name, limit in (("p95", p95), ("p99", p99)):
        if limit is None:
            continue
        observed = stats.latency.percentile(name) if stats.requests else None
        evidence = (
            f"{name} {observed:.1f} ms over {stats.requests} requests in the {window.label} "
            f"({format_duration(window.start)}-{format_duration(window.end)}); limit {limit:g} ms"
            if observed is not None
            else f"no {label} requests in the {window.label}"
        )
        checks.append(
            _limit(f"{prefix}.{name}", f"{label} {name} latency", observed, limit, "ms", window, evidence)
        )
    return checks


def _in_group(requests: Sequence[str]) -> Callable[[str], bool]:
    wanted = frozenset(requests)
    return lambda name: name in wanted


def slo_checks(load: LoadResult, slo: SloSpec) -> tuple[CheckResult, ...]:
    window = steady_window(load)
    steady = in_window(load.intervals, window.start, window.end)
    overall = aggregate(steady)
    checks: list[CheckResult] = []

    total = aggregate(load.intervals)
    checks.append(
        _limit(
            "load.requests", "Load reached the system", float(total.requests), 1.0, "requests",
            Window(0.0, load.duration, "whole run"),
            f"{total.requests} requests sent, {total.failures} failed",
            at_most=False,
        )
    )
    checks += _latency_checks("slo.latency", "Overall", overall, window,
                              slo.latency.p95_ms, slo.latency.p99_ms)
    checks.append(
        _limit(
            "slo.error-rate", "Error rate within the error budget",
            overall.error_percent if overall.requests else None, slo.max_error_percent, "%", window,
            f"{overall.failures} of {overall.requests} requests failed "
            f"({overall.error_percent:.3f} %); budget {slo.max_error_percent:g} % "
            f"(availability {slo.availability_percent:g} %)"
            if overall.requests else f"no requests in the {window.label}",
        )
    )
    if slo.min_rps is not None:
        checks.append(
            _limit(
                "slo.throughput", "Throughput", overall.rps if overall.requests else None,
                slo.min_rps, "req/s", window,
                f"{overall.rps:.1f} req/s over the {window.label}; at least {slo.min_rps:g} needed",
                at_most=False,
            )
        )
    for group_name, group in sorted(slo.groups.items()):
        stats = aggregate(steady, _in_group(group.requests))
        checks += _latency_checks(f"slo.group.{group_name}", f"{group_name.capitalize()}",
                                  stats, window, group.p95_ms, group.p99_ms)
    checks += _sliding_checks(load.intervals, slo)
    return tuple(checks)


def _sliding_checks(intervals: Sequence[Interval], slo: SloSpec) -> list[CheckResult]:
    spec = slo.windows
    if not intervals:
        return []
    end_of_run = intervals[-1].end
    worst: dict[str, tuple[float, Window, RequestStats]] = {}
    judged = 0
    start = 0.0
    while start < end_of_run:
        end = min(start + spec.size, end_of_run)
        stats = aggregate(in_window(intervals, start, end))
        if stats.requests >= spec.min_requests:
            judged += 1
            window = Window(round(start, 3), round(end, 3), f"sliding {format_duration(spec.size)}")
            for key, value in (
                ("p95", stats.latency.p95_ms),
                ("p99", stats.latency.p99_ms),
                ("error-rate", stats.error_percent),
            ):
                if key not in worst or value > worst[key][0]:
                    worst[key] = (value, window, stats)
        if end >= end_of_run:
            break
        start += spec.step
    limits = {
        "p95": (slo.latency.p95_ms, "ms", "p95 latency"),
        "p99": (slo.latency.p99_ms, "ms", "p99 latency"),
        "error-rate": (slo.max_error_percent, "%", "error rate"),
    }
    checks = []
    for key, (limit, unit, what) in limits.items():
        if limit is None:
            continue
        check_id = f"slo.sliding.{key}"
        title = f"Worst sliding-window {what}"
        if key not in worst:
            reason = f"no {format_duration(spec.size)} window had {spec.min_requests} requests"
            checks.append(CheckResult(check_id, title, Verdict.SKIPPED, None, limit, unit, "<=",
                                      None, reason, reason=reason))
            continue
        value, window, stats = worst[key]
        evidence = (
            f"worst of {judged} windows: {value:.2f} {unit} at "
            f"{format_duration(window.start)}-{format_duration(window.end)} "
            f"({stats.requests} requests); limit {limit:g} {unit}"
        )
        checks.append(_limit(check_id, title, value, limit, unit, window, evidence))
    return checks
