"""Change points in the history of the results store: where a key metric stepped to a new level
and stayed there, found across many stored runs instead of between two.

The detector is Apache Otava's (`otava.analysis.compute_change_points`): E-Divisive means
(Matteson and James, 2014) run over sliding windows, each candidate tested with a two-sided
Student's t-test, then the merge step of Hunter (Fleming et al., ICPE 2023) removes the weakest
candidates until each remaining one has p < `max_pvalue` *and* a relative change of at least the
metric's minimum effect. The minimum effects are the comparison's (`verdict.DEFAULT_RULES`: p95
7.5 % and 1 ms, throughput 5 %, …), absolute floor included, so that one noisy night, or a
significant but tiny shift, is not a change.

A change point at run i says: runs i, i+1, … (to the next change point) differ from the runs
before. When the new segment holds only the newest run it is `provisional`: a single run cannot
tell a step from a noisy night; the next run confirms or dissolves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.compare.metrics import Direction
from harness.compare.store import StoredRun
from harness.compare.verdict import DEFAULT_RULES, Rule

__all__ = ["MAX_P_VALUE", "MIN_RUNS", "ChangePoint", "HistoryView", "MetricHistory",
           "direction_of", "find_change_points", "history_change_points", "history_view",
           "rule_kind"]

MAX_P_VALUE = 0.001  # Otava's default; with ~12 runs and 4 % night-to-night noise, few false alarms
MIN_RUNS = 4  # fewer stored runs than this: no segments to speak of
WINDOW_RUNS = 50  # Otava's sliding window, in runs
UNTRUSTED_STATUSES = frozenset({"interrupted", "error"})  # partial numbers: not part of a series


@dataclass(frozen=True)
class ChangePoint:
    metric: str
    run_id: str  # the first run of the new segment
    index: int  # its position in the metric's series
    before: float  # mean of the segment before
    after: float  # mean of the new segment
    p_value: float
    provisional: bool  # the new segment holds only the newest run
    worse: bool  # the step went the metric's bad way (higher latency, lower throughput)

    @property
    def change(self) -> float | None:
        """Relative step, after against before (+0.20: 20 % higher)."""
        return (self.after - self.before) / self.before if self.before else None


@dataclass(frozen=True)
class MetricHistory:
    metric: str
    run_ids: tuple[str, ...]
    values: tuple[float, ...]
    change_points: tuple[ChangePoint, ...]

    def segment_of(self, run_id: str) -> tuple[int, int] | None:
        """[start, end) positions of the segment holding `run_id`, or None."""
        if run_id not in self.run_ids:
            return None
        index = self.run_ids.index(run_id)
        cuts = [0, *(c.index for c in self.change_points), len(self.run_ids)]
        for start, end in zip(cuts, cuts[1:], strict=False):
            if start <= index < end:
                return start, end
        return None


def rule_kind(metric: str) -> str:
    """The comparison rule a metric id falls under: latency.<group>.p95 → p95."""
    return metric.rsplit(".", 1)[-1] if metric.startswith("latency.") else metric


def direction_of(metric: str) -> Direction:
    return Direction.LOWER_IS_WORSE if metric == "throughput" else Direction.HIGHER_IS_WORSE


def find_change_points(metric: str, run_ids: Sequence[str], values: Sequence[float], rule: Rule,
                       *, max_p_value: float = MAX_P_VALUE) -> tuple[ChangePoint, ...]:
    """Change points of one metric's series (oldest run first)."""
    from otava.analysis import compute_change_points

    if len(values) < MIN_RUNS:
        return ()
    series = [float(v) for v in values]
    found, _ = compute_change_points(series, window_len=WINDOW_RUNS, max_pvalue=max_p_value,
                                     min_magnitude=rule.min_relative)
    worse_up = direction_of(metric) is Direction.HIGHER_IS_WORSE
    points = []
    for point in found:
        index = int(point.index)
        before, after = float(point.stats.mean_before()), float(point.stats.mean_after())
        if abs(after - before) < rule.min_absolute:
            continue  # significant, but smaller than the metric's absolute minimum effect
        points.append(ChangePoint(
            metric=metric, run_id=run_ids[index], index=index, before=before, after=after,
            p_value=float(point.stats.pvalue), provisional=index == len(series) - 1,
            worse=(after > before) == worse_up,
        ))
    return tuple(points)


def history_change_points(runs: Sequence[StoredRun], metrics: Sequence[str],
                          rules: Mapping[str, Rule] | None = None,
                          *, max_p_value: float = MAX_P_VALUE) -> dict[str, MetricHistory]:
    """Per metric, the series of `runs` (oldest first) that have a value for it, with its
    change points. Interrupted and failed-to-run runs are
    left out: their numbers are partial."""
    chosen = rules or DEFAULT_RULES
    histories = {}
    for metric in metrics:
        rows = [(r.run_id, r.metrics.get(metric)) for r in runs
                if r.status not in UNTRUSTED_STATUSES]
        series = [(run_id, float(v)) for run_id, v in rows if v is not None]
        ids = tuple(run_id for run_id, _ in series)
        values = tuple(v for _, v in series)
        rule = chosen.get(rule_kind(metric), Rule(0.0, 0.0))
        histories[metric] = MetricHistory(
            metric, ids, values,
            find_change_points(metric, ids, values, rule, max_p_value=max_p_value))
    return histories


@dataclass(frozen=True)
class HistoryView:
    """A compared run within its scenario's stored history: the change points of the key
    metrics, and those at which this run starts a new segment."""

    run_id: str
    runs: int  # runs in the longest metric series, this one included
    change_points: tuple[ChangePoint, ...]

    @property
    def starts(self) -> tuple[ChangePoint, ...]:
        return tuple(c for c in self.change_points if c.run_id == self.run_id)

    def to_json(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "starts_segment": [c.metric for c in self.starts],
            "change_points": [
                {"metric": c.metric, "run_id": c.run_id, "before": c.before, "after": c.after,
                 "change": c.change, "p_value": c.p_value, "provisional": c.provisional,
                 "worse": c.worse}
                for c in self.change_points
            ],
        }


def history_view(candidate: StoredRun, stored: Sequence[StoredRun], metrics: Sequence[str],
                 rules: Mapping[str, Rule] | None = None) -> HistoryView:
    """`candidate` placed among the stored runs of its scenario (replacing a stored copy of
    itself), oldest first, and the change points of every metric."""
    runs = sorted([r for r in stored if r.scenario == candidate.scenario
                   and r.run_id != candidate.run_id] + [candidate],
                  key=lambda r: (r.started_at, r.run_id))
    histories = history_change_points(runs, metrics, rules)
    points = tuple(c for h in histories.values() for c in h.change_points)
    longest = max((len(h.values) for h in histories.values()), default=0)
    return HistoryView(candidate.run_id, longest, points)
