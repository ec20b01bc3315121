"""harness.stack.scaling: the autoscaler driving a replica set, on injected clocks.

A fake replica set stands for the embedded backend: `scale` only writes the desired count, new
replicas start at once and pass their probes `startup` seconds later, and CPU demand spreads
over the ready replicas. The real processes are exercised in tests/faults/test_controller.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from harness.config.k8s import load_scaling
from harness.stack.backend import Replica
from harness.stack.scaling import CpuMeter, ReplicaAutoscaler

SCALING = load_scaling()
REQUESTS = SCALING.deployment.requests


class Clock:
    def __init__(self, now: float = 5000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def pause(self, seconds: float) -> bool:
        self.now += seconds
        return False


class ReplicaSet:
    """`replicas` long-ready replicas; new ones become ready `startup` seconds after creation."""

    def __init__(self, clock: Clock, replicas: int = 2, startup: float = 40.0) -> None:
        self.clock = clock
        self.startup = startup
        self.desired = replicas
        self.created = {f"r{i}": clock.now - 1000.0 for i in range(replicas)}
        self.scaled: list[tuple[float, int]] = []

    def desired_replicas(self) -> int:
        return self.desired

    def scale(self, replicas: int) -> None:
        self.scaled.append((self.clock.now, replicas))
        self.desired = replicas
        while len(self.created) < replicas:
            self.created[f"r{len(self.created)}"] = self.clock.now

    def current_replicas(self) -> Sequence[Replica]:
        return tuple(
            Replica(name, "http://127.0.0.1:1", pid=i + 1,
                    ready=self.clock.now >= at + self.startup, started_at=at,
                    ready_changed_at=at + self.startup if self.clock.now >= at + self.startup
                    else at)
            for i, (name, at) in enumerate(self.created.items())
        )


class Meter:
    """`demand` millicores spread over the ready replicas; 20m for one still starting."""

    def __init__(self, backend: ReplicaSet, clock: Clock, demand: float) -> None:
        self.backend, self.clock, self.demand = backend, clock, demand
        self.last: dict[int, float] = {}

    def prime(self, pids: Sequence[int]) -> None:
        for pid in pids:
            self.last[pid] = self.clock.now

    def sample(self, pids: Sequence[int]) -> dict[int, tuple[float | None, float | None, float]]:
        replicas = {r.pid: r for r in self.backend.current_replicas()}
        ready = sum(1 for r in replicas.values() if r.ready)
        out: dict[int, tuple[float | None, float | None, float]] = {}
        for pid in pids:
            share = self.demand / ready if replicas[pid].ready else 20.0
            out[pid] = (share, 100e6, self.last.get(pid, self.clock.now - 1.0))
            self.last[pid] = self.clock.now
        return out


def autoscaler(clock: Clock, backend: ReplicaSet, demand: float, wall=None) -> ReplicaAutoscaler:
    return ReplicaAutoscaler(backend, SCALING.hpa, REQUESTS, sync_period=15.0, clock=clock,
                             wall_clock=wall or (lambda: 1.7e9 + clock.now),
                             meter=Meter(backend, clock, demand), pause=clock.pause)


def test_a_scale_up_writes_the_count_and_syncs_go_on_while_the_new_replicas_start() -> None:
    clock = Clock()
    backend = ReplicaSet(clock, replicas=2, startup=40.0)
    scaler = autoscaler(clock, backend, demand=1400.0)  # 140 % of two 500m requests
    start = clock.now
    assert scaler.run(90.5) == 6
    trace = scaler.snapshot()
    offset = 1.7e9
    times = [round(d.time - offset - start, 3) for d in trace.decisions]
    assert times == [15.0, 30.0, 45.0, 60.0, 75.0, 90.0]  # first sync one period after start
    assert backend.scaled == [(start + 15.0, 4)]  # 2 -> 4 once: no overshoot while starting
    cpu = [next(m for m in d.per_metric if m.metric == "cpu") for d in trace.decisions]
    # Starting replicas are unready (set aside, 0 % on a scale-up) until ready at 55 s; at 60 s
    # their cpu window began before readiness (initialization period), from 75 s they count.
    assert [m.unready_pods for m in cpu] == [0, 2, 2, 2, 0, 0]
    assert [m.ready_pods for m in cpu] == [2, 2, 2, 2, 4, 4]
    assert cpu[4].utilization_percent == 70
    # The recorded counts show when the new replicas were ready, not only when they were asked.
    ready = [(round(c.t - offset - start, 2), c.ready) for c in trace.counts]
    became_four = next(t for t, n in ready if n == 4)
    assert 55.0 <= became_four <= 55.25
    # Every sync's per-replica samples are kept for a replay.
    assert [len(s.pods) for s in trace.syncs] == [2, 4, 4, 4, 4, 4]
    assert trace.syncs[1].pods[2].ready is False and trace.syncs[1].current == 4


def test_a_wall_clock_step_backwards_does_not_stop_autoscaling() -> None:
    clock = Clock()
    backend = ReplicaSet(clock)
    steps = iter([1.7e9, 1.7e9 - 3600.0])  # the wall clock jumps back an hour after start

    def wall() -> float:
        return next(steps, 1.7e9 - 3600.0)

    scaler = autoscaler(clock, backend, demand=700.0, wall=wall)
    assert scaler.run(60.5) == 4
    assert scaler.error is None
    times = [d.time for d in scaler.snapshot().decisions]
    assert times == sorted(times) and times[-1] - times[0] == 45.0


def test_a_replica_seen_for_the_first_time_gets_a_cpu_value() -> None:
    meter = CpuMeter(first_window=0.05)
    pid = os.getpid()
    cpu, rss, window_start = meter.sample([pid])[pid]
    assert cpu is not None and cpu >= 0 and rss is not None and rss > 0
    again = meter.sample([pid])[pid]
    assert again[2] > window_start  # the next window starts at the previous reading
    assert meter.sample([])  == {}  # a replica gone is forgotten


def test_an_unreadable_process_has_no_sample() -> None:
    meter = CpuMeter(first_window=0.0)
    gone = 2**22 + 12345  # above the default pid_max: no such process
    assert meter.sample([gone])[gone][:2] == (None, None)


def test_the_trace_says_what_was_measured_and_how_a_cluster_differs() -> None:
    clock = Clock()
    scaler = autoscaler(clock, ReplicaSet(clock), demand=700.0)
    scaler.run(16.0)
    hpa = scaler.snapshot().section(origin=0.0)["hpa"]
    assert "RSS" in hpa["measured"]["memory"] and "metrics-server" in hpa["measured"]["cluster"]
    assert hpa["kubernetes_version"] == "1.33"


class OverloadedReplicaSet(ReplicaSet):
    """Replicas `up` started a moment ago; r0 fails its readiness probe (overloaded) 10 s in."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, replicas=2)
        self.created = {"r0": clock.now - 5.0, "r1": clock.now - 5.0}
        self.start = clock.now

    def current_replicas(self) -> Sequence[Replica]:
        overloaded = self.clock.now >= self.start + 10.0
        return tuple(
            Replica(name, "http://127.0.0.1:1", pid=i + 1,
                    ready=not (name == "r0" and overloaded), started_at=at,
                    ready_changed_at=self.start + 10.0 if name == "r0" and overloaded
                    else at + 1.0)
            for i, (name, at) in enumerate(self.created.items())
        )


def test_replicas_running_before_the_load_count_as_past_cpu_initialization() -> None:
    # An overloaded replica that fails readiness still counts for CPU once past the
    # initialization period (it was ready). The replicas `up` started stand for a Deployment's
    # pods in steady state, so one failing readiness under the peak is not set aside.
    clock = Clock()
    backend = OverloadedReplicaSet(clock)
    scaler = autoscaler(clock, backend, demand=700.0)
    scaler.run(16.0)
    (decision,) = scaler.snapshot().decisions
    cpu = next(m for m in decision.per_metric if m.metric == "cpu")
    assert (cpu.ready_pods, cpu.unready_pods) == (2, 0)
