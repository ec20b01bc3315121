"""The published JSON Schemas of results.json and compare.json, and `harness schema`."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness import settings
from harness.cli import main
from harness.load.aggregate import RequestStats, TimelinePoint
from harness.load.health import GeneratorRow, GeneratorSummary
from harness.load.latency import LatencySummary
from harness.load.records import StagePlan
from harness.report.render import write_report
from harness.report.results import ErrorCount, ReplicaPoint, RunResult, ServerSummary
from harness.report.schema import (
    SCHEMAS,
    SchemaViolation,
    check_written,
    load_schema,
    schema_text,
    violations,
)
from harness.status import ExitStatus
from harness.verify.check import CheckResult, Window
from harness.verify.headroom import Headroom, Limit, MemoryTrend, SteadyState
from tests.report.factory import make_result


def _document(result: RunResult) -> dict[str, Any]:
    return json.loads(result.to_json())


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_kind_of_result_validates(any_result: RunResult) -> None:
    assert violations("results", _document(any_result)) == ()


def test_the_written_results_json_validates(tmp_path: Path) -> None:
    files = write_report(make_result("passed", extra=True), tmp_path)
    assert violations("results", json.loads(files.results_json.read_text())) == ()


# The schema's closed records, by their definition name, and the records results.json is made of:
# a field added to a record without the schema (and README's versioning rule) fails here.
RECORDS = {
    "check": CheckResult, "window": Window, "requestStats": RequestStats,
    "latency": LatencySummary, "timelinePoint": TimelinePoint, "stage": StagePlan,
    "replicaPoint": ReplicaPoint, "server": ServerSummary, "error": ErrorCount,
    "generator": GeneratorSummary, "generatorRow": GeneratorRow,
    "headroom": Headroom, "steadyState": SteadyState, "memoryTrend": MemoryTrend,
    "limit": Limit,
}


@pytest.mark.parametrize("definition", sorted(RECORDS))
def test_closed_records_list_exactly_the_fields_of_their_dataclass(definition: str) -> None:
    spec = load_schema("results")["$defs"][definition]
    fields = {f.name for f in dataclasses.fields(RECORDS[definition])}
    assert spec["additionalProperties"] is False
    assert set(spec["properties"]) == fields, (
        f"results.schema.json $defs/{definition} and {RECORDS[definition].__name__} differ: "
        "update the schema (README: Schema versions)")
    required = {f.name for f in dataclasses.fields(RECORDS[definition])
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert required <= set(spec["required"])


def test_top_level_names_match_the_run_result() -> None:
    schema = load_schema("results")
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(RunResult)}


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d["checks"][0].update(headroom_percent=3.0), "checks/0"),
    (lambda d: d["checks"][0].update(verdict="maybe"), "checks/0/verdict"),
    (lambda d: d["checks"][0].pop("evidence"), "checks/0"),
    (lambda d: d["totals"]["latency"].pop("p99_ms"), "totals/latency"),
    (lambda d: d["totals"].update(requests=-1), "totals/requests"),
    (lambda d: d["timeline"][0].update(p95_ms="12 ms"), "timeline/0/p95_ms"),
    (lambda d: d.update(status="fine"), "status"),
    (lambda d: d.update(schema_version=2), "schema_version"),
    (lambda d: d.pop("run_id"), "(top level)"),
])
def test_core_records_are_strict(change: Any, where: str) -> None:
    document = _document(make_result("failed"))
    change(document)
    found = violations("results", document)
    assert found and any(p.startswith(where + ":") for p in found), found


def test_a_skipped_check_needs_its_reason() -> None:
    document = _document(make_result("passed"))
    document["checks"][0].update(verdict="skipped", reason=None)
    assert any(p.startswith("checks/0/reason:") for p in violations("results", document))


def test_new_sections_at_the_top_level_and_in_extra_are_accepted() -> None:
    document = _document(make_result("passed", extra=True))
    document["tags"] = {"env": "staging"}
    document["whatif"] = {"cpu_target": 60}
    document["extra"]["headroom"] = [{"check": "slo.latency.p95", "load_multiple": 1.8}]
    assert violations("results", document) == ()


def test_check_written_raises_only_when_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = _document(make_result("passed"))
    broken.pop("checks")
    monkeypatch.delenv(settings.ENV_CHECK_SCHEMA, raising=False)
    check_written("results", broken, "x/results.json")
    monkeypatch.setenv(settings.ENV_CHECK_SCHEMA, "1")
    with pytest.raises(SchemaViolation, match=r"x/results.json breaks the results schema: "
                                              r"\(top level\): 'checks' is a required property"):
        check_written("results", json.dumps(broken), "x/results.json")


def test_compare_schema_is_strict_for_metrics_and_open_at_the_top() -> None:
    metric = {"id": "latency.all.p95", "unit": "ms", "outcome": "unchanged", "baseline": 10.0,
              "candidate": 10.2, "change": 0.02, "p_value": 0.4, "tolerance_relative": 0.075,
              "tolerance_absolute": 1.0, "reason": "within noise",
              "windows": {"baseline": 12, "candidate": 12}}
    document = {"version": 1, "candidate": "run-2", "scenario": "nightly", "verdict": "pass",
                "baseline": {"kind": "run", "runs": ["run-1"], "description": ""},
                "window_seconds": 10.0, "alpha": 0.01, "regressions": [], "metrics": [metric],
                "notes": [], "segments": []}
    assert violations("compare", document) == ()
    broken = copy.deepcopy(document)
    broken["metrics"][0]["outcome"] = "worse"
    broken["metrics"][0]["extra_field"] = 1
    found = violations("compare", broken)
    assert len(found) == 2 and all(p.startswith("metrics/0") for p in found)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_command_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str],
                                                  name: str) -> None:
    assert main(["schema", name]) == ExitStatus.OK
    out = capsys.readouterr().out
    assert out == schema_text(name)
    assert json.loads(out)["$id"].endswith(f":{name}:1")


def test_schema_command_names_the_allowed_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "summary"]) == ExitStatus.BAD_CONFIG
    err = capsys.readouterr().err
    assert "'results'" in err and "'compare'" in err
