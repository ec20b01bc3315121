"""The report's `faults` section from the fault events, the replica events and the checks."""

from __future__ import annotations

from harness.config.faults import KillReplica
from harness.faults.records import FaultEvent, Outcome
from harness.report.faults import fault_section
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, Verdict


def _check(check_id: str, observed: float, threshold: float) -> CheckResult:
    return CheckResult(check_id, check_id, Verdict.PASS, observed, threshold, "s", "<=", None,
                       "evidence")


def test_nothing_to_show_without_faults_or_crashes() -> None:
    started = ReplicaEvent(105.0, "replica-1", "started")
    assert fault_section([], [], [started], 100.0, []) is None


def test_a_fault_row_carries_its_times_recovery_and_verdicts() -> None:
    fault = KillReplica(at=5, kind="kill-replica", name="crash")
    event = FaultEvent("crash", "kill-replica", 5.0, Outcome.INJECTED, 105.2, 105.2, "killed 1")
    exited = ReplicaEvent(105.3, "replica-2", "exited", "SIGKILL", expected=True)
    checks = [_check("faults.crash.recovery", 1.8, 60.0),
              _check("faults.crash.availability", 100.0, 99.5),
              _check("faults.other.recovery", 9.0, 60.0)]
    section = fault_section([fault], [event], [exited], 100.0, checks)
    assert section is not None
    row, = section["timeline"]
    assert (row["injected_s"], row["lifted_s"]) == (5.2, 5.2)
    assert (row["recovery_s"], row["recovery_bound_s"]) == (1.8, 60.0)
    assert row["availability_percent"] == 100.0
    assert row["verdicts"] == {"recovery": "pass", "availability": "pass"}
    assert section["replica_events"] == [{"t_s": 5.3, "replica": "replica-2", "event": "exited",
                                          "detail": "SIGKILL", "caused_by_harness": True}]


def test_faults_that_never_ran_are_listed_as_not_run() -> None:
    faults = [KillReplica(at=30, kind="kill-replica"), KillReplica(at=10, kind="kill-replica")]
    section = fault_section(faults, [], [], 0.0, [])
    assert section is not None
    assert [(r["name"], r["scheduled_s"], r["outcome"]) for r in section["timeline"]] == [
        ("kill-replica-1", 10, "not run"), ("kill-replica-2", 30, "not run")]
