"""The report's `rollouts` section: one row per rollout fault (results.json `extra.rollouts`,
a table in report.html and summary.md), built from the fault's record and its checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.faults.records import FaultEvent
from harness.verify.check import CheckResult, Verdict, fault_checks

__all__ = ["rollout_lines", "rollout_rows"]

_OUTCOMES = {"complete": "complete", "deadline-exceeded": "deploy failed (deadline exceeded), "
             "rolled back", "interrupted": "interrupted by the end of the run"}


def rollout_rows(events: Sequence[FaultEvent], checks: Sequence[CheckResult],
                 origin: float) -> list[dict[str, Any]]:
    """Times in seconds since `origin`."""
    rows = []
    for event in events:
        facts = event.facts
        if event.kind != "rollout" or "status" not in facts:
            continue
        samples = facts.get("samples") or []
        own = fault_checks(checks, event.name)
        failed = own.get("failed-requests")
        p99 = own.get("p99")
        rows.append({
            "name": event.name,
            "outcome": str(facts["status"]),
            "bad": bool(facts["bad"]),
            "replicas": int(facts["replicas"]),
            "max_surge": int(facts["max_surge"]),
            "max_unavailable": int(facts["max_unavailable"]),
            "started_s": round(float(facts["started_at"]) - origin, 3),
            "duration_s": float(facts["duration_seconds"]),
            "settled_s": round(float(facts["settled_at"]) - origin, 3),
            "most_replicas": max((s["new"] + s["old"] for s in samples), default=None),
            "fewest_ready": min((s["new_ready"] + s["old_ready"] for s in samples), default=None),
            "most_terminating": max((s["terminating"] for s in samples), default=None),
            "failed_requests": None if failed is None else failed.observed,
            "p99_ms": None if p99 is None else p99.observed,
            "verdict": _worst(list(own.values())),
        })
    return rows


def _worst(checks: Sequence[CheckResult]) -> str:
    for verdict in (Verdict.FAIL, Verdict.UNTRUSTED, Verdict.PASS):
        if any(c.verdict is verdict for c in checks):
            return str(verdict)
    return str(Verdict.SKIPPED)


def rollout_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """summary.md's sentences, one per rollout."""
    lines = []
    for row in rows:
        p99 = "no p99" if row["p99_ms"] is None else f"p99 {row['p99_ms']:g} ms"
        lines.append(
            f"`{row['name']}` ({'bad version' if row['bad'] else 'new version'}, "
            f"{row['replicas']} replicas, maxSurge {row['max_surge']}, maxUnavailable "
            f"{row['max_unavailable']}): {_OUTCOMES.get(row['outcome'], row['outcome'])} after "
            f"{row['duration_s']:.1f} s; at most {row['most_replicas']} replicas, at least "
            f"{row['fewest_ready']} ready; {row['failed_requests']:g} failed requests, {p99} — "
            f"{row['verdict']}" if row["failed_requests"] is not None else
            f"`{row['name']}`: {_OUTCOMES.get(row['outcome'], row['outcome'])} after "
            f"{row['duration_s']:.1f} s — {row['verdict']}")
    return lines
