"""The report's rollouts section: one row per rollout from its record and checks, valid
against results.json's schema, and its sentences in summary.md."""

from __future__ import annotations

import dataclasses
import json

from harness.config.model import SloSpec
from harness.faults.records import FaultEvent, Outcome
from harness.report.rollouts import rollout_rows
from harness.report.schema import violations
from harness.report.summary import render_summary
from harness.verify.faults import fault_checks
from tests.report.factory import make_result
from tests.verify.test_rollout import GOOD, T0, rollout, run, sample


def test_each_rollout_is_one_row_of_numbers_that_the_schema_accepts():
    bad = rollout([sample(70, 0, 0, 3, 3), sample(71, 1, 0, 3, 3), sample(101, 0, 0, 3, 3)],
                  status="deadline-exceeded", bad=True, start=70, end=101, settled=102,
                  name="bad-deploy")
    skipped = FaultEvent("late", "rollout", 110, Outcome.SKIPPED, detail="the load ended")
    events = [rollout(GOOD), bad, skipped]
    checks = fault_checks(run(), events, SloSpec())
    rows = rollout_rows(events, checks, T0)
    assert [r["name"] for r in rows] == ["deploy-1", "bad-deploy"]
    first, second = rows
    assert (first["outcome"], first["most_replicas"], first["fewest_ready"],
            first["most_terminating"], first["failed_requests"], first["verdict"]) == (
        "complete", 4, 3, 1, 0, "pass")
    assert (second["outcome"], second["bad"], second["verdict"]) == (
        "deadline-exceeded", True, "pass")
    result = dataclasses.replace(make_result("passed"), extra={"rollouts": rows})
    assert violations("results", json.loads(result.to_json())) == ()
    text = render_summary(result)
    assert "## Rollouts" in text
    assert "deploy failed (deadline exceeded), rolled back after 31.0 s" in text
    broken = dataclasses.replace(result, extra={"rollouts": [{**first, "extra": 1}]})
    assert violations("results", json.loads(broken.to_json()))
