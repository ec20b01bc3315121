"""Everything a run does about faults, in the order the pipeline needs it: check the scenario's
faults against the stack (before anything starts), route the database through the latency
proxy, inject beside the load, stop, and build the report's `faults` section.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from harness.config.faults import NEEDS_POSTGRES, NEEDS_REDIS
from harness.config.model import RunOptions, Scenario
from harness.errors import ConfigError
from harness.faults.injector import FaultInjector, FaultTarget, fault_names
from harness.faults.proxy import LatencyProxy
from harness.faults.records import FaultEvent
from harness.stack.backend import StackBackend
from harness.stack.controller import ReplicaController, ReplicaEvent
from harness.verify.check import CheckResult

__all__ = ["FaultSession", "check_supported"]


def check_supported(scenario: Scenario, options: RunOptions) -> None:
    """A fault the chosen stack cannot take is a configuration error (exit 2), found before
    anything starts."""
    source = str(scenario.source or f"scenario {scenario.name}")
    for index, fault in enumerate(scenario.faults):
        field = ("faults", index, "kind")
        if options.stack not in ("embedded", "local"):
            raise ConfigError(source, field, f"{fault.kind} needs a stack the harness runs",
                              "--stack embedded or --stack local")
        containers = options.services == "containers"
        if fault.kind in NEEDS_POSTGRES and (options.stack != "local" or options.database_url
                                             or containers):
            raise ConfigError(source, field, f"{fault.kind} acts on the PostgreSQL the harness "
                              "starts from this machine's binaries: use --stack local without "
                              "--database-url or --services containers")
        if fault.kind in NEEDS_REDIS and (options.stack != "local" or options.redis_url
                                          or containers):
            raise ConfigError(source, field, f"{fault.kind} acts on the Redis the harness "
                              "starts from this machine's binaries: use --stack local without "
                              "--redis-url or --services containers")


class FaultSession:
    """The scenario's faults for one run. `prepare` before `backend.up()`; `start` as the load
    starts; `stop` when it ends (idempotent); `close` after `backend.down()`."""

    def __init__(self, scenario: Scenario, backend: StackBackend) -> None:
        self.scenario = scenario
        self.backend = backend
        self.proxy: LatencyProxy | None = None
        self.injector: FaultInjector | None = None
        self.events: tuple[FaultEvent, ...] = ()
        self._stopped = False
        self.origin: float | None = None

    @classmethod
    def prepare(cls, scenario: Scenario, options: RunOptions,
                backend: StackBackend) -> FaultSession:
        check_supported(scenario, options)
        if options.stack in ("embedded", "local"):  # the controller's PDB, read before up()
            from harness import paths
            from harness.stack.controller import load_pdb

            load_pdb(paths.k8s_base_dir() / "pdb.yaml")
        session = cls(scenario, backend)
        if any(f.kind == "slow-database" for f in scenario.faults):
            session.proxy = LatencyProxy()
            replicas = backend.capabilities().replicas
            if replicas is not None:
                replicas.route_database(session.proxy.route)
        return session

    def start(self, origin: float) -> None:
        self.origin = origin
        if not self.scenario.faults:
            return
        self.injector = FaultInjector(self.scenario.faults,
                                      FaultTarget.of(self.backend.capabilities(), self.proxy))
        self.injector.start(origin)

    def calibrate(self, origin: float) -> None:
        """The load generator's clock began at `origin` (epoch): fault times count from it."""
        self.origin = origin
        if self.injector is not None:
            self.injector.origin = origin

    def stop(self) -> tuple[FaultEvent, ...]:
        if self.injector is not None and not self._stopped:
            self._stopped = True
            self.events = self.injector.stop()
        return self.events

    def close(self) -> None:
        self.stop()
        if self.proxy is not None:
            with contextlib.suppress(Exception):
                self.proxy.stop()

    @property
    def controller(self) -> ReplicaController | None:
        replicas = self.backend.capabilities().replicas
        return replicas.controller if replicas is not None else None

    def replica_events(self) -> tuple[ReplicaEvent, ...]:
        controller = self.controller
        return tuple(controller.snapshot()) if controller is not None else ()

    def section(self, origin: float, checks: Sequence[CheckResult]) -> dict[str, Any] | None:
        """The report's `faults` section: the timeline with recovery times, and every replica
        exit, start and readiness change. None when there is nothing to show."""
        replica_events = self.replica_events()
        if not self.scenario.faults and not any(
                e.event == "exited" for e in replica_events):
            return None
        by_id = {c.id: c for c in checks}
        names = fault_names(sorted(self.scenario.faults, key=lambda f: f.at))
        timeline = []
        for event in self.events or ():
            row: dict[str, Any] = {
                "name": event.name,
                "kind": event.kind,
                "scheduled_s": round(event.scheduled, 3),
                "outcome": str(event.outcome),
                "injected_s": _rel(event.injected_at, origin),
                "lifted_s": _rel(event.cleared_at, origin),
                "detail": event.detail,
            }
            recovery = by_id.get(f"faults.{event.name}.recovery")
            if recovery is not None:
                row["recovery_s"] = recovery.observed
                row["recovery_bound_s"] = recovery.threshold
            availability = by_id.get(f"faults.{event.name}.availability")
            if availability is not None:
                row["availability_percent"] = availability.observed
            row["verdicts"] = {c.id.rsplit(".", 1)[-1]: str(c.verdict) for c in checks
                               if c.id.startswith(f"faults.{event.name}.")}
            timeline.append(row)
        if not timeline and self.scenario.faults:
            timeline = [{"name": n, "kind": f.kind, "scheduled_s": f.at, "outcome": "not run"}
                        for n, f in zip(names, sorted(self.scenario.faults, key=lambda f: f.at),
                                        strict=True)]
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
