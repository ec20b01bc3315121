"""The compare flow the commands share: resolve the baseline, compare (with the store's recent
good runs for the run-to-run spread), write the report, and (optionally) keep the run in the
results store and refresh the history report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from harness.compare.baseline import BaselineChoice, resolve_baseline
from harness.compare.changepoints import HistoryView, history_view
from harness.compare.metrics import measure, window_length
from harness.compare.report import ComparisonFiles, write_comparison
from harness.compare.runs import RunData, load_run
from harness.compare.store import ResultsStore, StoredRun
from harness.compare.trends import KEY_METRICS, TrendFiles, change_point_text, write_trends
from harness.compare.verdict import Comparison, Thresholds, compare_runs

__all__ = ["ComparisonOutcome", "compare_run", "record_run", "run_metrics", "segment_history",
           "store_for"]


@dataclass(frozen=True)
class ComparisonOutcome:
    comparison: Comparison
    baseline: BaselineChoice
    files: ComparisonFiles
    history: HistoryView | None = None


def store_for(reports_dir: Path) -> ResultsStore:
    return ResultsStore(reports_dir / "history")


def run_metrics(run: RunData) -> Mapping[str, float | None]:
    """A run's whole-run values over its steady state, as the store's index keeps them."""
    groups = sorted(run.samples.groups)
    measured = measure(run.samples, window_length(run.samples), groups)
    return {metric: m.value for metric, m in measured.items()}


def compare_run(candidate: RunData, baseline: str | None, *, reports_dir: Path,
                store: ResultsStore, last: int, thresholds: Thresholds,
                out: Path | None = None,
                tags: Mapping[str, str] | None = None) -> ComparisonOutcome:
    """Compare with BASELINE; with `tags`, only stored runs that carry them are used."""
    choice = resolve_baseline(baseline, candidate, store, reports_dir, last=last, tags=tags)
    chosen = {r.run_id for r in choice.runs}
    noise = [load_run(store.folder(i)) for i in store.history(candidate.result.scenario,
                                                              last=last, exclude=candidate.run_id,
                                                              tags=tags)
             if i not in chosen]
    comparison = compare_runs(candidate, choice.runs, thresholds=thresholds,
                              baseline_kind=choice.kind, noise=noise)
    history = segment_history(candidate, store, thresholds, tags)
    if history.starts:
        comparison = replace(comparison, notes=comparison.notes + tuple(
            f"this run starts a new segment of {c.metric} in the stored history "
            f"({history.runs} runs): {change_point_text(c)}" for c in history.starts))
    files = write_comparison(out or candidate.folder, comparison, candidate, choice.runs,
                             choice.description, history=history)
    return ComparisonOutcome(comparison, choice, files, history)


def segment_history(candidate: RunData, store: ResultsStore, thresholds: Thresholds,
                    tags: Mapping[str, str] | None = None) -> HistoryView:
    """The candidate among its scenario's stored runs (carrying every one of `tags`): the key
    metrics' change points."""
    entry = StoredRun(run_id=candidate.run_id, scenario=candidate.result.scenario,
                      stack=candidate.result.stack, started_at=candidate.result.started_at,
                      status=candidate.result.status.value, metrics=run_metrics(candidate),
                      tags=dict(candidate.result.tags))
    return history_view(entry, store.runs(candidate.result.scenario, tags),
                        [m for m, _, _ in KEY_METRICS], thresholds.rules)


def record_run(run: RunData, store: ResultsStore, verdict: str | None
               ) -> tuple[StoredRun, TrendFiles]:
    """Keep the run in the store (with its comparison's verdict) and refresh trends.html."""
    entry = store.add(run, verdict=verdict, metrics=run_metrics(run))
    return entry, write_trends(store)
