"""Rollout checks on synthetic runs: failed requests against the budget, the ready floor and
the surge ceiling from the sampled counts, p99 against the SLO, completion, and a bad version
that must stop at its deadline with the old one serving."""

from __future__ import annotations

from typing import Any

import pytest

from harness.config.model import SloSpec
from harness.faults.records import FaultEvent, Outcome
from harness.load.records import LoadResult
from harness.verify.check import Verdict
from harness.verify.faults import fault_checks
from harness.verify.rollout import AFTER, rollout_checks
from tests.load.helpers import interval

T0 = 1_000_000.0
NAME = "POST /api/tickets"


def run(bad: dict[int, tuple[int, float]] | None = None, seconds: int = 120) -> LoadResult:
    intervals = []
    for start in range(0, seconds, 2):
        failures, ms = (bad or {}).get(start, (0, 20.0))
        intervals.append(interval(start, start + 2, {NAME: [ms] * 100}, {NAME: failures}))
    return LoadResult(T0, T0 + seconds, tuple(intervals), (), ())


def sample(t: float, new: int, new_ready: int, old: int, old_ready: int,
           terminating: int = 0) -> dict[str, Any]:
    return {"t": T0 + t, "new": new, "new_ready": new_ready, "old": old, "old_ready": old_ready,
            "terminating": terminating}


GOOD = [sample(40, 0, 0, 3, 3), sample(41, 1, 0, 3, 3), sample(43, 1, 1, 3, 3),
        sample(43.5, 1, 1, 2, 2, 1), sample(44, 2, 1, 2, 2, 1), sample(46, 2, 2, 1, 1, 1),
        sample(47, 3, 2, 1, 1, 1), sample(49, 3, 3, 0, 0, 1), sample(55, 3, 3, 0, 0, 0)]


def rollout(samples=GOOD, *, status="complete", bad=False, budget=0, start=40.0, end=49.0,
            settled=55.0, name="deploy-1") -> FaultEvent:
    facts = {"status": status, "bad": bad, "failed_requests_budget": budget, "replicas": 3,
             "max_surge": 1, "max_unavailable": 0, "min_ready_seconds": 0.0,
             "progress_deadline_seconds": 30.0, "termination_grace_seconds": 30.0,
             "pre_stop_seconds": 0.0, "started_at": T0 + start, "ended_at": T0 + end,
             "settled_at": T0 + settled, "duration_seconds": end - start, "old_revision": 1,
             "new_revision": 2, "retired": ["replica-1", "replica-2", "replica-3"],
             "rolled_back": status == "deadline-exceeded", "settings": [], "samples": samples}
    return FaultEvent(name, "rollout", start, Outcome.INJECTED, T0 + start, T0 + settled,
                      "test", facts)


def by_id(checks):
    return {c.id: c for c in checks}


def test_a_clean_rollout_passes_every_check():
    found = by_id(rollout_checks(rollout(), run(), SloSpec(), origin=T0))
    assert {k: c.verdict for k, c in found.items()} == {
        f"faults.deploy-1.{n}": Verdict.PASS
        for n in ("failed-requests", "ready-floor", "surge-ceiling", "p99", "completed")}
    assert found["faults.deploy-1.failed-requests"].window.end == 55.0 + AFTER
    assert found["faults.deploy-1.ready-floor"].observed == 3
    assert found["faults.deploy-1.surge-ceiling"].observed == 4
    assert found["faults.deploy-1.completed"].observed == pytest.approx(9.0)
    assert "healthcheck" not in found["faults.deploy-1.ready-floor"].evidence


def test_the_ready_floor_says_what_ready_was_where_the_balancer_does_not_follow_it():
    event = rollout()
    event.facts["ready_means"] = "ready is healthy by the compose healthcheck, which nginx ..."
    floor = by_id(rollout_checks(event, run(), SloSpec(), origin=T0))["faults.deploy-1.ready-floor"]
    assert floor.verdict is Verdict.PASS
    assert floor.evidence.endswith("; ready is healthy by the compose healthcheck, which nginx ...")


def test_one_failed_request_fails_the_default_budget_and_a_budget_allows_it():
    load = run({46: (1, 20.0)})
    failed = by_id(rollout_checks(rollout(), load, SloSpec(), origin=T0))
    check = failed["faults.deploy-1.failed-requests"]
    assert (check.verdict, check.observed, check.threshold) == (Verdict.FAIL, 1, 0)
    assert NAME in check.evidence
    allowed = by_id(rollout_checks(rollout(budget=1), load, SloSpec(), origin=T0))
    assert allowed["faults.deploy-1.failed-requests"].verdict is Verdict.PASS
    outside = by_id(rollout_checks(rollout(), run({80: (5, 20.0)}), SloSpec(), origin=T0))
    assert outside["faults.deploy-1.failed-requests"].verdict is Verdict.PASS


def test_capacity_below_the_floor_or_above_the_ceiling_fails():
    dipped = [*GOOD[:3], sample(43.5, 1, 1, 2, 1)]
    found = by_id(rollout_checks(rollout(dipped), run(), SloSpec(), origin=T0))
    assert found["faults.deploy-1.ready-floor"].verdict is Verdict.FAIL
    assert found["faults.deploy-1.ready-floor"].observed == 2
    surged = [*GOOD[:2], sample(42, 2, 0, 3, 3)]
    found = by_id(rollout_checks(rollout(surged), run(), SloSpec(), origin=T0))
    assert found["faults.deploy-1.surge-ceiling"].verdict is Verdict.FAIL


def test_slow_responses_during_the_rollout_fail_its_p99():
    found = by_id(rollout_checks(rollout(), run({t: (0, 900.0) for t in range(40, 50, 2)}),
                                 SloSpec(), origin=T0))
    assert found["faults.deploy-1.p99"].verdict is Verdict.FAIL


def test_a_good_version_that_misses_its_deadline_fails():
    found = by_id(rollout_checks(rollout(status="deadline-exceeded", end=71.0), run(), SloSpec(),
                                 origin=T0))
    assert found["faults.deploy-1.completed"].verdict is Verdict.FAIL
    assert "deploy failed" in found["faults.deploy-1.completed"].evidence


def test_a_bad_version_must_stop_at_its_deadline_with_the_old_one_serving():
    samples = [sample(40, 0, 0, 3, 3), sample(41, 1, 0, 3, 3), sample(71, 0, 0, 3, 3)]
    found = by_id(rollout_checks(
        rollout(samples, status="deadline-exceeded", bad=True, end=71.5, settled=72.0), run(),
        SloSpec(), origin=T0))
    assert found["faults.deploy-1.stopped-at-deadline"].verdict is Verdict.PASS
    assert found["faults.deploy-1.old-serving"].verdict is Verdict.PASS
    assert "completed" not in " ".join(found)
    never = by_id(rollout_checks(rollout(samples, status="complete", bad=True), run(),
                                 SloSpec(), origin=T0))
    assert never["faults.deploy-1.stopped-at-deadline"].verdict is Verdict.FAIL
    late = by_id(rollout_checks(rollout(samples, status="deadline-exceeded", bad=True,
                                        end=80.0), run(), SloSpec(), origin=T0))
    assert late["faults.deploy-1.stopped-at-deadline"].verdict is Verdict.FAIL


def test_fault_checks_judge_a_rollout_by_its_own_checks_only():
    found = by_id(fault_checks(run(), [rollout()], SloSpec()))
    assert "faults.deploy-1.availability" not in found
    assert "faults.deploy-1.failed-requests" in found
