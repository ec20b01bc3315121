"""Everything that watches the stack while load runs: metric scrapes, the local autoscaler's
decisions, and the database server's connections. Started after `up`, stopped after the load.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from harness import paths
from harness.collect.poll import Poller, Reading
from harness.collect.scrape import Scrape, Scraper
from harness.config.k8s import HpaSpec, load_scaling
from harness.config.model import AutoscalingSpec
from harness.errors import ConfigError
from harness.stack.backend import StackBackend
from harness.stack.scaling import ReplicaAutoscaler
from harness.stack.services.postgres import ConnectionCounts
from harness.stack.trace import ScalingTrace

__all__ = ["Evidence", "Instruments"]


@dataclass(frozen=True)
class Evidence:
    """What the instruments saw, handed to verify and report."""

    scrapes: tuple[Scrape, ...]
    scaling: ScalingTrace | None = None  # the local autoscaler's run, when one ran
    connections: tuple[Reading[ConnectionCounts], ...] = ()
    connection_failures: int = 0
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _scaled_hpa(hpa: HpaSpec, spec: AutoscalingSpec) -> HpaSpec:
    if spec.scale_down_window is None:
        return hpa
    rules = dataclasses.replace(hpa.scale_down,
                                stabilization_window_seconds=int(spec.scale_down_window))
    return dataclasses.replace(hpa, scale_down=rules)


class Instruments:
    def __init__(self, backend: StackBackend, *, scrape_interval: float,
                 autoscaling: AutoscalingSpec) -> None:
        self.backend = backend
        self.scraper = Scraper(lambda: backend.endpoints().replicas, interval=scrape_interval)
        self.autoscaler: ReplicaAutoscaler | None = None
        capabilities = backend.capabilities()
        replicas = capabilities.replicas
        if autoscaling.enabled and replicas is not None:
            scaling = load_scaling(paths.k8s_base_dir())
            try:
                self.autoscaler = ReplicaAutoscaler(
                    replicas,
                    _scaled_hpa(scaling.hpa, autoscaling),
                    scaling.deployment.requests,
                    sync_period=autoscaling.sync_period,
                    kubernetes_version=autoscaling.kubernetes_release,
                )
            except ValueError as exc:
                raise ConfigError("scenario", ("autoscaling", "kubernetes_version"),
                                  str(exc)) from None
        self.connections: Poller[ConnectionCounts] | None = None
        if capabilities.database is not None:
            self.connections = Poller(capabilities.database.connection_counts,
                                      interval=scrape_interval, name="pg_stat_activity")
        self._evidence: Evidence | None = None

    def start(self, duration: float) -> None:
        self.scraper.start()
        if self.autoscaler is not None:
            self.autoscaler.start(duration)
        if self.connections is not None:
            self.connections.start()

    def stop(self) -> Evidence:
        """Idempotent: the first call stops everything and keeps what was seen."""
        if self._evidence is not None:
            return self._evidence
        notes = []
        if self.autoscaler is not None:
            self.autoscaler.stop()
            if self.autoscaler.error is not None:
                notes.append(f"the local autoscaler stopped: {self.autoscaler.error}")
        connections: list[Reading[ConnectionCounts]] = []
        failures = 0
        if self.connections is not None:
            connections = self.connections.stop()
            failures = self.connections.failures
        scrapes: tuple[Scrape, ...] = ()
        with contextlib.suppress(Exception):
            scrapes = self.scraper.stop()
        self._evidence = Evidence(
            scrapes=scrapes,
            scaling=self.autoscaler.snapshot() if self.autoscaler is not None else None,
            connections=tuple(connections),
            connection_failures=failures,
            notes=tuple(notes),
        )
        return self._evidence
