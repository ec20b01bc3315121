"""The local autoscaler at work: samples replica processes, runs the HPA algorithm, scales.

Utilization is each replica process's CPU (and memory) against the Deployment's resource
requests, as metrics-server and the HPA controller see a pod's. On Kubernetes the real HPA is
observed instead; this is its emulation for one machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from harness.config.k8s import HpaSpec, ResourceRequests
from harness.stack.autoscaler import Autoscaler, AutoscalerLoop, Decision, PodSample
from harness.stack.backend import Replica

__all__ = ["ReplicaAutoscaler", "ReplicaCount", "ScalableReplicas"]


class ScalableReplicas(Protocol):
    def replica_count(self) -> int: ...

    def scale(self, replicas: int) -> None: ...

    def current_replicas(self) -> Sequence[Replica]: ...


@dataclass(frozen=True)
class ReplicaCount:
    t: float  # epoch seconds
    replicas: int


class _CpuMeter:
    """CPU millicores of each process since the previous sample (None on a first sight)."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[float, float]] = {}

    def sample(self, pid: int) -> tuple[float | None, float | None]:
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                times = process.cpu_times()
                rss = float(process.memory_info().rss)
        except psutil.Error:
            return None, None
        now = time.monotonic()
        used = times.user + times.system
        previous = self._last.get(pid)
        self._last[pid] = (now, used)
        if previous is None or now <= previous[0]:
            return None, rss
        return (used - previous[1]) / (now - previous[0]) * 1000.0, rss


class ReplicaAutoscaler:
    """Runs the HPA algorithm in a thread against a backend's replica processes.

    Attributes:
        decisions: every decision, as the algorithm recorded it.
        counts: the replica count after every sync (and at start).
    """

    def __init__(
        self,
        backend: ScalableReplicas,
        hpa: HpaSpec,
        requests: ResourceRequests,
        *,
        sync_period: float = 15.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.backend = backend
        self.autoscaler = Autoscaler(hpa, requests, sync_period_seconds=sync_period)
        self.hpa = hpa
        self.counts: list[ReplicaCount] = []
        self.error: BaseException | None = None
        self._meter = _CpuMeter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self._loop = AutoscalerLoop(
            self.autoscaler, sample=self._sample, scale=self._scale, clock=time.time,
            stop=self._stop, on_decision=self._record,
        )

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(self.autoscaler.decisions)

    def _sample(self) -> tuple[int, Sequence[PodSample]]:
        pods = []
        for replica in self.backend.current_replicas():
            cpu, memory = self._meter.sample(replica.pid) if replica.pid else (None, None)
            pods.append(PodSample(replica.name, replica.ready, cpu, memory))
        return self.backend.replica_count(), pods

    def _scale(self, replicas: int) -> None:
        self.backend.scale(replicas)

    def _record(self, decision: Decision) -> None:
        self.counts.append(ReplicaCount(time.time(), self.backend.replica_count()))

    def start(self, duration: float) -> None:
        """Sync every period for at most `duration` seconds (the run's length plus slack)."""
        self.counts.append(ReplicaCount(time.time(), self.backend.replica_count()))

        def run() -> None:
            try:
                self._loop.run(duration)
            except BaseException as exc:  # reported by the run, not lost in a thread
                self.error = exc
                if self._on_error is not None:
                    self._on_error(exc)

        self._thread = threading.Thread(target=run, name="autoscaler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _tolerance(self) -> float | dict[str, float]:
        """One number, or per direction when the manifest's behavior sets them (1.33+)."""
        base = self.autoscaler.tolerance
        up = self.hpa.scale_up.tolerance
        down = self.hpa.scale_down.tolerance
        if up is None and down is None:
            return base
        return {"up": base if up is None else up, "down": base if down is None else down}

    def section(self, origin: float) -> dict[str, Any]:
        """The report's "scaling" section: times in seconds since `origin` (the load's start)."""
        return {
            "hpa": {
                "min_replicas": self.hpa.min_replicas,
                "max_replicas": self.hpa.max_replicas,
                "targets": {m.resource: m.average_utilization for m in self.hpa.metrics},
                "sync_period_seconds": self.autoscaler.sync_period_seconds,
                "tolerance": self._tolerance(),
                "scale_down_window_seconds": self.hpa.scale_down.stabilization_window_seconds,
            },
            "decisions": [
                {**d.as_dict(), "time": round(d.time - origin, 3)} for d in self.decisions
            ],
            "replicas": [
                {"t": round(c.t - origin, 3), "replicas": c.replicas} for c in self.counts
            ],
        }
