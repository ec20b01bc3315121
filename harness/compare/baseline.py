"""What a comparison compares with: a BASELINE argument resolved to one or more stored runs.

BASELINE is one of
- a run folder, its results.json, or a run id (in reports/ or in the results store);
- `baseline`: the run promoted with `harness baseline set` for the candidate's scenario;
- `history` or `history:N`: the rolling history, the last N good stored runs of the scenario
  (N from `--last`, default 5);
- `auto` (the default): the promoted baseline if there is one, else the rolling history.

With tags (`--tag env=staging`) the promoted baseline counts only if it carries them, and the
history holds only runs that carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.compare.runs import RunData, find_run_folder, load_run
from harness.compare.store import ResultsStore
from harness.errors import UsageError

__all__ = ["DEFAULT_LAST", "BaselineChoice", "NoBaseline", "resolve_baseline"]

DEFAULT_LAST = 5
KEYWORDS = ("auto", "baseline", "history", "history:N")


class NoBaseline(UsageError):
    """There is nothing to compare with yet (no promoted baseline, an empty history)."""


@dataclass(frozen=True)
class BaselineChoice:
    kind: str  # "run" or "history"
    runs: tuple[RunData, ...]
    description: str


def _tagged(tags: Mapping[str, str]) -> str:
    return "".join(f" tagged {k}={v}" for k, v in sorted(tags.items()))


def _promoted(candidate: RunData, store: ResultsStore,
              tags: Mapping[str, str]) -> BaselineChoice | None:
    run_id = store.baseline(candidate.result.scenario)
    if run_id is None or run_id == candidate.run_id:
        return None
    if tags and run_id not in {r.run_id for r in store.runs(candidate.result.scenario, tags)}:
        return None
    run = load_run(store.folder(run_id))
    return BaselineChoice("run", (run,), f"the promoted baseline {run_id}")


def _history(candidate: RunData, store: ResultsStore, last: int,
             tags: Mapping[str, str]) -> BaselineChoice | None:
    ids = store.history(candidate.result.scenario, last=last, exclude=candidate.run_id, tags=tags)
    if not ids:
        return None
    runs = tuple(load_run(store.folder(i)) for i in ids)
    kind = "history" if len(runs) > 1 else "run"
    return BaselineChoice(kind, runs, f"the last {len(runs)} stored "
                          f"{candidate.result.scenario} run{'s' if len(runs) > 1 else ''}"
                          + _tagged(tags))


def resolve_baseline(spec: str | None, candidate: RunData, store: ResultsStore,
                     reports_dir: Path, *, last: int = DEFAULT_LAST,
                     tags: Mapping[str, str] | None = None) -> BaselineChoice:
    scenario = candidate.result.scenario
    wanted = dict(tags or {})
    word = (spec or "auto").strip()
    if word == "baseline":
        choice = _promoted(candidate, store, wanted)
        if choice is None:
            raise NoBaseline(f"no promoted baseline for scenario {scenario!r}{_tagged(wanted)} "
                             f"in {store.root} (promote one with `harness baseline set RUN`)")
        return choice
    if word == "history" or word.startswith("history:"):
        count = last
        if word.startswith("history:"):
            try:
                count = int(word.split(":", 1)[1])
            except ValueError:
                raise UsageError(f"BASELINE {word!r}: N must be a whole number, e.g. history:5"
                                 ) from None
            if count < 1:
                raise UsageError(f"BASELINE {word!r}: N must be at least 1")
        choice = _history(candidate, store, count, wanted)
        if choice is None:
            raise NoBaseline(f"no stored {scenario!r} runs{_tagged(wanted)} in {store.root} "
                             "to form a history "
                             "(runs are stored by `harness run --compare` or "
                             "`harness baseline add RUN`)")
        return choice
    if word == "auto":
        choice = (_promoted(candidate, store, wanted)
                  or _history(candidate, store, last, wanted))
        if choice is None:
            raise NoBaseline(f"nothing to compare with: no promoted baseline and no stored "
                             f"{scenario!r} runs{_tagged(wanted)} in {store.root} "
                             "(try `harness baseline set RUN`)")
        return choice
    folder = find_run_folder(word, reports_dir)
    if folder == candidate.folder:
        raise UsageError(f"BASELINE {word!r} is the run being compared")
    run = load_run(folder)
    return BaselineChoice("run", (run,), f"run {run.run_id}")
