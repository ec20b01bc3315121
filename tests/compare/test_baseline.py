"""BASELINE arguments: auto, baseline, history[:N], a run folder or id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.compare.baseline import NoBaseline, resolve_baseline
from harness.compare.runs import RunData, find_run_folder, load_run
from harness.compare.store import ResultsStore
from harness.errors import UsageError


def _stored(store: ResultsStore, run: RunData, run_id: str, started: float) -> None:
    """A copy of `run` under another id and start time, added to the store."""
    folder = store.root.parent / "copies" / run_id
    shutil.copytree(run.folder, folder)
    data = json.loads((folder / "results.json").read_text())
    data.update(run_id=run_id, started_at=started)
    (folder / "results.json").write_text(json.dumps(data))
    store.add(load_run(folder), verdict=None, metrics={})


@pytest.fixture
def store(tmp_path: Path, baseline_run: RunData) -> ResultsStore:
    store = ResultsStore(tmp_path / "history")
    for i in range(1, 4):
        _stored(store, baseline_run, f"h{i}", float(i))
    return store


def test_auto_prefers_the_promoted_baseline(store: ResultsStore, same_run: RunData,
                                            tmp_path: Path) -> None:
    assert resolve_baseline("auto", same_run, store, tmp_path).kind == "history"
    store.set_baseline("h2")
    choice = resolve_baseline(None, same_run, store, tmp_path)
    assert (choice.kind, [r.run_id for r in choice.runs]) == ("run", ["h2"])
    assert "promoted" in choice.description


def test_history_takes_the_last_n(store: ResultsStore, same_run: RunData, tmp_path: Path) -> None:
    choice = resolve_baseline("history:2", same_run, store, tmp_path)
    assert [r.run_id for r in choice.runs] == ["h2", "h3"]
    assert [r.run_id for r in resolve_baseline("history", same_run, store, tmp_path,
                                               last=1).runs] == ["h3"]


@pytest.mark.parametrize("word", ["history:x", "history:0"])
def test_bad_history_counts(store: ResultsStore, same_run: RunData, tmp_path: Path,
                            word: str) -> None:
    with pytest.raises(UsageError, match="history"):
        resolve_baseline(word, same_run, store, tmp_path)


def test_nothing_to_compare_with(tmp_path: Path, same_run: RunData) -> None:
    empty = ResultsStore(tmp_path / "empty")
    for word in ("auto", "baseline", "history"):
        with pytest.raises(NoBaseline):
            resolve_baseline(word, same_run, empty, tmp_path)


def test_a_run_by_folder_or_id(tmp_path: Path, same_run: RunData, baseline_run: RunData,
                               slow_run: RunData) -> None:
    empty = ResultsStore(tmp_path / "empty")
    reports = baseline_run.folder.parent
    by_folder = resolve_baseline(str(baseline_run.folder), same_run, empty, reports)
    by_path = resolve_baseline(str(baseline_run.folder / "results.json"), same_run, empty, reports)
    assert by_folder.runs[0].run_id == by_path.runs[0].run_id == baseline_run.run_id
    by_id = resolve_baseline(slow_run.run_id, same_run, empty, reports)  # reports/<id>
    assert by_id.runs[0].run_id == "slow"
    with pytest.raises(UsageError, match="is the run being compared"):
        resolve_baseline(same_run.run_id, same_run, empty, reports)


def test_an_unknown_run_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no results.json found"):
        find_run_folder("20990101-nothing", tmp_path)


def test_a_stored_run_is_found_by_id(store: ResultsStore, tmp_path: Path) -> None:
    assert find_run_folder("h1", tmp_path) == store.folder("h1").resolve()
