"""The noise-aware regression rule, metric by metric.

A metric regressed when all three hold:

1. it got worse by more than its minimum effect, relative (`min_relative`, e.g. 5 % of the
   baseline's value) *and* absolute (`min_absolute`, e.g. 1 ms, so a 0.2 ms change of a 2 ms p50
   never fails a build);
2. the change is significant: the one-sided Mann-Whitney U test of the candidate's per-window
   values against the baseline's gives p < `alpha` (error rate: a two-proportion z-test on the
   failed and total request counts, because errors come as counts, often all in a few windows),
   after Holm's adjustment over every metric tested, so that sixteen metrics at once still
   raise a false alarm with probability at most `alpha`;
3. there are at least `min_windows` window samples on each side (otherwise: no verdict, reported
   as "no data", never a failure).

Against a rolling history of several runs, the baseline value is the median of the runs' values
(error rate: pooled counts). Whatever the baseline, the minimum effect widens to
`spread_factor` x the run-to-run spread (coefficient of variation, and standard deviation for the
absolute floor) of the baseline runs and the recent good runs of the store (`noise`), once there
are at least two: on a machine where a metric varies by 10 % from night to night, a 12 % change
is not a regression, however significant its windows look (the windows of one run share that
run's machine, so they cannot see the night-to-night noise themselves).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from harness.compare.metrics import (
    Direction,
    Measurement,
    MetricSpec,
    measure,
    metric_specs,
    window_length,
)
from harness.compare.runs import RunData
from harness.compare.stats import holm_adjust, mann_whitney_greater, proportion_greater
from harness.errors import UsageError

__all__ = [
    "DEFAULT_RULES",
    "Comparison",
    "MetricComparison",
    "Outcome",
    "Rule",
    "Thresholds",
    "compare_runs",
]


class Outcome(StrEnum):
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    UNCHANGED = "unchanged"
    NO_DATA = "no data"


@dataclass(frozen=True)
class Rule:
    min_relative: float  # a fraction of the baseline value, e.g. 0.05
    min_absolute: float  # in the metric's unit


# Chosen so that run-to-run noise of this 2-core machine passes and a 10 % slowdown fails; see
# the README's "Nightly performance" section for the pairs of identical runs behind them.
DEFAULT_RULES: Mapping[str, Rule] = {
    "p50": Rule(0.05, 0.5),
    "p95": Rule(0.075, 1.0),
    "p99": Rule(0.12, 2.0),
    "throughput": Rule(0.05, 0.5),
    "error-rate": Rule(0.0, 0.5),  # percentage points
    "cpu-per-request": Rule(0.20, 0.05),
    "pool-wait": Rule(0.25, 1.0),
}


@dataclass(frozen=True)
class Thresholds:
    alpha: float = 0.01
    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    min_windows: int = 5
    spread_factor: float = 2.0

    def with_min_effect(self, kind: str, relative: float) -> Thresholds:
        if kind not in self.rules:
            raise UsageError(
                f"--min-effect: unknown metric kind {kind!r} (allowed: {', '.join(self.rules)})"
            )
        rules = dict(self.rules)
        rules[kind] = replace(rules[kind], min_relative=relative)
        return replace(self, rules=rules)


@dataclass(frozen=True)
class MetricComparison:
    metric: MetricSpec
    outcome: Outcome
    baseline: float | None
    candidate: float | None
    p_value: float | None
    tolerance_relative: float
    tolerance_absolute: float
    reason: str
    baseline_windows: tuple[float, ...] = ()
    candidate_windows: tuple[float, ...] = ()
    baseline_runs: tuple[float, ...] = ()  # each baseline run's value (history)

    @property
    def change(self) -> float | None:
        """Signed relative change, candidate against baseline (+0.10: 10 % higher)."""
        if self.baseline is None or self.candidate is None or self.baseline == 0:
            return None
        return (self.candidate - self.baseline) / self.baseline


@dataclass(frozen=True)
class Comparison:
    candidate: str  # run id
    scenario: str
    baseline_kind: str  # "run" or "history"
    baseline_runs: tuple[str, ...]
    window_seconds: float
    metrics: tuple[MetricComparison, ...]
    thresholds: Thresholds
    notes: tuple[str, ...] = ()

    @property
    def regressions(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.outcome is Outcome.REGRESSION)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    @property
    def verdict(self) -> str:
        return "regression" if self.regressed else "pass"


def _worse_amount(spec: MetricSpec, baseline: float, candidate: float) -> float:
    diff = candidate - baseline
    return diff if spec.worse is Direction.HIGHER_IS_WORSE else -diff


def _spread(values: Sequence[float]) -> tuple[float, float]:
    """(coefficient of variation, standard deviation) of per-run values; zeros under 2 runs."""
    if len(values) < 2:
        return 0.0, 0.0
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    return (sd / mean if mean > 0 else 0.0), sd


def _p_worse(spec: MetricSpec, base: Sequence[float], cand: Sequence[float]) -> float:
    if spec.worse is Direction.HIGHER_IS_WORSE:
        return mann_whitney_greater(cand, base)
    return mann_whitney_greater(base, cand)


def _p_better(spec: MetricSpec, base: Sequence[float], cand: Sequence[float]) -> float:
    if spec.worse is Direction.HIGHER_IS_WORSE:
        return mann_whitney_greater(base, cand)
    return mann_whitney_greater(cand, base)


def _fmt(value: float, unit: str) -> str:
    return f"{value:.3g} {unit}".strip()


def _baseline_value(spec: MetricSpec, base: Sequence[Measurement]) -> float | None:
    if spec.kind == "error-rate":
        requests = sum(m.requests for m in base)
        return 100.0 * sum(m.failures for m in base) / requests if requests else None
    per_run = [m.value for m in base if m.value is not None]
    return statistics.median(per_run) if per_run else None


def raw_p_values(spec: MetricSpec, base: Sequence[Measurement], cand: Measurement,
                 thresholds: Thresholds) -> tuple[float, float] | None:
    """(p that the candidate is worse, p that it is better), unadjusted; None: not testable
    (no data, or fewer than `min_windows` windows a side)."""
    if _baseline_value(spec, base) is None or cand.value is None:
        return None
    if spec.kind == "error-rate":
        fails, total = cand.failures, cand.requests
        base_fails, base_total = sum(m.failures for m in base), sum(m.requests for m in base)
        return (proportion_greater(fails, total, base_fails, base_total),
                proportion_greater(base_fails, base_total, fails, total))
    base_windows = [v for m in base for v in m.windows]
    if min(len(base_windows), len(cand.windows)) < thresholds.min_windows:
        return None
    return (_p_worse(spec, base_windows, cand.windows),
            _p_better(spec, base_windows, cand.windows))


def judge(spec: MetricSpec, base: Sequence[Measurement], cand: Measurement,
          thresholds: Thresholds, p_values: tuple[float, float] | None = None,
          family: int = 1, noise: Sequence[Measurement] = ()) -> MetricComparison:
    """The verdict for one metric; `base` holds one Measurement per baseline run.

    `p_values`: (worse, better) already adjusted for the `family` of metrics tested together
    (compare_runs passes Holm-adjusted ones); by default the metric's own raw p-values.
    `noise`: more runs (not baselines) whose values, with the baselines', give the spread.
    """
    rule = thresholds.rules[spec.kind]
    per_run = tuple(m.value for m in base if m.value is not None)
    base_windows = tuple(v for m in base for v in m.windows)
    cv, sd = _spread(per_run + tuple(m.value for m in noise if m.value is not None))
    tol_rel = max(rule.min_relative, thresholds.spread_factor * cv)
    tol_abs = max(rule.min_absolute, thresholds.spread_factor * sd)
    b_value = _baseline_value(spec, base)
    result = MetricComparison(spec, Outcome.NO_DATA, b_value, cand.value, None, tol_rel, tol_abs,
                              "", baseline_windows=base_windows, candidate_windows=cand.windows,
                              baseline_runs=per_run)
    if b_value is None or cand.value is None:
        return replace(result, reason="no data in " + ("the baseline" if b_value is None
                                                       else "this run"))
    if p_values is None:
        p_values = raw_p_values(spec, base, cand, thresholds)
    if p_values is None:
        return replace(result, reason=(
            f"too few windows to test ({len(cand.windows)} here, {len(base_windows)} in the "
            f"baseline; at least {thresholds.min_windows} each)"))
    p_worse, p_better = p_values
    worse = _worse_amount(spec, b_value, cand.value)
    if worse == 0:
        return replace(result, outcome=Outcome.UNCHANGED, p_value=1.0, reason="no change")
    relative = abs(worse) / b_value if b_value > 0 else float("inf")
    big_enough = relative > tol_rel and abs(worse) > tol_abs
    # error rate is judged in percentage points only; the rest relative and absolute
    unit = "pp" if spec.kind == "error-rate" else spec.unit
    limits = f"{tol_rel:.1%} and {_fmt(tol_abs, unit)}" if tol_rel > 0 else _fmt(tol_abs, unit)
    amount = _fmt(abs(worse), unit) + (f" ({relative:.1%})" if tol_rel > 0 else "")
    direction = "worse" if worse > 0 else "better"
    p = p_worse if worse > 0 else p_better
    p_text = f"p = {p:.2g}" + (f" (Holm, {family} metrics)" if family > 1 else "")
    if big_enough and p < thresholds.alpha:
        outcome = Outcome.REGRESSION if worse > 0 else Outcome.IMPROVEMENT
        return replace(result, outcome=outcome, p_value=p, reason=(
            f"{direction} by {amount}, beyond {limits}; {p_text} < {thresholds.alpha:g}"))
    if not big_enough:
        why = f"{direction} by {amount}, within {limits}"
    else:
        why = f"{direction} by {amount}, beyond {limits} but not significant ({p_text})"
    return replace(result, outcome=Outcome.UNCHANGED, p_value=p, reason=why)


def compare_runs(candidate: RunData, baselines: Sequence[RunData], *,
                 thresholds: Thresholds | None = None, baseline_kind: str = "run",
                 noise: Sequence[RunData] = ()) -> Comparison:
    """Compare `candidate` with one baseline run or with several (a rolling history).

    `noise`: other good runs of the scenario (e.g. the store's recent ones) whose run-to-run
    spread widens the minimum effects; runs also among the baselines count once.
    """
    if not baselines:
        raise UsageError("compare: no baseline run to compare with")
    thresholds = thresholds or Thresholds()
    groups = sorted(candidate.samples.groups)
    seconds = window_length(candidate.samples, *(b.samples for b in baselines))
    cand = measure(candidate.samples, seconds, groups)
    base = [measure(b.samples, seconds, groups) for b in baselines]
    taken = {b.run_id for b in baselines} | {candidate.run_id}
    extra = [measure(n.samples, seconds, groups) for n in noise if n.run_id not in taken]
    notes = []
    for b in baselines:
        if b.result.scenario != candidate.result.scenario:
            notes.append(f"baseline {b.run_id} ran scenario {b.result.scenario!r}, this run "
                         f"{candidate.result.scenario!r}: the comparison may not be fair")
        if b.result.stack != candidate.result.stack:
            notes.append(f"baseline {b.run_id} ran on the {b.result.stack} stack, this run on "
                         f"{candidate.result.stack}")
    specs = metric_specs(groups)
    raw = {}
    for spec in specs:
        found = raw_p_values(spec, [m[spec.id] for m in base], cand[spec.id], thresholds)
        if found is not None:
            raw[spec.id] = found
    worse = holm_adjust({k: v[0] for k, v in raw.items()})
    better = holm_adjust({k: v[1] for k, v in raw.items()})
    metrics = tuple(
        judge(spec, [m[spec.id] for m in base], cand[spec.id], thresholds,
              p_values=(worse[spec.id], better[spec.id]) if spec.id in raw else None,
              family=len(raw), noise=[m[spec.id] for m in extra])
        for spec in specs
    )
    if extra:
        notes.append(f"run-to-run spread also from {len(extra)} other stored run(s) of the "
                     "scenario")
    return Comparison(
        candidate=candidate.run_id,
        scenario=candidate.result.scenario,
        baseline_kind=baseline_kind,
        baseline_runs=tuple(b.run_id for b in baselines),
        window_seconds=round(seconds, 3),
        metrics=metrics,
        thresholds=thresholds,
        notes=tuple(notes),
    )
