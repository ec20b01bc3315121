"""The run report's what-if table: a run that scaled, replayed at other CPU targets
(harness.plan.replay), as the typed table the report carries (harness.report.replay)."""

from __future__ import annotations

from harness.plan.replay import (
    REPORT_TARGETS,
    ReplayOutcome,
    ReplayReport,
    ReplaySetting,
    replay_run,
)
from harness.report.replay import HEADER, ReplayTable
from harness.report.results import RunResult
from harness.stack.trace import TraceError

__all__ = ["replay_table"]


def replay_table(result: RunResult) -> ReplayTable | None:
    """None unless the run scaled and recorded per-replica samples to replay."""
    decisions = (result.extra.get("scaling") or {}).get("decisions") or ()
    if not any(d.get("applied") != d.get("current") for d in decisions if isinstance(d, dict)):
        return None
    try:
        report = replay_run(result, [ReplaySetting(cpu_target=t) for t in REPORT_TARGETS])
    except (TraceError, ValueError):
        return None
    return ReplayTable(_caption(report), HEADER, tuple(_row(report, o) for o in report.replays))


def _caption(report: ReplayReport) -> str:
    run = report.run
    return (f"The run's recorded CPU demand replayed through the same HPA at other CPU targets "
            f"(the run: {run.cpu_target} %, peak {run.peak_replicas} replicas, "
            f"{run.replica_minutes:.1f} replica-minutes, {run.scale_events} scale events); "
            f"{report.startup_text()}. It {report.caveat}. "
            f"`harness replay {report.run_id}` tries other settings.")


def _row(report: ReplayReport, outcome: ReplayOutcome) -> tuple[str, ...]:
    mark = " (the run's)" if outcome.cpu_target == report.run.cpu_target else ""
    return (f"{outcome.cpu_target} %{mark}", str(outcome.peak_replicas),
            f"{outcome.replica_minutes:.1f}", f"{outcome.seconds_above_target:.0f} s",
            str(outcome.scale_events), f"{outcome.breaches_with_fewer} of {outcome.breaches}")
