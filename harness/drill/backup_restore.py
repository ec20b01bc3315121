"""`harness drill backup-restore`: the seed's backup strategy, performed on the `local` stack
while load runs, with the achieved RTO and RPO measured against the seed's objectives.

1. PostgreSQL starts with continuous WAL archiving (archive_command into the run folder);
   a base backup (pg_basebackup) is taken once the app is seeded: the nightly base backup.
2. Load runs (the scenario) and a writer creates tickets at a steady pace, keeping each one the
   API acknowledged, with its time.
3. At `dump_at`: `pg_dump -Fc` of an exported snapshot, with row counts and checksums of that
   same snapshot: the daily full backup.
4. At `disaster_at`: every table of the app is dropped. The operator closes the current WAL
   segment, the server's data directory is thrown away, and point-in-time recovery replays
   the base backup and the archived WAL up to the moment before the drop
   (recovery_target_time).
5. The app's pools reconnect by themselves; the writer's first acknowledged write after the
   disaster marks the application back. The dump is restored into a scratch database and
   compared with the fingerprints taken when it was made.

RTO database: disaster -> the restored server accepts writes. RTO application: disaster -> a
write is acknowledged again. RPO: how far before the disaster the oldest acknowledged write
that is missing after the restore was made (0 when nothing acknowledged was lost), and how many.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import paths
from harness.config.model import Scenario, SloSpec
from harness.drill import database as db
from harness.drill.writes import AckWriter
from harness.errors import HarnessError, Interrupted, StackError
from harness.interrupts import deferred_interrupts
from harness.load.records import LoadResult
from harness.load.shapes import plan_stages
from harness.redact import redact
from harness.report.results import RunResult, RunStatus
from harness.status import ExitStatus
from harness.verify.check import CheckResult, Verdict, Window, exit_status_for

__all__ = ["DrillObjectives", "DrillPlan", "run_backup_restore"]


@dataclass(frozen=True)
class DrillObjectives:
    """The seed's Disaster Recovery objectives (RTO database < 1 h, application < 15 min;
    RPO database < 5 min)."""

    rto_database: float = 3600.0
    rto_application: float = 900.0
    rpo_database: float = 300.0


@dataclass(frozen=True)
class DrillPlan:
    scenario: Scenario  # the load while the drill runs (already scaled)
    slo: SloSpec
    folder: Path  # the run folder: report, logs, drill/ (dump, base backup, WAL archive)
    run_id: str
    dump_at: float  # seconds into the load
    disaster_at: float
    replicas: int | None = None
    objectives: DrillObjectives = DrillObjectives()
    archive_timeout: str = "60s"
    recovery_timeout: float = 3600.0
    disaster: str = "drop-schema"  # or "lose-server"


@dataclass
class DrillState:
    """What happened, filled in as the drill goes (read by the report and the checks)."""

    timeline: list[dict[str, Any]] = field(default_factory=list)
    base_backup_seconds: float | None = None
    dump: db.DumpResult | None = None
    disaster: db.Disaster | None = None
    archived_seconds: float | None = None
    recovery_steps: dict[str, float] = field(default_factory=dict)
    database_back_at: float | None = None
    application_back_at: float | None = None
    restore_check: tuple[float, dict[str, dict[str, object]]] | None = None
    lost: list[dict[str, Any]] = field(default_factory=list)
    acked_before_disaster: int = 0
    acked_after_dump: int = 0
    archive_note: str = ""
    error: str | None = None

    def mark(self, what: str, origin: float, **details: Any) -> None:
        self.timeline.append({"t_s": round(time.time() - origin, 3), "step": what, **details})


def _reachable_by(server: Any, folder: Path) -> bool:
    """Whether the user PostgreSQL runs as can write `folder` (archive_command runs as it)."""
    prefix, uid = server.as_owner()
    if uid is None:
        return True
    import os

    os.chown(folder, uid, -1)
    done = subprocess.run([*prefix, "test", "-w", str(folder)], timeout=30, check=False)
    return done.returncode == 0


def run_backup_restore(plan: DrillPlan, console: Any) -> RunResult:
    """Run the drill and write its report into plan.folder. Raises Interrupted (after writing
    a partial report) when interrupted."""
    from harness.config.appsettings import bundled_app_settings  # noqa: F401 - fail early
    from harness.config.k8s import load_deployment
    from harness.load.runner import LoadRunner
    from harness.stack.embedded import EmbeddedStack, ProbeSpec
    from harness.stack.local import LocalStack
    from harness.stack.services.postgres import PostgresServer, scaled_settings

    folder = plan.folder
    work = folder / "drill"
    log_dir = folder / "logs"
    work.mkdir(parents=True, exist_ok=True)
    state = DrillState()
    started_at = time.time()
    stages = plan_stages(plan.scenario.stages, plan.scenario.steady_stage_indexes())
    server: PostgresServer | None = None
    stack: LocalStack | None = None
    writer: AckWriter | None = None
    runner: LoadRunner | None = None
    load: LoadResult | None = None
    steps: threading.Thread | None = None
    stop = threading.Event()
    status = RunStatus.ERROR
    failure: BaseException | None = None
    notes: list[str] = []
    try:
        server = PostgresServer(log_dir=log_dir, settings=scaled_settings())
        archive = db.Archive(work / "wal")
        archive.folder.mkdir(parents=True, exist_ok=True)
        if not _reachable_by(server, archive.folder):
            archive = db.Archive(server.work_dir / "wal-archive")
            archive.folder.mkdir(parents=True, exist_ok=True)
            _reachable_by(server, archive.folder)
            state.archive_note = (f"the run folder is not reachable by PostgreSQL's user; WAL "
                                  f"was archived in its own folder and copied to {work / 'wal'}")
        server.settings.update(db.archive_settings(archive, plan.archive_timeout))
        console.print("drill: starting PostgreSQL with WAL archiving")
        database_url = server.start()
        db.durable(server)
        deployment = load_deployment(paths.k8s_base_dir() / "deployment.yaml")
        stack = LocalStack(
            EmbeddedStack(replicas=plan.replicas or deployment.replicas, log_dir=log_dir,
                          settings=plan.scenario.app_settings, seed=plan.scenario.seed,
                          probe=ProbeSpec.of(deployment)),
            database_url=database_url)
        endpoints = stack.up()
        origin = time.time()
        state.base_backup_seconds = db.base_backup(server, work / "base")
        state.mark("base backup (pg_basebackup)", origin,
                   seconds=round(state.base_backup_seconds, 3))
        writer = AckWriter(endpoints.service_url, Path(str(endpoints.tokens_file)),
                           run=plan.run_id, lifetime=plan.scenario.duration + 3600)
        runner = LoadRunner(
            stages=stages,
            locustfiles=[plan.scenario.locustfile or paths.loadtests_dir() / "locustfile.py"],
            host=endpoints.service_url, work_dir=log_dir,
            env={"SERVICEDESK_TOKENS_FILE": str(endpoints.tokens_file)},
        )
        load_origin = time.time()
        steps = threading.Thread(target=_steps, name="drill", daemon=True,
                                 args=(plan, server, archive, stack, writer, state, load_origin,
                                       stop, console))
        writer.start()
        steps.start()
        console.print(f"drill: load for {plan.scenario.duration:.0f}s; dump at "
                      f"{plan.dump_at:.0f}s, disaster at {plan.disaster_at:.0f}s")
        load = runner.run()
        # The drill may outlast the load (a slow restore): wait for it, bounded.
        steps.join(timeout=plan.recovery_timeout + 600)
        if steps.is_alive():
            raise StackError("the drill did not finish in time")
        status = RunStatus.PASSED
    except (KeyboardInterrupt, Interrupted):
        failure = Interrupted()
        status = RunStatus.INTERRUPTED
        notes.append("The drill was interrupted; this report is partial.")
    except HarnessError as exc:
        failure = exc
        notes.append(f"The drill stopped: {exc}")
    finally:
        stop.set()
        if steps is not None:
            steps.join(timeout=120)
        if writer is not None:
            writer.stop()
        if runner is not None:
            runner.stop()
            if load is None:
                load = runner.partial()
        with contextlib.suppress(KeyboardInterrupt):
            if stack is not None:
                with contextlib.suppress(Exception):
                    stack.down()
            if server is not None:
                _keep_archive(server, work, state)
                with contextlib.suppress(Exception):
                    server.stop()
    if state.error:
        notes.append(f"The drill failed: {state.error}")
        if status is RunStatus.PASSED:
            status = RunStatus.ERROR
    if load is None:
        load = LoadResult(started_at, time.time(), (), (), stages, interrupted=True)
    checks = drill_checks(state, writer, plan.objectives, load.started_at) if writer else ()
    if status is RunStatus.PASSED:
        status = {ExitStatus.OK: RunStatus.PASSED, ExitStatus.CHECK_FAILED: RunStatus.FAILED}.get(
            exit_status_for(checks), RunStatus.UNTRUSTED)
    with deferred_interrupts() as deferred:
        result = _report(plan, status, started_at, load, checks, notes, state, writer)
    if deferred.pending and failure is None:
        failure = Interrupted()
    if failure is not None:
        raise failure
    return result


def _steps(plan: DrillPlan, server: Any, archive: db.Archive, stack: Any, writer: AckWriter,
           state: DrillState, origin: float, stop: threading.Event, console: Any) -> None:
    """The drill's acts, at their times, in a thread beside the load."""
    try:
        if stop.wait(max(origin + plan.dump_at - time.time(), 0.0)):
            return
        state.dump = db.dump(server, plan.folder / "drill" / "servicedesk.dump")
        state.mark("pg_dump -Fc", origin, seconds=round(state.dump.seconds, 3),
                   bytes=state.dump.bytes)
        console.print(f"drill: dump taken ({state.dump.bytes:,} bytes)")
        if stop.wait(max(origin + plan.disaster_at - time.time(), 0.0)):
            return
        if plan.disaster == "lose-server":
            state.disaster = db.lose_server(server)
            state.mark("disaster: PostgreSQL killed and its data directory lost", origin)
        else:
            state.disaster = db.destroy(server)
            state.mark("disaster: DROP SCHEMA public CASCADE (every table of the app)", origin)
        console.print("drill: database destroyed; recovering")
        if state.disaster.last_segment is not None:
            state.archived_seconds = db.wait_archived(server, state.disaster.last_segment)
            state.mark("last WAL segment archived", origin,
                       segment=state.disaster.last_segment,
                       seconds=round(state.archived_seconds, 3))
        state.recovery_steps = db.point_in_time_recovery(
            server, plan.folder / "drill" / "base", archive, state.disaster.target,
            timeout=plan.recovery_timeout)
        state.database_back_at = time.time()
        state.mark("database restored (base backup + archived WAL "
                   + ("to the target time" if state.disaster.target else "to its end")
                   + "), promoted", origin,
                   **{k: round(v, 3) for k, v in state.recovery_steps.items()})
        deadline = time.monotonic() + plan.objectives.rto_application + 60
        while time.monotonic() < deadline and not stop.is_set():
            ack = writer.first_ack_after(state.database_back_at)
            if ack is not None:
                state.application_back_at = ack.t
                state.mark("application back: a write acknowledged", origin,
                           ticket=ack.ticket_id)
                break
            time.sleep(0.2)
        console.print("drill: restored; checking the dump")
        state.restore_check = db.test_restore(server, state.dump.path)
        state.mark("dump restored into a scratch database and compared", origin,
                   seconds=round(state.restore_check[0], 3))
        acks, _failures = writer.snapshot()
        before = [a for a in acks if a.t <= state.disaster.at]
        state.acked_before_disaster = len(before)
        state.acked_after_dump = sum(1 for a in before if a.t > state.dump.snapshot_at)
        present = db.present_titles(server, [a.title for a in before])
        state.lost = [{"ticket": a.ticket_id, "acknowledged_s": round(a.t - origin, 3)}
                      for a in before if a.title not in present]
    except HarnessError as exc:
        state.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - reported in the drill's report, not lost
        state.error = f"{type(exc).__name__}: {exc}"


