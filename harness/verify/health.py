"""Checks of the run's own health, whatever the scenario: every replica's metrics answered, every
load generator ran to the end, no replica exited that the harness did not end itself."""

from __future__ import annotations

from collections.abc import Sequence

from harness.collect.scrape import Scrape
from harness.load.records import LoadResult
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, Verdict, Window, skipped

__all__ = ["generators_check", "metrics_reachable_check", "replica_exit_check"]


def metrics_reachable_check(scrapes: Sequence[Scrape], origin: float, end: float,
                            in_a_row: int = 3) -> CheckResult:
    """Every replica's metrics endpoint answered: `in_a_row` failed scrapes of one replica in a
    row (a frozen or unreachable replica) fail, naming the replica, the span and the error. A
    replica that died is dropped from the scrapes within a round, so a kill costs at most one."""
    window = Window(0.0, round(end, 3), "whole run")
    title = "Every replica's metrics endpoint answered"
    if not scrapes:
        return skipped("collect.metrics-reachable", title, "nothing was scraped", unit="scrapes",
                       window=window)
    streaks: list[tuple[str, float, float, int, str]] = []
    by_replica: dict[str, list[Scrape]] = {}
    for scrape in sorted(scrapes, key=lambda s: s.t):
        by_replica.setdefault(scrape.replica, []).append(scrape)
    for replica, rows in sorted(by_replica.items()):
        run: list[Scrape] = []
        for row in [*rows, None]:
            if row is not None and not row.ok:
                run.append(row)
                continue
            if len(run) >= in_a_row:
                streaks.append((replica, run[0].t - origin, run[-1].t - origin, len(run),
                                run[-1].error or "no answer"))
            run = []
    failed = sum(1 for s in scrapes if not s.ok)
    if not streaks:
        return CheckResult("collect.metrics-reachable", title, Verdict.PASS, 0.0, 0.0,
                           "replicas", "<=", window,
                           f"{len(scrapes):,} scrapes, {failed} failed, never {in_a_row} in a row")
    text = "; ".join(f"{r} did not answer {n} scrapes in a row from {a:.0f}s to {b:.0f}s "
                     f"({error})" for r, a, b, n, error in streaks)
    return CheckResult("collect.metrics-reachable", title, Verdict.FAIL,
                       float(len({s[0] for s in streaks})), 0.0, "replicas", "<=", window,
                       text[:900])


def generators_check(load: LoadResult) -> CheckResult | None:
    """With distributed load (--workers N), every worker reported to the end. A worker that
    died took its users with it, and one whose final report never arrived took its last
    requests' counts (failures among them): either way what was measured is not all of the
    planned load, so the run proves nothing either way (untrusted, exit 3), and the evidence
    says which worker and when."""
    if load.workers <= 0 or not load.intervals:
        return None
    window = Window(0.0, round(load.duration, 3), "whole run")
    last: dict[str, float] = {}
    for interval in load.intervals:
        for sample in interval.generators:
            last[sample.generator] = interval.end
    end = load.intervals[-1].end
    step = max((i.end - i.start for i in load.intervals), default=2.0)
    gone = {name: t for name, t in last.items() if t < end - 2 * step}
    title = "Every load generator ran to the end"
    if not gone and not load.worker_exits and not load.late_reports:
        return CheckResult("load.generators", title, Verdict.PASS, 0.0, 0.0, "workers", "<=",
                           window, f"{len(last)} generators reported until the end")
    parts = [f"{name} stopped reporting at {t:.0f}s of {end:.0f}s"
             for name, t in sorted(gone.items())]
    evidence = "; ".join(parts + list(load.generator_notes)) + (
        "; the load after that was not the scenario's, so latency and errors there prove "
        "nothing either way")
    failed = max(len(gone), len(load.worker_exits), load.late_reports)
    return CheckResult("load.generators", title, Verdict.UNTRUSTED, float(failed), 0.0,
                       "workers", "<=", window, evidence[:900])


def replica_exit_check(replica_events: Sequence[ReplicaEvent], origin: float,
                       end: float) -> CheckResult:
    """No replica died that the harness did not end itself; a death is reported with what
    replaced it, so a crash shows as a clear verdict rather than a hang or a silent gap."""
    window = Window(0.0, round(end, 3), "whole run")
    crashes = [e for e in replica_events if e.event == "exited" and not e.expected]
    caused = [e for e in replica_events if e.event == "exited" and e.expected]
    title = "No replica exited unexpectedly"
    if not crashes:
        return CheckResult("stack.replica-exits", title, Verdict.PASS, 0.0, 0.0, "exits", "<=",
                           window, f"no unexpected exit; {len(caused)} caused by faults")
    starts = [e for e in replica_events if e.event in ("started", "ready", "not-started")]
    parts = []
    for crash in crashes:
        nxt = next((s for s in starts if s.t >= crash.t), None)
        parts.append(f"{crash.replica} {crash.detail} at {crash.t - origin:.1f}s"
                     + (f" ({nxt.replica} {nxt.event} at {nxt.t - origin:.1f}s)" if nxt else ""))
    return CheckResult("stack.replica-exits", title, Verdict.FAIL, float(len(crashes)), 0.0,
                       "exits", "<=", window, "; ".join(parts)[:900])
