"""Everything a run does about faults, in the order the pipeline needs it: check the scenario's
faults against the stack (before anything starts), route the database through the latency
proxy, inject beside the load, stop. The report's `faults` section is harness.report.faults.
"""

from __future__ import annotations

import contextlib

from harness.config.faults import NEEDS_POSTGRES, NEEDS_REDIS, Rollout
from harness.config.model import RunOptions, Scenario
from harness.errors import ConfigError
from harness.faults.injector import FaultInjector, FaultTarget
from harness.faults.proxy import LatencyProxy
from harness.faults.records import FaultEvent
from harness.stack.backend import StackBackend
from harness.stack.controller import ReplicaController, ReplicaEvent

__all__ = ["FaultSession", "check_supported"]


def check_supported(scenario: Scenario, options: RunOptions) -> None:
    """A fault the chosen stack cannot take is a configuration error (exit 2), found before
    anything starts."""
    source = str(scenario.source or f"scenario {scenario.name}")
    for index, fault in enumerate(scenario.faults):
        field = ("faults", index, "kind")
        if options.stack == "k8s" and isinstance(fault, Rollout):
            continue  # the cluster's Deployment rolls, kubectl starts it
        if isinstance(fault, Rollout) and fault.image is not None:
            raise ConfigError(source, ("faults", index, "image"), "a new image needs --stack k8s "
                              "(the harness's own replicas and compose's build run this "
                              "checkout)")
        if fault.kind == "rollout" and scenario.autoscaling.enabled:
            raise ConfigError(source, ("autoscaling", "enabled"), "a rollout while the local "
                              "autoscaler writes the replica count is not emulated", "false")
        if options.stack == "compose" and isinstance(fault, Rollout):
            continue  # the harness starts and stops the app containers one at a time
        if not options.stack.runs_replicas:
            raise ConfigError(source, field, f"{fault.kind} needs a stack the harness runs",
                              "--stack embedded or --stack local, or a rollout on --stack k8s "
                              "or compose")
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
        if options.stack.runs_replicas:  # the controller's PDB, read before up()
            from harness import paths
            from harness.config.k8s import load_pdb

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