def _keep_archive(server: Any, work: Path, state: DrillState) -> None:
    """If WAL was archived outside the run folder, copy it in before the server's folder goes."""
    source = server.work_dir / "wal-archive"
    if state.archive_note and source.is_dir():
        with contextlib.suppress(OSError):
            shutil.copytree(source, work / "wal", dirs_exist_ok=True)


def drill_checks(state: DrillState, writer: AckWriter, objectives: DrillObjectives,
                 origin: float) -> tuple[CheckResult, ...]:
    disaster = state.disaster
    if disaster is None:
        why = state.error or "the drill did not reach its disaster"
        return (CheckResult("drill.completed", "The drill ran to the end", Verdict.FAIL, None,
                            None, "", "<=", None, why),)
    at = disaster.at - origin
    window = Window(round(at, 3), round(at + objectives.rto_database, 3), "after the disaster")
    checks: list[CheckResult] = []

    def limit(check_id: str, title: str, observed: float | None, threshold: float, unit: str,
              evidence: str, at_most: bool = True) -> None:
        if observed is None:
            verdict = Verdict.FAIL
        else:
            verdict = Verdict.PASS if (observed <= threshold if at_most else
                                       observed >= threshold) else Verdict.FAIL
        checks.append(CheckResult(check_id, title, verdict,
                                  None if observed is None else round(observed, 3), threshold,
                                  unit, "<=" if at_most else ">=", window, evidence))

    rto_db = None if state.database_back_at is None else state.database_back_at - disaster.at
    steps = ", ".join(f"{k.replace('_seconds', '').replace('_', ' ')} {v:.1f}s"
                      for k, v in state.recovery_steps.items())
    archived = (f"; last WAL segment archived {state.archived_seconds:.1f}s after the "
                "disaster" if state.archived_seconds is not None else
                "; the WAL segment in progress was lost with the server")
    limit("drill.rto.database", "Database RTO (the seed: < 1 h)", rto_db,
          objectives.rto_database, "s",
          f"disaster to a promoted, writable database: {rto_db:.1f}s ({steps}){archived}"
          if rto_db is not None else f"the database was not restored: {state.error}")
    rto_app = (None if state.application_back_at is None
               else state.application_back_at - disaster.at)
    limit("drill.rto.application", "Application RTO (the seed: < 15 min)", rto_app,
          objectives.rto_application, "s",
          f"disaster to the first write acknowledged again: {rto_app:.1f}s, with no replica "
          "restarted (the pools reconnected)" if rto_app is not None
          else "no write was acknowledged after the restore")
    lost = state.lost
    rpo = max((disaster.at - origin - row["acknowledged_s"] for row in lost), default=0.0)
    complete = state.restore_check is not None and state.database_back_at is not None
    limit("drill.rpo.database", "Database RPO (the seed: < 5 min)",
          rpo if complete else None, objectives.rpo_database, "s",
          f"{len(lost)} of {state.acked_before_disaster} writes acknowledged before the disaster "
          f"are missing after point-in-time recovery"
          + (f"; the oldest was made {rpo:.1f}s before it" if lost else "")
          + (f". Restoring the {state.dump.bytes:,}-byte dump alone would have lost the "
             f"{state.acked_after_dump} acknowledged after it "
             f"({disaster.at - state.dump.snapshot_at:.0f}s of writes)" if state.dump else "")
          if complete else f"the restore did not complete: {state.error}")
    if state.dump is not None and state.restore_check is not None:
        seconds, restored = state.restore_check
        wrong = [t for t in db.TABLES if restored.get(t) != state.dump.tables.get(t)]
        counts = ", ".join(f"{t} {state.dump.tables[t]['rows']:,}" for t in db.TABLES)
        limit("drill.dump.integrity", "The dump restores to the same rows (counts, checksums)",
              float(len(wrong)), 0.0, "tables",
              f"pg_restore took {seconds:.1f}s; rows at the dump's snapshot: {counts}; "
              + (f"different after restore: {', '.join(wrong)}" if wrong
                 else "every table's count and md5 over its rows match"))
    return tuple(checks)


