"""The results store: the runs a comparison may use as a baseline, under `reports/history/`.

    reports/history/
      index.json                 every stored run, newest last, with its key metrics
      runs/<run-id>/results.json  copies, so a baseline survives its run folder's deletion
      runs/<run-id>/intervals.jsonl.gz
      trends.html, trends.md     the history report (`harness baseline trends`)

index.json (version 1):

    {"version": 1,
     "baselines": {"nightly": "20261127-020000-nightly-ab12"},   # promoted, per scenario
     "runs": [{"run_id": ..., "scenario": ..., "stack": ..., "started_at": 1790000000.0,
               "status": "passed", "verdict": "pass" | "regression" | null,
               "metrics": {"latency.all.p95": 41.2, "throughput": 88.1, ...},
               "tags": {"env": "staging"}}]}

The rolling-history baseline is the last N stored runs of the same scenario that passed their
checks and were not themselves judged a regression, so a slow night does not drag the baseline
along with it; given tags (`--tag env=staging`), only runs carrying all of them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harness.atomic import write_json
from harness.compare.runs import RunData
from harness.compare.samples import SAMPLES_FILE
from harness.config.tags import matches
from harness.errors import ConfigError, UsageError
from harness.report.results import RESULTS_FILE

__all__ = ["INDEX_VERSION", "ResultsStore", "StoredRun"]

INDEX_VERSION = 1
DEFAULT_KEEP = 90  # stored runs kept (promoted baselines are never pruned)


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    scenario: str
    stack: str
    started_at: float
    status: str
    verdict: str | None = None  # of the comparison made when the run was stored
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)  # the run's tags (older rows: none)


_ROWS: TypeAdapter[list[StoredRun]] = TypeAdapter(list[StoredRun])
_BASELINES: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])


class ResultsStore:
    """Read and change `root/index.json` and `root/runs/`. Writes are atomic (rename)."""

    def __init__(self, root: Path, *, keep: int = DEFAULT_KEEP) -> None:
        self.root = root
        self.keep = keep

    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def folder(self, run_id: str) -> Path:
        if run_id in ("", ".", "..") or Path(run_id).name != run_id:  # stays inside runs/
            raise ConfigError(str(self.index_path), "run_id",
                              f"{run_id!r} is not a run folder name")
        return self.root / "runs" / run_id

    # ------------------------------------------------------------------ reading

    def _load(self) -> dict[str, Any]:
        if not self.index_path.exists():
            return {"version": INDEX_VERSION, "baselines": {}, "runs": []}
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(str(self.index_path), None, f"unreadable: {exc}") from None
        version = data.get("version") if isinstance(data, dict) else data
        if not isinstance(data, dict) or version != INDEX_VERSION:
            raise ConfigError(str(self.index_path), "version", f"unsupported {version!r}",
                              str(INDEX_VERSION))
        for key, adapter in (("runs", _ROWS), ("baselines", _BASELINES)):
            self._valid(data, key, adapter)
        return data

    def runs(self, scenario: str | None = None,
             tags: Mapping[str, str] | None = None) -> list[StoredRun]:
        """Stored runs (of `scenario`, carrying every one of `tags`), oldest first."""
        rows = _ROWS.validate_python(self._load().get("runs", []))
        rows.sort(key=lambda r: (r.started_at, r.run_id))
        return [r for r in rows if (scenario is None or r.scenario == scenario)
                and matches(r.tags, tags or {})]

    def baselines(self) -> dict[str, str]:
        return _BASELINES.validate_python(self._load().get("baselines", {}))

    def _valid(self, data: dict[str, Any], key: str, adapter: TypeAdapter[Any]) -> None:
        """index.json's `key` checked against its type: a hand-edited or damaged index names
        the entry that is wrong instead of failing later."""
        if key not in data:
            return
        try:
            adapter.validate_python(data[key])
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = [key, *(str(part) for part in first.get("loc", ()))]
            raise ConfigError(str(self.index_path), where,
                              f"malformed: {first.get('msg', 'invalid value')}") from None

    def baseline(self, scenario: str) -> str | None:
        return self.baselines().get(scenario)

    def history(self, scenario: str, *, last: int, exclude: str | None = None,
                tags: Mapping[str, str] | None = None) -> list[str]:
        """Run ids of the rolling-history baseline: the last `last` good runs of `scenario`
        (that carry every one of `tags`)."""
        good = [r.run_id for r in self.runs(scenario, tags)
                if r.run_id != exclude and r.status == "passed" and r.verdict != "regression"]
        return good[-last:] if last > 0 else []

    # ------------------------------------------------------------------ writing

    def _save(self, data: dict[str, Any]) -> None:
        write_json(self.index_path, data)

    def add(self, run: RunData, *, verdict: str | None,
            metrics: Mapping[str, float | None]) -> StoredRun:
        """Copy the run's results.json and samples into the store and index it (replacing an
        earlier entry of the same run id)."""
        target = self.folder(run.run_id)
        if run.folder.resolve() != target.resolve():
            target.mkdir(parents=True, exist_ok=True)
            for name in (RESULTS_FILE, SAMPLES_FILE):
                shutil.copy2(run.folder / name, target / name)
        entry = StoredRun(
            run_id=run.run_id, scenario=run.result.scenario, stack=run.result.stack,
            started_at=run.result.started_at, status=run.result.status.value, verdict=verdict,
            metrics={k: (round(v, 6) if v is not None else None) for k, v in metrics.items()},
            tags=dict(run.result.tags),
        )
        data = self._load()
        rows = [asdict(r) for r in _ROWS.validate_python(data.get("runs", []))
                if r.run_id != run.run_id]
        rows.append(asdict(entry))
        rows.sort(key=lambda r: (r["started_at"], r["run_id"]))
        data["runs"] = self._prune(rows, set(data.get("baselines", {}).values()))
        self._save(data)
        return entry

    def _prune(self, rows: list[dict[str, Any]], keep_ids: set[str]) -> list[dict[str, Any]]:
        excess = len(rows) - self.keep
        if excess <= 0:
            return rows
        kept = []
        for row in rows:
            if excess > 0 and row["run_id"] not in keep_ids:
                excess -= 1
                shutil.rmtree(self.folder(row["run_id"]), ignore_errors=True)
                continue
            kept.append(row)
        return kept

    def set_baseline(self, run_id: str) -> StoredRun:
        """Promote a stored run to the baseline of its scenario."""
        data = self._load()
        for row in data.get("runs", []):
            if row.get("run_id") == run_id:
                data.setdefault("baselines", {})[row["scenario"]] = run_id
                self._save(data)
                return StoredRun(**row)
        raise UsageError(f"baseline set: run {run_id!r} is not in the store {self.root}")
