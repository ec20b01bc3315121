"""Drift inside the steady state: does p95 trend upward across the hold?

A steady-state average can pass while latency climbs all through the hold (a leak, a growing
table, a pool slowly filling). The trend is tested with Kendall's tau of p95 against time (the
Mann-Kendall trend test) and measured with the Theil-Sen slope and its 95 % interval, both robust
to the odd slow slice. The threshold is the SLO itself: the check fails when the trend is
significant (p < 0.01) and even the low end of the slope's interval would carry p95 past its SLO
limit within HORIZON of the same load — the length the `soak` scenario holds to find such
degradation. A slower rise passes, and its evidence still gives the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from scipy import stats

from harness.load.aggregate import aggregate, in_window
from harness.load.health import saturation_evidence
from harness.load.records import Interval, LoadResult
from harness.verify.check import CheckResult, Verdict, skipped
from harness.verify.slo import steady_window

__all__ = ["HORIZON_SECONDS", "drift_check"]

CHECK_ID = "slo.drift.p95"
HORIZON_SECONDS = 3600.0
SIGNIFICANCE = 0.01
SLICE_SECONDS = 5.0  # p95 per slice: a 2 s interval at low load holds too few requests
MIN_SLICE_REQUESTS = 20
MIN_SLICES = 8


def _slices(intervals: Sequence[Interval]) -> list[tuple[float, float]]:
    """(middle time, judged p95 ms) per slice of about SLICE_SECONDS with enough requests."""
    points: list[tuple[float, float]] = []
    chunk: list[Interval] = []
    for interval in intervals:
        chunk.append(interval)
        if chunk[-1].end - chunk[0].start >= SLICE_SECONDS - 1e-9:
            summary = aggregate(chunk)
            if summary.requests >= MIN_SLICE_REQUESTS:
                points.append(((chunk[0].start + chunk[-1].end) / 2, summary.judged.p95_ms))
            chunk = []
    return points


def drift_check(load: LoadResult, p95_limit_ms: float | None) -> CheckResult:
    window = steady_window(load)
    held = in_window(load.intervals, window.start, window.end)
    title = "No upward p95 trend across the steady state"

    def skip(reason: str) -> CheckResult:
        return skipped(CHECK_ID, title, reason, threshold=p95_limit_ms, unit="ms", window=window)

    if p95_limit_ms is None:
        return skip("the SLO sets no p95 limit to project the trend against")
    points = _slices(held)
    if len(points) < MIN_SLICES:
        return skip(f"{len(points)} slices of {SLICE_SECONDS:g} s with at least "
                    f"{MIN_SLICE_REQUESTS} requests in the {window.label}; a trend needs "
                    f"{MIN_SLICES}")
    times = [t for t, _ in points]
    values = [v for _, v in points]
    tau = stats.kendalltau(times, values)
    slope, _intercept, low, high = stats.theilslopes(values, times, alpha=0.95)
    level = float(stats.scoreatpercentile(values[-max(len(values) // 4, 1):], 50))
    significant = bool(tau.pvalue < SIGNIFICANCE and low > 0)
    projected = level + low * HORIZON_SECONDS if significant else level
    per_minute = slope * 60.0
    evidence = (
        f"p95 over {len(points)} slices of {SLICE_SECONDS:g} s: Theil-Sen slope "
        f"{per_minute:+.3f} ms/min (95 % interval {low * 60:+.3f} to {high * 60:+.3f}), "
        f"Kendall tau {tau.statistic:+.2f}, p = {tau.pvalue:.2g}; "
    )
    if significant:
        evidence += (f"a significant rise: from {level:.1f} ms (the last quarter's median) at "
                     f"the interval's low end, p95 would reach {projected:.1f} ms after "
                     f"{HORIZON_SECONDS / 60:g} min more of this load; limit {p95_limit_ms:g} ms")
    else:
        evidence += (f"no significant upward trend (p ≥ {SIGNIFICANCE:g} or the interval "
                     f"includes zero); p95 level {level:.1f} ms, limit {p95_limit_ms:g} ms")
    check = CheckResult(
        CHECK_ID, title, Verdict.PASS if projected <= p95_limit_ms else Verdict.FAIL,
        round(projected, 3), p95_limit_ms, "ms", "<=", window, evidence)
    saturation = saturation_evidence(held, load.stages[-1].end if load.stages else None)
    if saturation:
        return replace(check, verdict=Verdict.UNTRUSTED, evidence=(
            f"{evidence}. Untrusted: the load generator saturated in {saturation}"))
    return check