def _report(plan: DrillPlan, status: RunStatus, started_at: float, load: LoadResult,
            checks: tuple[CheckResult, ...], notes: list[str], state: DrillState,
            writer: AckWriter | None) -> RunResult:
    from harness.report.assemble import assemble
    from harness.report.render import write_report

    acks, failures = writer.snapshot() if writer is not None else ([], [])
    disaster = state.disaster
    section: dict[str, Any] = {
        "objectives": {"rto_database_s": plan.objectives.rto_database,
                       "rto_application_s": plan.objectives.rto_application,
                       "rpo_database_s": plan.objectives.rpo_database},
        "timeline": state.timeline,
        "writes": {"acknowledged": len(acks), "not_acknowledged": len(failures),
                   "acknowledged_before_disaster": state.acked_before_disaster,
                   "lost": state.lost[:50], "lost_count": len(state.lost)},
        "artifacts": {"dump": str(plan.folder / "drill" / "servicedesk.dump"),
                      "base_backup": str(plan.folder / "drill" / "base"),
                      "wal_archive": str(plan.folder / "drill" / "wal"),
                      "wal_segments": len(list((plan.folder / "drill" / "wal").glob("*.gz")))},
    }
    if disaster is not None:
        section["disaster"] = disaster.kind
        section["recovery_target_time"] = (disaster.target.isoformat() if disaster.target
                                           else "the end of the archived WAL")
    if state.archive_note:
        notes.append(state.archive_note)
    result = assemble(
        run_id=plan.run_id, scenario=plan.scenario, slo=plan.slo, stack="local", status=status,
        exit_status={RunStatus.PASSED: ExitStatus.OK, RunStatus.FAILED: ExitStatus.CHECK_FAILED,
                     RunStatus.INTERRUPTED: ExitStatus.INTERRUPTED}.get(
                         status, ExitStatus.STACK_FAILED),
        started_at=started_at, ended_at=time.time(), load=load, scrapes=(), checks=checks,
        endpoints={}, notes=[redact(n) for n in notes], extra={"drill": section},
    )
    write_report(result, plan.folder)
    return result
