"""Find a run by folder, results.json path or run id, and load what a comparison needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.compare.samples import SAMPLES_FILE, RunSamples, read_samples
from harness.errors import UsageError
from harness.report.results import RESULTS_FILE, RunResult, load_results

__all__ = ["NoRequests", "RunData", "find_run_folder", "load_run", "require_requests"]


@dataclass(frozen=True)
class RunData:
    """One run as a comparison sees it: its results and its per-interval samples."""

    folder: Path
    result: RunResult
    samples: RunSamples

    @property
    def run_id(self) -> str:
        return self.result.run_id


class NoRequests(UsageError):
    """A run in which no request completed (it errored or was interrupted early)."""


def require_requests(run: RunData) -> RunData:
    """A run without a single request has nothing to compare: never a silent PASS."""
    if run.result.totals.requests <= 0:
        raise NoRequests(f"run {run.run_id} ({run.folder}): no requests were made (status "
                         f"{run.result.status.value!r}); nothing to compare")
    return run


def find_run_folder(ref: str | Path, reports_dir: Path) -> Path:
    """A run folder from a path (folder or its results.json) or a run id.

    A run id is looked up in `reports_dir` first, then in the results store
    (`reports_dir/history/runs/`), so a promoted baseline survives the run folder's deletion.
    """
    text = str(ref)
    candidates = [Path(text)]
    if "/" not in text and text not in (".", ".."):
        candidates += [reports_dir / text, reports_dir / "history" / "runs" / text]
    for candidate in candidates:
        try:
            if candidate.is_file() and candidate.name == RESULTS_FILE:
                return candidate.parent.resolve()
            if (candidate / RESULTS_FILE).is_file():
                return candidate.resolve()
        except OSError:  # a name too long for the file system: not a run either
            continue
    raise UsageError(
        f"run {text!r}: no {RESULTS_FILE} found (give a run folder, its {RESULTS_FILE}, or a run "
        f"id under {reports_dir} or {reports_dir / 'history' / 'runs'})"
    )


def load_run(folder: Path) -> RunData:
    """Load results.json and intervals.jsonl.gz of a run folder (ConfigError if either is bad)."""
    result = load_results(folder / RESULTS_FILE)
    samples = read_samples(folder / SAMPLES_FILE)
    return RunData(folder=folder, result=result, samples=samples)
