"""The fault injector: a thread beside the load that injects each scheduled fault at its time,
lifts it after its duration, and records what happened (FaultEvent).

Every act is bounded: a fault lasts at most its duration, a wait for the disruption budget at
most `pdb_timeout`, a restart at most a minute; `stop()` lifts whatever is active (Redis started
again, the lock released, the latency removed) and returns within `timeout`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from harness.config.faults import (
    ExhaustPool,
    Fault,
    KillReplica,
    RestartPostgres,
    Rollout,
    SlowDatabase,
    StopRedis,
)
from harness.errors import HarnessError, StackError
from harness.faults import services
from harness.faults.proxy import LatencyProxy
from harness.faults.records import FaultEvent, Outcome
from harness.stack.capabilities import (
    Capabilities,
    ClusterDeployment,
    ComposeApp,
    ManagedPostgres,
    ManagedRedis,
    ReplicaSet,
)
from harness.stack.processes import ManagedProcess

if TYPE_CHECKING:
    from harness.config.k8s import DeploymentSpec
    from harness.faults.rollout import RolloutOutcome
    from harness.stack.rollout import RolloutPlan

__all__ = ["FaultInjector", "FaultTarget", "fault_names"]


_Handle = TypeVar("_Handle")


@dataclass(frozen=True)
class FaultTarget:
    """What faults act on: the backend's handles. Any may be missing (the embedded stack has no
    servers; k8s has only its Deployment, rolled by kubectl; compose only its app containers, for
    a rollout; external has nothing the harness may act on)."""

    replicas: ReplicaSet | None = None
    postgres: ManagedPostgres | None = None
    redis: ManagedRedis | None = None
    proxy: LatencyProxy | None = None  # in front of PostgreSQL, for slow-database
    deployment: ClusterDeployment | None = None
    containers: ComposeApp | None = None

    @classmethod
    def of(cls, capabilities: Capabilities, proxy: LatencyProxy | None = None) -> FaultTarget:
        return cls(capabilities.replicas, capabilities.postgres, capabilities.redis, proxy,
                   capabilities.deployment, capabilities.containers)

    def replica_processes(self) -> list[ManagedProcess]:
        return self.replicas.processes() if self.replicas is not None else []

    def replica_url(self, process: ManagedProcess) -> str:
        return self.need_replicas("kill-replica").probe_url(process)

    def need_replicas(self, kind: str) -> ReplicaSet:
        return _needed(self.replicas, "replicas the harness runs", kind)

    def need_postgres(self, kind: str) -> ManagedPostgres:
        return _needed(self.postgres, "the PostgreSQL the harness starts", kind)

    def need_redis(self, kind: str) -> ManagedRedis:
        return _needed(self.redis, "the Redis the harness starts", kind)

    def need_proxy(self, kind: str) -> LatencyProxy:
        return _needed(self.proxy, "the latency proxy", kind)


def _needed(handle: _Handle | None, what: str, kind: str) -> _Handle:
    if handle is None:
        raise StackError(f"{kind} needs {what}, which this stack does not have "
                         "(use --stack local without --database-url/--redis-url)")
    return handle


def fault_names(faults: Sequence[Fault]) -> list[str]:
    """Each fault's name: its own, or <kind>-<n> counted per kind in schedule order."""
    counts: dict[str, int] = {}
    names = []
    for fault in faults:
        counts[fault.kind] = counts.get(fault.kind, 0) + 1
        names.append(fault.name or f"{fault.kind}-{counts[fault.kind]}")
    return names


