"""The run, stage by stage: stack up, drive load, collect, verify, report, stack down.

Each stage hands the next an immutable record; whatever happens (a failed check, a broken stack,
Ctrl-C), everything started is stopped and a report is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from harness import paths
from harness.calibrate.probe import Calibration
from harness.calibrate.session import calibrate_stack
from harness.collect.instruments import Evidence, Instruments
from harness.collect.sections import report_sections
from harness.config.appsettings import bundled_app_settings
from harness.config.model import RunOptions, Scenario, SloSpec, StackName
from harness.errors import HarnessError, Interrupted, UsageError
from harness.faults.session import FaultSession
from harness.interrupts import deferred_interrupts
from harness.load.progress import LiveProgress
from harness.load.records import Interval, LoadResult, StagePlan
from harness.load.runner import LoadRunner
from harness.load.shapes import plan_stages
from harness.publish.session import RunPublisher
from harness.redact import redact
from harness.report.assemble import assemble
from harness.report.results import RunResult, RunStatus
from harness.stack.autoscaler import DEFAULT_TOLERANCE
from harness.stack.backend import Endpoints, Leftovers, StackBackend
from harness.status import ExitStatus
from harness.testhook import pause_at
from harness.verify.autoscaling import LoadPlanned
from harness.verify.check import CheckResult, exit_status_for
from harness.verify.headroom import Headroom
from harness.verify.suite import run_checks

__all__ = ["RunPlan", "execute", "make_backend"]


# The instruments' threads stop by themselves this long after the scenario's nominal length:
# room for ramp-up lag, the last interval and teardown, so a hung stop can never run forever.
INSTRUMENTS_SLACK_SECONDS = 120.0


@dataclass(frozen=True)
class RunPlan:
    options: RunOptions
    scenario: Scenario  # already scaled to --duration
    slo: SloSpec  # with the scenario's overrides applied

    @property
    def folder(self) -> Path:
        return self.options.report_dir / self.options.run_id


def make_backend(plan: RunPlan, log_dir: Path) -> StackBackend:
    options = plan.options
    if options.stack == "external":
        from harness.stack.external import ExternalStack

        if not options.target:
            raise UsageError("--stack external needs --target URL")
        return ExternalStack(options.target)
    if options.stack.runs_replicas:
        from harness.config.k8s import load_deployment
        from harness.stack.embedded import EmbeddedStack, ProbeSpec
        from harness.stack.local import LocalStack

        deployment = load_deployment(paths.k8s_base_dir() / "deployment.yaml")
        probe = ProbeSpec.of(deployment)
        replicas = options.replicas or plan.scenario.replicas or deployment.replicas
        # A rollout ends every replica: the service must stop sending to one before it closes
        # (harness.stack.service says why SO_REUSEPORT cannot).
        service: Literal["reuseport", "readiness"] = (
            "readiness" if any(f.kind == "rollout" for f in plan.scenario.faults) else "reuseport")
        app = EmbeddedStack(replicas=replicas, log_dir=log_dir, settings=plan.scenario.app_settings,
                            seed=plan.scenario.seed, probe=probe, service=service)
        if options.stack == "local" and options.services == "containers":
            from harness.stack.containers import ContainerServices

            if options.database_url or options.redis_url:
                raise UsageError("--services containers starts its own PostgreSQL and Redis: "
                                 "leave out --database-url and --redis-url")
            return ContainerServices(LocalStack(app), log_dir=log_dir)
        if options.stack == "local":
            return LocalStack(app, database_url=options.database_url, redis_url=options.redis_url)
        return app
    if options.stack == "compose":
        from harness.stack.compose import ComposeStack

        return ComposeStack(log_dir=log_dir, profiles=options.profiles,
                            replicas=options.replicas or plan.scenario.replicas,
                            settings=plan.scenario.app_settings, seed=plan.scenario.seed)
    if options.stack == "k8s":
        from harness.stack.k8s import KubernetesStack

        return KubernetesStack(context=options.context, overlay=options.overlay, log_dir=log_dir,
                               target=options.target, prometheus_url=options.prometheus_url)
    raise UsageError(f"--stack {options.stack}: not available "
                     f"(allowed: {', '.join(StackName)})")


def execute(plan: RunPlan, console: Console, *, progress: bool = True) -> RunResult:
    """Run the plan end to end and write its report. Raises Interrupted after writing a
    partial report when interrupted, and re-raises stack errors after writing theirs."""
    folder = plan.folder
    log_dir = folder / "logs"
    stages = _stages(plan)  # calibrated stages get their rates once the stack is up
    calibration: Calibration | None = None
    started_at = time.time()
    endpoints: Endpoints | None = None
    instruments: Instruments | None = None
    runner: LoadRunner | None = None
    load: LoadResult | None = None
    evidence = Evidence(scrapes=())
    server_limits: tuple[int, int] | None = None  # read before `down` forgets the server
    checks: tuple[CheckResult, ...] = ()
    headroom: Headroom | None = None
    notes: list[str] = []
    failure: BaseException | None = None
    status = RunStatus.ERROR

    # Bad configuration stops the run here, before anything starts and without a report.
    backend: StackBackend = make_backend(plan, log_dir)
    faults = FaultSession.prepare(plan.scenario, plan.options, backend)
    if plan.options.stack.runs_replicas:  # values the replicas would refuse
        from harness.config.appcheck import check_app_settings

        check_app_settings(plan.scenario.app_settings,
                           str(plan.scenario.source or f"scenario {plan.scenario.name}"))
    publisher = _publisher(plan, stages, backend)
    live = LiveProgress(
        console, scenario=plan.scenario.name, stages=stages, enabled=progress,
        replicas=lambda: len(backend.endpoints().replicas),
        pool_in_use=lambda: instruments.scraper.latest_total(
            "servicedesk_db_pool_connections_in_use") if instruments is not None else None,
    )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with live:
            live.set_phase(f"bringing the {plan.options.stack} stack up")
            endpoints = backend.up()
            server_limits = _server_limits(backend)
            if plan.scenario.calibrated:
                live.set_phase("calibrating: replica CPU per request")
                calibration = calibrate_stack(
                    plan.scenario, backend, locustfile=_locustfile(plan), env=_load_env(endpoints),
                    work_dir=log_dir / "calibration", workers=plan.options.workers,
                    realtime=plan.options.generator_realtime)
                stages = _stages(plan, calibration)
                live.set_stages(stages)
            instruments = Instruments(backend, scrape_interval=plan.options.scrape_interval,
                                      autoscaling=plan.scenario.autoscaling)
            instruments.start(duration=plan.scenario.duration + INSTRUMENTS_SLACK_SECONDS)
            live.set_phase("provisioning dashboards, rules and monitors")
            notes += _provision(plan, folder)
            pause_at("provisioning")
            live.set_phase("driving load")
            runner = LoadRunner(
                stages=stages,
                locustfiles=[_locustfile(plan)],
                host=endpoints.service_url,
                work_dir=log_dir,
                env=_load_env(endpoints),
                workers=plan.options.workers,
                realtime=plan.options.generator_realtime,
            )
            faults.start(origin=time.time())
            publisher.start()
            load = runner.run(on_interval=_watching(publisher.wrap(live.interval), faults))
            faults.stop()
            live.set_phase("collecting")
            pause_at("collecting")
            evidence = instruments.stop()
        headroom = _headroom(plan, load, evidence, server_limits, notes)
        checks = _checks(plan, load, evidence, backend, faults, server_limits, headroom,
                         calibration)
        status = _status_for(exit_status_for(checks))
    except (KeyboardInterrupt, Interrupted) as exc:
        failure = exc if isinstance(exc, Interrupted) else Interrupted()
        status = RunStatus.INTERRUPTED
        notes.append("The run was interrupted; this report is partial.")
    except HarnessError as exc:
        failure = exc
        status = RunStatus.ERROR
        notes.append(f"The run stopped: {exc}")
    finally:
        with contextlib.suppress(Exception):
            faults.stop()  # lift what is active (Redis started, lock released) before down
        if instruments is not None:
            with contextlib.suppress(Exception):
                evidence = instruments.stop()
        if runner is not None:
            runner.stop()
            if load is None:
                load = runner.partial()
        left = Leftovers()
        with _still_interruptible():
            left = backend.down()
        if left:  # the harness's own mess: not a check's verdict, but never silent
            notes.append(f"The stack's teardown left behind {left.describe()}; remove them with "
                         "`docker rm -f` / `docker network rm` / `docker volume rm`.")
        faults.close()
    if load is not None and status is RunStatus.INTERRUPTED and load.intervals:
        with contextlib.suppress(Exception):
            headroom = _headroom(plan, load, evidence, server_limits, notes)
            checks = _checks(plan, load, evidence, backend, faults, server_limits, headroom,
                             calibration)
    if load is None:
        load = LoadResult(started_at, time.time(), (), (), stages, interrupted=True)
    notes += publisher.close(ended_at=load.ended_at, fault_events=faults.events or ())
    notes += _generator_notes(load)
    # Reporting finishes even if interrupted meanwhile; the run then ends as interrupted.
    with deferred_interrupts() as deferred:
        pause_at("reporting", until=lambda: deferred.pending)
        if deferred.pending and failure is None:
            failure, status = Interrupted(), RunStatus.INTERRUPTED
            notes.append("The run was interrupted while its report was written.")
        result = _report(plan, folder, status, started_at, load, evidence, checks, endpoints,
                         notes, faults, server_limits, headroom, calibration)
    if deferred.pending and failure is None:
        failure = Interrupted()
    if failure is not None:
        raise failure
    return result


def _report(plan: RunPlan, folder: Path, status: RunStatus, started_at: float, load: LoadResult,
            evidence: Evidence, checks: tuple[CheckResult, ...], endpoints: Endpoints | None,
            notes: list[str], faults: FaultSession,
            server_limits: tuple[int, int] | None, headroom: Headroom | None,
            calibration: Calibration | None = None) -> RunResult:
    extra = report_sections(evidence, load.started_at, server_limits=server_limits)
    with contextlib.suppress(Exception):  # the fault timeline must never cost the report
        from harness.report.faults import fault_section

        section = fault_section(plan.scenario.faults, faults.stop(), faults.replica_events(),
                                faults.origin or load.started_at, checks)
        if section is not None:
            extra["faults"] = section
    with contextlib.suppress(Exception):
        from harness.report.rollouts import rollout_rows

        rows = rollout_rows(faults.stop(), checks, faults.origin or load.started_at)
        if rows:
            extra["rollouts"] = rows
            notes = [*notes, *(f"Deploy {r['name']} failed: no progress before its deadline, "
                               "rolled back; the old version kept serving"
                               for r in rows if r["outcome"] == "deadline-exceeded")]
    result = assemble(
        run_id=plan.options.run_id,
        scenario=plan.scenario,
        slo=plan.slo,
        stack=plan.options.stack,
        status=status,
        exit_status=_exit_for(status),
        started_at=started_at,
        ended_at=time.time(),
        load=load,
        scrapes=evidence.scrapes,
        checks=checks,
        endpoints={k: redact(v) for k, v in (endpoints.describe() if endpoints else {}).items()},
        notes=[redact(n) for n in [*notes, *evidence.notes]],
        extra=extra,
        tags=plan.options.tags,
        headroom=headroom,
        calibration=calibration,
    )
    from harness.plan.whatif import replay_table

    result = dataclasses.replace(result, replay=replay_table(result))
    _write(result, folder)
    with contextlib.suppress(OSError):  # per-interval samples for `harness compare`
        from harness.compare.samples import samples_from_load, write_samples

        groups = {name: g.requests for name, g in plan.slo.groups.items()}
        write_samples(folder, samples_from_load(load, evidence.scrapes, groups))
    return result


def _locustfile(plan: RunPlan) -> Path:
    return plan.scenario.locustfile or paths.loadtests_dir() / "locustfile.py"


def _stages(plan: RunPlan, calibration: Calibration | None = None) -> tuple[StagePlan, ...]:
    """The scenario's stages as the load runs them. Before the calibration a calibrated stage
    has no rate yet (rate 0: what the progress display shows until then)."""
    scenario = plan.scenario
    rates = calibration.rates if calibration is not None else {
        i: 0.0 for i, s in enumerate(scenario.stages) if s.calibrated}
    return plan_stages(scenario.stages, scenario.steady_stage_indexes(),
                       generators=max(plan.options.workers, 1), rates=rates)


def _server_limits(backend: StackBackend) -> tuple[int, int] | None:
    """(max_connections, reserved) of a PostgreSQL whose connections the harness sees, else
    None."""
    database = backend.capabilities().database
    if database is None:
        return None
    return database.max_connections, database.reserved_connections


def _headroom(plan: RunPlan, load: LoadResult, evidence: Evidence,
              server_limits: tuple[int, int] | None, notes: list[str]) -> Headroom | None:
    """The steady state's distance to each threshold (harness.verify.headroom), or None when
    the replicas were not scraped (a failure is noted: it never costs the checks or report)."""
    if not evidence.scrapes or not load.stages:
        return None
    from harness.config.k8s import load_scaling
    from harness.verify.headroom import headroom_from, limits_for, measure_steady_state
    from harness.verify.slo import steady_window

    try:
        window = steady_window(load)
        steady = measure_steady_state(
            evidence.scrapes, origin=load.started_at, start=window.start, end=window.end,
            server_totals=[(r.t, r.value.total) for r in evidence.connections],
            whole_run=(0.0, load.duration))
        tolerance = DEFAULT_TOLERANCE
        if evidence.scaling is not None:  # the scale-up tolerance the autoscaler ran with
            up = evidence.scaling.hpa.scale_up.tolerance
            tolerance = evidence.scaling.tolerance if up is None else up
        measured = server_limits is not None
        if server_limits is None and plan.options.stack == "embedded":
            # SQLite has no connection limit; the deployment's PostgreSQL has (stack/).
            from harness.provision.sources import load_stack_numbers

            numbers = load_stack_numbers()
            server_limits = (numbers.pg_max_connections, numbers.pg_superuser_reserved)
        limits = limits_for(load_scaling(paths.k8s_base_dir()),
                            {**bundled_app_settings(), **plan.scenario.app_settings},
                            tolerance=tolerance, server_limits=server_limits,
                            server_measured=measured)
        return headroom_from(steady, limits)
    except (ValueError, ArithmeticError, KeyError, HarnessError) as exc:
        notes.append(f"Headroom not measured: {exc}")
        return None


def _checks(plan: RunPlan, load: LoadResult, evidence: Evidence, backend: StackBackend,
            faults: FaultSession, server_limits: tuple[int, int] | None,
            headroom: Headroom | None = None,
            calibration: Calibration | None = None) -> tuple[CheckResult, ...]:
    from harness.stack.embedded import ProbeSpec

    controller = faults.controller
    replicas = backend.capabilities().replicas
    return run_checks(
        load,
        plan.slo,
        evidence,
        app_settings={**bundled_app_settings(), **plan.scenario.app_settings},
        startup_budget=float(replicas.startup_attempts if replicas is not None
                             else ProbeSpec.attempts),
        max_connections=server_limits,
        cache_is_remote=plan.options.stack in ("local", "compose", "k8s"),
        fault_events=faults.stop(),
        fault_origin=faults.origin,
        replica_events=faults.replica_events() if controller is not None else None,
        bundled_settings=bundled_app_settings(),
        headroom=headroom,
        planned=_planned(load, calibration),
    )


def _planned(load: LoadResult, calibration: Calibration | None) -> LoadPlanned | None:
    """The highest utilization the calibrated stages were sized for, and how much of their
    planned rate went out (so a run that never got there says so)."""
    if calibration is None:
        return None
    sized = [s for s in calibration.stages if s.utilization_of_target is not None]
    if not sized:
        return None
    highest = max(sized, key=lambda s: s.expected_ratio or 0.0)
    stage = next((w for w in load.stages if w.index == highest.index), None)
    chosen = [i for i in load.intervals
              if stage is not None and stage.start <= (i.start + i.end) / 2 <= stage.end]
    seconds = sum(i.end - i.start for i in chosen) or 1.0
    return LoadPlanned(highest.expected_ratio or 0.0, sum(i.sent for i in chosen) / seconds,
                       sum(i.intended for i in chosen) / seconds)


def _watching(on_interval: Callable[[Interval, float], None],
              faults: FaultSession) -> Callable[[Interval, float], None]:
    """The progress display's callback, plus: fault times follow the load generator's clock
    (known from its first interval), and the test-only pause at the load stage."""
    first = [True]

    def watch(interval: Interval, cpu: float) -> None:
        on_interval(interval, cpu)
        if first[0]:
            first[0] = False
            faults.calibrate(time.time() - interval.end)
            pause_at("load")

    return watch


def _publisher(plan: RunPlan, stages: Sequence[StagePlan], backend: StackBackend
               ) -> RunPublisher:
    """Remote write (--remote-write) and Grafana annotations (GRAFANA_URL/GRAFANA_TOKEN)."""
    return RunPublisher.for_run(plan.options, plan.scenario, plan.slo, stages,
                                environ=os.environ,
                                replicas=lambda: len(backend.endpoints().replicas))


def _status_for(verdict: ExitStatus) -> RunStatus:
    """A failed check fails the run; an untrusted one (the load generator saturated) leaves it
    unproven: exit 3, like any other dependency that failed (harness.verify.check)."""
    return {
        ExitStatus.OK: RunStatus.PASSED,
        ExitStatus.CHECK_FAILED: RunStatus.FAILED,
    }.get(verdict, RunStatus.UNTRUSTED)


def _generator_notes(load: LoadResult) -> list[str]:
    """What the load generator said about itself: a worker that died, saturation advice."""
    from harness.load.health import summarize_generators

    until = load.stages[-1].end if load.stages else None
    advice = summarize_generators(load.intervals, load.workers, until).advice
    return [*load.generator_notes, *([advice] if advice else [])]


def _provision(plan: RunPlan, folder: Path) -> list[str]:
    """Dashboards, Prometheus rules and Datadog monitors for this run's SLO, into the report
    folder; pushed to Grafana and Datadog when their credentials are set — but only for a
    scenario that keeps the SLO spec as it is, so a relaxed test SLO never overwrites the real
    thresholds."""
    from harness.provision import write_run_artifacts

    overrides = plan.scenario.slo.model_dump(exclude_none=True)
    return write_run_artifacts(plan.slo, folder, push=not overrides)


def _exit_for(status: RunStatus) -> ExitStatus:
    return {
        RunStatus.PASSED: ExitStatus.OK,
        RunStatus.FAILED: ExitStatus.CHECK_FAILED,
        RunStatus.UNTRUSTED: ExitStatus.STACK_FAILED,
        RunStatus.INTERRUPTED: ExitStatus.INTERRUPTED,
        RunStatus.ERROR: ExitStatus.STACK_FAILED,
    }[status]


def _load_env(endpoints: Endpoints) -> dict[str, str]:
    env = {"SERVICEDESK_TOKENS_FILE": endpoints.tokens_file} if endpoints.tokens_file else {}
    token = os.environ.get("SERVICEDESK_API_TOKEN")
    if token and not endpoints.tokens_file:
        env["SERVICEDESK_API_TOKEN"] = token
    return env


@contextlib.contextmanager
def _still_interruptible():  # type: ignore[no-untyped-def]
    """Stopping the stack must finish even if Ctrl-C is pressed again meanwhile."""
    with contextlib.suppress(KeyboardInterrupt):
        yield


def _write(result: RunResult, folder: Path) -> None:
    from harness.report.render import write_report

    write_report(result, folder)
    latest = folder.parent / "latest"
    with contextlib.suppress(OSError):
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(folder.name)
