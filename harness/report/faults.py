"""The report's `faults` section: the fault timeline with each fault's recovery and verdicts,
and every replica exit, start and readiness change the replica controller saw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.config.faults import Fault
from harness.faults.injector import fault_names
from harness.faults.records import FaultEvent
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, fault_checks

__all__ = ["fault_section"]


def fault_section(faults: Sequence[Fault], events: Sequence[FaultEvent],
                  replica_events: Sequence[ReplicaEvent], origin: float,
                  checks: Sequence[CheckResult]) -> dict[str, Any] | None:
    """Times in seconds since `origin`. None when there is nothing to show (no faults and no
    replica exited)."""
    if not faults and not any(e.event == "exited" for e in replica_events):
        return None
    ordered = sorted(faults, key=lambda f: f.at)
    timeline = []
    for event in events:
        row: dict[str, Any] = {
            "name": event.name,
            "kind": event.kind,
            "scheduled_s": round(event.scheduled, 3),
            "outcome": str(event.outcome),
            "injected_s": _rel(event.injected_at, origin),
            "lifted_s": _rel(event.cleared_at, origin),
            "detail": event.detail,
        }
        own = fault_checks(checks, event.name)
        recovery = own.get("recovery")
        if recovery is not None:
            row["recovery_s"] = recovery.observed
            row["recovery_bound_s"] = recovery.threshold
        availability = own.get("availability")
        if availability is not None:
            row["availability_percent"] = availability.observed
        row["verdicts"] = {aspect: str(c.verdict) for aspect, c in own.items()}
        timeline.append(row)
    if not timeline and ordered:
        timeline = [{"name": n, "kind": f.kind, "scheduled_s": f.at, "outcome": "not run"}
                    for n, f in zip(fault_names(ordered), ordered, strict=True)]
    return {
        "timeline": timeline,
        "replica_events": [
            {"t_s": _rel(e.t, origin), "replica": e.replica, "event": e.event,
             "detail": e.detail, "caused_by_harness": e.expected}
            for e in replica_events
        ],
    }


def _rel(t: float | None, origin: float) -> float | None:
    return None if t is None else round(t - origin, 3)