class FaultInjector:
    """Injects `faults` at their times (seconds after `start(origin)`).

    Attributes:
        events: what happened to each fault, once it ran (see `stop` for all of them).
    """

    def __init__(self, faults: Sequence[Fault], target: FaultTarget, *,
                 pdb_timeout: float = 60.0, reconnect_timeout: float = 60.0) -> None:
        ordered = sorted(faults, key=lambda f: f.at)
        self.faults = list(zip(fault_names(ordered), ordered, strict=True))
        self.target = target
        self.pdb_timeout = pdb_timeout
        self.reconnect_timeout = reconnect_timeout
        self.events: dict[str, FaultEvent] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._scheduler: threading.Thread | None = None
        self._lock = threading.Lock()
        self._rolling = threading.Lock()  # one rollout at a time, as one Deployment rolls
        self.origin = 0.0

    def start(self, origin: float | None = None) -> None:
        self.origin = time.time() if origin is None else origin
        self._scheduler = threading.Thread(target=self._schedule, name="fault-injector",
                                           daemon=True)
        self._scheduler.start()

    def stop(self, timeout: float = 90.0) -> tuple[FaultEvent, ...]:
        """Lift every active fault, wait for the acts to end, and return every fault's event
        (faults whose time never came are SKIPPED)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._scheduler is not None:
            self._scheduler.join(timeout=max(deadline - time.monotonic(), 0.1))
        for thread in list(self._threads):
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        with self._lock:
            for name, fault in self.faults:
                if name not in self.events:
                    self.events[name] = FaultEvent(
                        name, fault.kind, fault.at, Outcome.SKIPPED,
                        detail="the load ended before its time")
            return tuple(self.events[name] for name, _ in self.faults)

    # -- scheduling ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        for name, fault in self.faults:
            # In short waits: `origin` moves once the load generator says when its clock began.
            while (wait := self.origin + fault.at - time.time()) > 0:
                if self._stop.wait(min(wait, 0.25)):
                    return
            if self._stop.is_set():
                return
            thread = threading.Thread(target=self._run, args=(name, fault),
                                      name=f"fault-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, name: str, fault: Fault) -> None:
        try:
            event = self._inject(name, fault)
        except (HarnessError, OSError, ValueError) as exc:
            event = FaultEvent(name, fault.kind, fault.at, Outcome.FAILED,
                               detail=f"the injector failed: {exc}"[:400])
        except Exception as exc:  # noqa: BLE001 - reported in the run, never lost in a thread
            event = FaultEvent(name, fault.kind, fault.at, Outcome.FAILED,
                               detail=f"the injector failed: {type(exc).__name__}: {exc}"[:400])
        with self._lock:
            self.events[name] = event

    def _inject(self, name: str, fault: Fault) -> FaultEvent:
        if isinstance(fault, KillReplica):
            return self._kill(name, fault)
        if isinstance(fault, RestartPostgres):
            return self._restart_postgres(name, fault)
        if isinstance(fault, StopRedis):
            return self._stop_redis(name, fault)
        if isinstance(fault, SlowDatabase):
            return self._slow_database(name, fault)
        if isinstance(fault, Rollout):
            return self._rollout(name, fault)
        return self._exhaust_pool(name, fault)

    # -- kill-replica -------------------------------------------------------------------------

    def _kill(self, name: str, fault: KillReplica) -> FaultEvent:
        replicas = self.target.need_replicas(fault.kind)
        controller = replicas.controller
        killed: list[dict[str, Any]] = []
        waited = 0.0
        note = ""
        for _ in range(fault.count):
            if fault.respect_pdb and controller is not None:
                started = time.monotonic()
                while controller.disruptions_allowed() < 1:
                    if time.monotonic() - started > self.pdb_timeout or self._stop.wait(0.2):
                        note = (f"the PodDisruptionBudget ({controller.budget.describe()}) allowed "
                                f"no eviction for {time.monotonic() - started:.0f}s")
                        break
                waited += time.monotonic() - started
                if note:
                    break
            taken = {k["replica"] for k in killed}
            candidates = [p for p in self.target.replica_processes()
                          if p.alive() and p.name not in taken
                          and (not fault.respect_pdb or controller is None
                               or controller.is_ready(p.name))]
            if not candidates:
                note = "no running replica was left to kill"
                break
            victim = candidates[0]  # the oldest, as `kubectl delete pod` of the first pod
            if controller is not None:
                controller.expect_exit(victim, f"fault {name}")
                controller.record(victim.name, "killed", f"{fault.signal} by fault {name}",
                                  expected=True)
            try:
                os.killpg(victim.pid, getattr(signal, fault.signal))
            except ProcessLookupError:
                continue
            killed.append({"replica": victim.name, "pid": victim.pid, "t": time.time()})
            # Gone before the budget is asked again: a signalled process is still "running"
            # until it has died, and would count as healthy for a moment.
            with contextlib.suppress(subprocess.TimeoutExpired):
                victim.popen.wait(timeout=30)
            if controller is not None:
                controller.mark_gone(victim.name)
        if not killed:
            return FaultEvent(name, fault.kind, fault.at, Outcome.SKIPPED, detail=note)
        first = killed[0]["t"]
        detail = (f"{fault.signal} to {', '.join(k['replica'] for k in killed)}"
                  + (f" ({waited:.1f}s waiting for the disruption budget)" if waited >= 0.5 else "")
                  + (f"; {note}" if note else ""))
        return FaultEvent(name, fault.kind, fault.at, Outcome.INJECTED, first, killed[-1]["t"],
                          detail, {"killed": killed, "pdb_wait_seconds": round(waited, 3),
                                   "respect_pdb": fault.respect_pdb, "requested": fault.count})

    # -- restart-postgres ---------------------------------------------------------------------

    def _restart_postgres(self, name: str, fault: RestartPostgres) -> FaultEvent:
        server = self.target.need_postgres(fault.kind)
        before = {p.name: p.pid for p in self.target.replica_processes() if p.alive()}
        stopping = time.time()
        server.shutdown(fault.mode)
        stopped = time.time()
        try:
            if fault.down_for:
                self._stop.wait(fault.down_for)
        finally:
            server.resume()
        back = time.time()
        reconnects = self._wait_reconnected(before, back)
        slowest = max((r["seconds"] for r in reconnects if r["seconds"] is not None), default=None)
        detail = (f"{fault.mode} shutdown, down {back - stopping:.1f}s; "
                  + (f"all {len(reconnects)} replicas answered readiness again within "
                     f"{slowest:.1f}s of the restart" if reconnects and all(
                         r["seconds"] is not None for r in reconnects)
                     else f"{sum(r['seconds'] is None for r in reconnects)} replica(s) did not "
                     "reconnect"))
        return FaultEvent(name, fault.kind, fault.at, Outcome.INJECTED, stopping, back, detail, {
            "mode": fault.mode, "stopped_at": stopped, "started_at": back,
            "down_seconds": round(back - stopping, 3), "reconnects": reconnects,
            "reconnect_timeout": self.reconnect_timeout,
        })

    def _wait_reconnected(self, before: dict[str, int], since: float) -> list[dict[str, Any]]:
        """For each replica that ran before the restart: how long until its readiness probe
        (which queries the database through the pool) answered 200 again, and whether it is
        still the same process (the pool reconnected, nobody restarted the app)."""
        pending = dict(before)
        found: dict[str, float | None] = {}
        deadline = time.monotonic() + self.reconnect_timeout
        with httpx.Client(timeout=2.0) as client:
            while pending and time.monotonic() < deadline and not self._stop.is_set():
                alive = {p.name: p for p in self.target.replica_processes() if p.alive()}
                for replica in list(pending):
                    process = alive.get(replica)
                    if process is None or process.pid != pending[replica]:
                        found[replica] = None
                        del pending[replica]
                        continue
                    try:
                        ok = client.get(f"{self.target.replica_url(process)}/api/health/ready"
                                        ).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    if ok:
                        found[replica] = round(time.time() - since, 3)
                        del pending[replica]
                if pending:
                    time.sleep(0.25)
        alive_now = {p.name: p.pid for p in self.target.replica_processes() if p.alive()}
        return [{"replica": r, "pid": pid, "seconds": found.get(r),
                 "same_process": alive_now.get(r) == pid} for r, pid in sorted(before.items())]

    # -- stop-redis ---------------------------------------------------------------------------

    def _stop_redis(self, name: str, fault: StopRedis) -> FaultEvent:
        server = self.target.need_redis(fault.kind)
        stopping = time.time()
        services.stop_redis(server)
        stopped = time.time()
        try:
            self._stop.wait(max(fault.duration - (stopped - stopping), 0.0))
        finally:
            restarting = time.time()
            services.start_redis(server)
        back = time.time()
        return FaultEvent(name, fault.kind, fault.at, Outcome.INJECTED, stopping, back,
                          f"Redis down {back - stopping:.1f}s (restart took "
                          f"{back - restarting:.1f}s)",
                          {"stopped_at": stopped, "started_at": back,
                           "down_seconds": round(back - stopping, 3)})

    # -- slow-database ------------------------------------------------------------------------

    def _slow_database(self, name: str, fault: SlowDatabase) -> FaultEvent:
        proxy = self.target.need_proxy(fault.kind)
        begun = time.time()
        proxy.latency = fault.latency
        try:
            self._stop.wait(fault.duration)
        finally:
            proxy.latency = 0.0
        ended = time.time()
        return FaultEvent(name, fault.kind, fault.at, Outcome.INJECTED, begun, ended,
                          f"+{fault.latency * 1000:g} ms on every database round trip for "
                          f"{ended - begun:.1f}s",
                          {"latency_ms": fault.latency * 1000, "seconds": round(ended - begun, 3)})

    # -- exhaust-pool -------------------------------------------------------------------------

    def _exhaust_pool(self, name: str, fault: ExhaustPool) -> FaultEvent:
        server = self.target.need_postgres(fault.kind)
        acquired = threading.Event()
        asked = time.time()
        granted = services.hold_table_lock(server, fault.table, fault.duration, self._stop,
                                           acquired)
        released = time.time()
        return FaultEvent(name, fault.kind, fault.at, Outcome.INJECTED, granted, released,
                          f"ACCESS EXCLUSIVE lock on {fault.table} held {released - granted:.1f}s"
                          f" (granted after {granted - asked:.2f}s)",
                          {"table": fault.table, "lock_wait_seconds": round(granted - asked, 3),
                           "held_seconds": round(released - granted, 3)})

    # -- rollout ------------------------------------------------------------------------------

    def _rollout(self, name: str, fault: Rollout) -> FaultEvent:
        from harness.faults.rollout import ClusterRolloutDriver, version_settings

        with self._rolling:  # a rollout scheduled during another starts once it ended
            if self.target.deployment is not None:  # the cluster's controller rolls it
                plan = self.target.deployment.rollout_plan()
                if fault.progress_deadline is not None:  # the harness gives up first
                    plan = dataclasses.replace(plan, progress_deadline=fault.progress_deadline)
                driver = ClusterRolloutDriver(self.target.deployment, plan, stop=self._stop)
                outcome = driver.run(version_settings(fault), fault.image)
            elif self.target.containers is not None:  # compose: one container at a time
                plan, outcome = self._roll_containers(self.target.containers, fault)
            else:
                plan, outcome = self._roll_replicas(name, fault)
        what = {"complete": "every replica replaced",
                "deadline-exceeded": f"no progress for {plan.progress_deadline:g}s: the deploy "
                                     "failed and was rolled back",
                "interrupted": "the run ended first"}[outcome.status]
        detail = (f"revision {outcome.old_revision} -> {outcome.new_revision} on {plan.replicas} "
                  f"replicas (maxSurge {plan.max_surge}, maxUnavailable {plan.max_unavailable}): "
                  f"{what} after {outcome.ended_at - outcome.started_at:.1f}s")
        return FaultEvent(name, fault.kind, fault.at,
                          Outcome.SKIPPED if outcome.status == "interrupted" else Outcome.INJECTED,
                          outcome.started_at, outcome.settled_at, detail,
                          outcome.facts(plan, fault))

    def _roll_containers(self, app: ComposeApp,
                         fault: Rollout) -> tuple[RolloutPlan, RolloutOutcome]:
        """The harness rolls the compose app service's containers (the bundled Deployment's
        strategy for as many as run now)."""
        from harness.faults.rollout import ContainerRolloutDriver, plan_for, version_settings

        plan = plan_for(_bundled_deployment(), len(app.containers()), fault)
        driver = ContainerRolloutDriver(app, plan, stop=self._stop)
        return plan, driver.run(version_settings(fault))

    def _roll_replicas(self, name: str, fault: Rollout) -> tuple[RolloutPlan, RolloutOutcome]:
        """The replica controller rolls the harness's own replicas (embedded, local)."""
        from harness.faults.rollout import RolloutDriver, plan_for, version_settings

        replicas = self.target.need_replicas(fault.kind)
        deployment = _bundled_deployment()
        controller = replicas.controller
        desired = controller.desired if controller is not None else len(replicas.processes())
        plan = plan_for(deployment, desired, fault)
        driver = RolloutDriver(replicas, plan, stop=self._stop, name=name)
        return plan, driver.run(version_settings(fault))


def _bundled_deployment() -> DeploymentSpec:
    from harness import paths
    from harness.config.k8s import load_deployment

    return load_deployment(paths.k8s_base_dir() / "deployment.yaml")
