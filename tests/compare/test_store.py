"""The results store: index.json, copies of stored runs, promoted baselines, the history."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.compare.runs import RunData, load_run
from harness.compare.store import ResultsStore
from harness.errors import ConfigError, UsageError
from harness.report.results import RunStatus


def _as(run: RunData, run_id: str, started: float, status: RunStatus = RunStatus.PASSED,
        scenario: str | None = None) -> RunData:
    result = dataclasses.replace(run.result, run_id=run_id, started_at=started, status=status,
                                 scenario=scenario or run.result.scenario)
    return dataclasses.replace(run, result=result)


def test_add_copies_the_run_and_indexes_it(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    entry = store.add(baseline_run, verdict=None, metrics={"throughput": 100.123456789})
    assert (store.folder(baseline_run.run_id) / "results.json").is_file()
    assert (store.folder(baseline_run.run_id) / "intervals.jsonl.gz").is_file()
    assert load_run(store.folder(baseline_run.run_id)).run_id == baseline_run.run_id
    assert store.runs() == [entry]
    assert entry.metrics == {"throughput": 100.123457}
    data = json.loads(store.index_path.read_text())
    assert data["version"] == 1 and data["baselines"] == {}


def test_adding_again_replaces_the_entry(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    store.add(baseline_run, verdict=None, metrics={})
    store.add(baseline_run, verdict="pass", metrics={})
    assert [r.verdict for r in store.runs()] == ["pass"]


def test_history_is_the_last_good_runs_of_the_scenario(tmp_path: Path,
                                                       baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    store.add(_as(baseline_run, "r1", 1.0), verdict=None, metrics={})
    store.add(_as(baseline_run, "r2", 2.0), verdict="pass", metrics={})
    store.add(_as(baseline_run, "r3", 3.0), verdict="regression", metrics={})  # left out
    store.add(_as(baseline_run, "r4", 4.0, RunStatus.FAILED), verdict="pass", metrics={})  # too
    store.add(_as(baseline_run, "r5", 5.0, scenario="peak"), verdict=None, metrics={})  # other
    store.add(_as(baseline_run, "r6", 6.0), verdict="pass", metrics={})
    assert store.history("nightly", last=5) == ["r1", "r2", "r6"]
    assert store.history("nightly", last=2) == ["r2", "r6"]
    assert store.history("nightly", last=5, exclude="r6") == ["r1", "r2"]
    assert [r.run_id for r in store.runs("peak")] == ["r5"]


def test_set_baseline_per_scenario(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    store.add(_as(baseline_run, "r1", 1.0), verdict=None, metrics={})
    store.set_baseline("r1")
    assert store.baseline("nightly") == "r1" and store.baseline("peak") is None
    with pytest.raises(UsageError, match="not in the store"):
        store.set_baseline("nope")


def test_pruning_keeps_promoted_baselines(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history", keep=2)
    store.add(_as(baseline_run, "r1", 1.0), verdict=None, metrics={})
    store.set_baseline("r1")
    for i in (2, 3, 4):
        store.add(_as(baseline_run, f"r{i}", float(i)), verdict=None, metrics={})
    assert [r.run_id for r in store.runs()] == ["r1", "r4"]
    assert not store.folder("r2").exists() and store.folder("r1").exists()


def test_a_bad_index_is_a_config_error(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.index_path.write_text('{"version": 7}')
    with pytest.raises(ConfigError, match="version"):
        store.runs()
    store.index_path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        store.runs()


def test_an_empty_store_has_nothing(tmp_path: Path, make_run: Callable[..., RunData]) -> None:
    store = ResultsStore(tmp_path / "none")
    assert store.runs() == [] and store.baselines() == {}
    assert store.history("nightly", last=5) == []


def _tagged(run: RunData, run_id: str, started: float, **tags: str) -> RunData:
    tagged = _as(run, run_id, started)
    return dataclasses.replace(tagged, result=dataclasses.replace(tagged.result, tags=tags))


def test_tags_are_kept_and_select_the_history(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    store.add(_tagged(baseline_run, "s1", 1.0, env="staging", team="sre"), verdict=None,
              metrics={})
    store.add(_tagged(baseline_run, "p1", 2.0, env="prod"), verdict=None, metrics={})
    store.add(_as(baseline_run, "u1", 3.0), verdict=None, metrics={})  # untagged
    assert [r.tags for r in store.runs()] == [{"env": "staging", "team": "sre"},
                                              {"env": "prod"}, {}]
    assert store.history("nightly", last=5, tags={"env": "staging"}) == ["s1"]
    assert store.history("nightly", last=5, tags={"env": "prod", "team": "sre"}) == []
    assert store.history("nightly", last=5) == ["s1", "p1", "u1"]


def test_an_index_written_before_tags_still_reads(tmp_path: Path, baseline_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    store.add(_as(baseline_run, "old", 1.0), verdict=None, metrics={})
    data = json.loads(store.index_path.read_text())
    for row in data["runs"]:
        del row["tags"]
    store.index_path.write_text(json.dumps(data))
    assert [(r.run_id, r.tags) for r in store.runs()] == [("old", {})]
