"""The local autoscaler at work: samples replica processes, runs the HPA algorithm, scales.

Utilization is each replica process's CPU (and memory) against the Deployment's resource
requests, as metrics-server and the HPA controller see a pod's (what differs: trace.MEASURED).
On Kubernetes the real HPA is observed instead; this is its emulation for one machine.

Like the controller, a sync only writes the new count: the backend's replica set starts the
pods in the background, and the next syncs see them starting (not ready) until their probes pass.
The schedule runs on a monotonic clock; recorded times are epoch seconds (the start's wall time
plus monotonic time since), so a wall-clock step neither stops nor bends the trace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import psutil

from harness.config.k8s import HpaSpec, Resources
from harness.stack.autoscaler import (
    NEWEST_KUBERNETES,
    Autoscaler,
    AutoscalerLoop,
    Decision,
    PodSample,
)
from harness.stack.backend import Replica
from harness.stack.trace import ReplicaCount, ScalingTrace, SyncSample, shifted

__all__ = ["CpuMeter", "ReplicaAutoscaler", "ReplicaCount", "ScalableReplicas", "UsageMeter"]

COUNT_POLL_SECONDS = 0.25  # how often readiness changes are looked for between syncs


@runtime_checkable
class ScalableReplicas(Protocol):
    def desired_replicas(self) -> int:
        """The count last written (a Deployment's spec.replicas)."""

    def scale(self, replicas: int) -> None:
        """Write the desired count; must not wait for new replicas to start."""

    def current_replicas(self) -> Sequence[Replica]:
        """Every replica that runs, starting or ready, with its readiness."""


class UsageMeter(Protocol):
    def prime(self, pids: Sequence[int]) -> None: ...

    def sample(self, pids: Sequence[int]) -> dict[int, tuple[float | None, float | None, float]]:
        ...


class CpuMeter:
    """CPU millicores of each replica process over the window since its previous reading.

    ``prime`` takes a reading without a value (the loop's start). A replica with no earlier
    reading is measured over ``first_window`` seconds at the sync (one sleep for all of them), so
    a new replica gets a real value at its first sync instead of none.
    """

    def __init__(self, *, first_window: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.first_window = first_window
        self._clock = clock
        self._sleep = sleep
        self._last: dict[int, tuple[float, float]] = {}

    @staticmethod
    def _read(pid: int) -> tuple[float, float] | None:
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                times = process.cpu_times()
                rss = float(process.memory_info().rss)
        except psutil.Error:
            return None
        return times.user + times.system, rss

    def prime(self, pids: Sequence[int]) -> None:
        now = self._clock()
        for pid in pids:
            reading = self._read(pid)
            if reading is not None:
                self._last[pid] = (now, reading[0])

    def sample(self, pids: Sequence[int]) -> dict[int, tuple[float | None, float | None, float]]:
        """pid -> (cpu millicores, rss bytes, window start); (None, None, now) if unreadable."""
        fresh = [pid for pid in pids if pid not in self._last]
        if fresh:
            self.prime(fresh)
            self._sleep(self.first_window)
        now = self._clock()
        result: dict[int, tuple[float | None, float | None, float]] = {}
        for pid in pids:
            reading = self._read(pid)
            previous = self._last.get(pid)
            if reading is None:
                self._last.pop(pid, None)
                result[pid] = (None, None, now)
                continue
            used, rss = reading
            self._last[pid] = (now, used)
            if previous is None or now <= previous[0]:
                result[pid] = (None, rss, now)
                continue
            result[pid] = ((used - previous[1]) / (now - previous[0]) * 1000.0, rss, previous[0])
        for pid in set(self._last) - set(pids):
            del self._last[pid]
        return result


class ReplicaAutoscaler:
    """Runs the HPA algorithm in a thread against a backend's replica processes.

    ``snapshot()`` hands the run on as a frozen ScalingTrace (decisions, replica counts, and per
    sync every replica's sample); ``error`` is what ended the loop early, if anything.
    """

    def __init__(
        self,
        backend: ScalableReplicas,
        hpa: HpaSpec,
        requests: Resources,
        *,
        sync_period: float = 15.0,
        kubernetes_version: tuple[int, int] = NEWEST_KUBERNETES,
        on_error: Callable[[BaseException], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        meter: UsageMeter | None = None,
        pause: Callable[[float], bool] | None = None,
    ) -> None:
        self.backend = backend
        self.autoscaler = Autoscaler(hpa, requests, sync_period_seconds=sync_period,
                                     kubernetes_version=kubernetes_version)
        self.hpa = hpa
        self.requests = requests
        self.error: BaseException | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self._epoch_offset = wall_clock() - clock()
        self._meter: UsageMeter = meter or CpuMeter(first_window=min(1.0, sync_period / 4),
                                                    clock=clock)
        self._counts: list[ReplicaCount] = []
        self._syncs: list[SyncSample] = []
        self._steady: set[str] = set()
        self._steady_since: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pause = pause if pause is not None else self._stop.wait
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self.loop = AutoscalerLoop(
            self.autoscaler, sample=self._sample, scale=self.backend.scale, clock=clock,
            wait=self._wait, stop=self._stop, on_decision=lambda _: self._note_count(),
        )

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return self.autoscaler.decisions

    # -- what one sync sees -------------------------------------------------------------------

    def _sample(self) -> tuple[int, Sequence[PodSample]]:
        replicas = list(self.backend.current_replicas())
        readings = self._meter.sample([r.pid for r in replicas if r.pid])
        pods = []
        for replica in replicas:
            cpu, memory, window_start = readings.get(replica.pid or -1, (None, None, None))
            started = replica.started_at
            if replica.name in self._steady and self._steady_since is not None:
                started = self._steady_since
            pods.append(PodSample(
                replica.name, replica.ready, cpu, memory, started_at=started,
                ready_changed_at=replica.ready_changed_at, cpu_window_start=window_start,
            ))
        current = self.backend.desired_replicas()
        with self._lock:
            self._syncs.append(SyncSample(self._clock(), current, tuple(pods)))
        return current, pods

    def _note_count(self) -> None:
        """Record the counts when they changed since the last record."""
        replicas = self.backend.current_replicas()
        count = ReplicaCount(self._clock(), len(replicas), sum(1 for r in replicas if r.ready),
                             self.backend.desired_replicas())
        with self._lock:
            last = self._counts[-1] if self._counts else None
            if last is None or (last.replicas, last.ready, last.desired) != \
                    (count.replicas, count.ready, count.desired):
                self._counts.append(count)

    def _wait(self, seconds: float) -> bool:
        """Sleep until the next sync, noting readiness changes meanwhile; True: stop."""
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0:
            if self._pause(min(COUNT_POLL_SECONDS, remaining)) or self._stop.is_set():
                return True
            self._note_count()
        return False

    # -- lifecycle ----------------------------------------------------------------------------

    def run(self, duration: float) -> int:
        """Sync every period for at most `duration` seconds, the first one period from now;
        returns the number of syncs. An exception ends the run and is kept in ``error``."""
        self._epoch_offset = self._wall_clock() - self._clock()
        try:
            replicas = self.backend.current_replicas()
            # The replicas running when the load starts stand for a Deployment's pods in steady
            # state, started long before the peak: past the CPU-initialization period, so an
            # overloaded one that fails readiness still counts (it was ready). Replicas the
            # autoscaler adds start now, and Kubernetes' initialization rules apply to them.
            self._steady = {r.name for r in replicas}
            self._steady_since = self._clock() - (
                self.autoscaler.cpu_initialization_period_seconds
                + self.autoscaler.initial_readiness_delay_seconds + 1.0)
            self._meter.prime([r.pid for r in replicas if r.pid])
            self._note_count()
            return self.loop.run(duration)
        except BaseException as exc:  # reported by the run, not lost in a thread
            self.error = exc
            if self._on_error is not None:
                self._on_error(exc)
            return len(self.autoscaler.decisions)

    def start(self, duration: float) -> None:
        """`run` in a thread (duration: the run's length plus slack)."""
        self._thread = threading.Thread(target=self.run, args=(duration,), name="autoscaler",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def snapshot(self) -> ScalingTrace:
        """Everything so far as a frozen record, times in epoch seconds."""
        with self._lock:
            counts, syncs = tuple(self._counts), tuple(self._syncs)
        trace = ScalingTrace(
            hpa=self.hpa, requests=self.requests,
            sync_period_seconds=self.autoscaler.sync_period_seconds,
            tolerance=self.autoscaler.tolerance,
            kubernetes_version=self.autoscaler.kubernetes_version,
            decisions=self.autoscaler.decisions, counts=counts, syncs=syncs,
            error=None if self.error is None else f"{type(self.error).__name__}: {self.error}",
        )
        return shifted(trace, self._epoch_offset)
