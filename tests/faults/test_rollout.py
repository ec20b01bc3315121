"""The rollout fault's driver: against a simulated replica set (each round one simulated
second; a replica turns ready two seconds after it started), then on a real embedded stack."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from harness import paths
from harness.config.faults import Rollout
from harness.config.k8s import load_deployment
from harness.config.model import SeedSpec
from harness.faults.injector import FaultInjector, FaultTarget
from harness.faults.records import Outcome
from harness.faults.rollout import (
    ClusterRolloutDriver,
    ContainerRolloutDriver,
    RolloutDriver,
    plan_for,
    version_settings,
)
from harness.stack.capabilities import AppContainer
from harness.stack.embedded import EmbeddedStack, ProbeSpec
from harness.stack.rollout import DeploymentState, ReplicaSetCount, RolloutPlan


@dataclass
class Process:
    name: str
    revision: int
    started: float
    pid: int = 0
    gone: bool = False

    def alive(self) -> bool:
        return not self.gone


@dataclass
class Controller:
    clock: list[float]
    desired: int = 3
    ready_since: dict[str, float] = field(default_factory=dict)

    def is_ready(self, name: str) -> bool:
        return name in self.ready_since

    def is_available(self, name: str, min_ready: float) -> bool:
        return name in self.ready_since and self.clock[0] - self.ready_since[name] >= min_ready


class ReplicaSet:
    """Starts what the desired count lacks from the current revision; `unready` revisions
    never turn ready."""

    def __init__(self, unready: set[int] | None = None) -> None:
        self.clock = [0.0]
        self.controller = Controller(self.clock)
        self.unready = unready or set()
        self.revision = 1
        self.serial = 0
        self.running: list[Process] = []
        self.retired: list[tuple[str, float, float]] = []
        for _ in range(3):
            process = self._start()
            self.controller.ready_since[process.name] = -100.0

    def _start(self) -> Process:
        self.serial += 1
        process = Process(f"replica-{self.serial}", self.revision, self.clock[0])
        self.running.append(process)
        return process

    def processes(self) -> list[Process]:
        self.clock[0] += 1.0
        while len(self.running) < self.controller.desired:
            self._start()
        for p in self.running:
            if p.revision not in self.unready and self.clock[0] - p.started >= 2.0:
                self.controller.ready_since.setdefault(p.name, self.clock[0])
        return list(self.running)

    def revision_of(self, process: Process) -> int:
        return process.revision

    def revise(self, settings) -> int:
        self.revision = max(self.revision, *(p.revision for p in self.running)) + 1
        return self.revision

    def restore(self, revision: int) -> None:
        self.revision = revision

    def retire(self, process: Process, *, pre_stop: float, grace: float, reason: str) -> None:
        self.running.remove(process)
        self.controller.ready_since.pop(process.name, None)
        self.retired.append((process.name, pre_stop, grace))

    def terminating(self) -> int:
        return 0


def simulated_plan(deadline: float = 600.0) -> RolloutPlan:
    return RolloutPlan(3, 1, 0, 1.0, deadline, 30.0, 2.0)


def test_every_replica_is_replaced_one_surge_at_a_time():
    replicas = ReplicaSet()
    driver = RolloutDriver(replicas, simulated_plan(), stop=threading.Event(), name="r",  # type: ignore[arg-type]
                           period=0.0, clock=lambda: replicas.clock[0])
    outcome = driver.run({"CACHE_TTL_SECONDS": "60"})
    assert outcome.status == "complete"
    assert (outcome.old_revision, outcome.new_revision) == (1, 2)
    assert sorted(outcome.retired) == ["replica-1", "replica-2", "replica-3"]
    assert {p.revision for p in replicas.running} == {2}
    assert len(replicas.running) == 3
    assert all(pre_stop == 2.0 and grace == 30.0 for _, pre_stop, grace in replicas.retired)
    assert max(s.total for s in outcome.samples) == 4
    assert min(s.ready for s in outcome.samples) >= 3
    assert not outcome.rolled_back


def test_a_version_that_never_turns_ready_stops_at_the_deadline_and_is_rolled_back():
    replicas = ReplicaSet(unready={2})
    driver = RolloutDriver(replicas, simulated_plan(deadline=10.0), stop=threading.Event(),  # type: ignore[arg-type]
                           name="bad", period=0.0, clock=lambda: replicas.clock[0])
    outcome = driver.run({})
    assert outcome.status == "deadline-exceeded"
    assert outcome.rolled_back
    assert outcome.retired == ()  # no old replica was taken
    assert [p.revision for p in replicas.running] == [1, 1, 1]
    assert replicas.revision == 1
    assert min(s.old_ready for s in outcome.samples) == 3


def test_stopping_the_run_interrupts_a_rollout():
    replicas = ReplicaSet(unready={2})
    stop = threading.Event()
    stop.set()
    outcome = RolloutDriver(replicas, simulated_plan(), stop=stop, name="r",  # type: ignore[arg-type]
                            period=0.0, clock=lambda: replicas.clock[0]).run({})
    assert outcome.status == "interrupted"


def test_the_plan_comes_from_the_bundled_deployment_and_the_fault():
    deployment = load_deployment(paths.k8s_base_dir() / "deployment.yaml")
    fault = Rollout(at=0, kind="rollout", bad=True, progress_deadline=30,
                    app_settings={"CACHE_TTL_SECONDS": "60"})
    plan = plan_for(deployment, 3, fault)
    assert (plan.max_surge, plan.max_unavailable, plan.termination_grace) == (1, 0, 30.0)
    assert plan.progress_deadline == 30.0
    assert plan_for(deployment, 3, Rollout(at=0, kind="rollout")).progress_deadline == 600.0
    assert version_settings(fault) == {"CACHE_TTL_SECONDS": "60", "ARTIFICIAL_UNREADY": "true"}


@pytest.fixture
def stack(tmp_path: Path):
    stack = EmbeddedStack(replicas=2, log_dir=tmp_path / "logs", seed=SeedSpec(tickets=50),
                          probe=ProbeSpec(attempts=30, period=0.5), service="readiness",
                          settings={"SHUTDOWN_DRAIN_SECONDS": "2"})
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def test_a_rollout_and_a_bad_one_on_a_real_stack_behind_the_readiness_service(stack):
    injector = FaultInjector([
        Rollout(at=0, kind="rollout", name="good", app_settings={"CACHE_TTL_SECONDS": "60"}),
        Rollout(at=0.5, kind="rollout", name="bad", bad=True, progress_deadline=4),
    ], FaultTarget.of(stack.capabilities()))
    injector.start()
    deadline = time.monotonic() + 90
    with httpx.Client(timeout=5) as client:  # the service answers throughout
        while len(injector.events) < 2 and time.monotonic() < deadline:
            assert client.get(f"{stack.endpoints().service_url}/api/health/live").status_code \
                == 200
            time.sleep(0.2)
    good, bad = injector.stop()
    assert (good.outcome, good.facts["status"]) == (Outcome.INJECTED, "complete"), good.detail
    assert len(good.facts["retired"]) == 2
    assert (bad.outcome, bad.facts["status"]) == (Outcome.INJECTED, "deadline-exceeded")
    assert bad.facts["rolled_back"] and bad.facts["retired"] == []
    assert {stack.revision_of(p) for p in stack.processes()} == {good.facts["new_revision"]}
    assert stack.revision == good.facts["new_revision"]
    assert stack.service is not None and stack.service.failed == 0


class StuckDeployment:
    """A cluster's Deployment (harness.stack.capabilities.ClusterDeployment) of 3 replicas
    whose new pod never turns ready and whose controller never reports
    ProgressDeadlineExceeded."""

    def __init__(self) -> None:
        self.settings: dict[str, str] | None = None
        self.undone = False

    def rollout_plan(self) -> RolloutPlan:
        return simulated_plan(3.0)

    def change(self, settings, image) -> None:
        self.settings = dict(settings)

    def undo(self) -> None:
        self.undone = True

    def state(self) -> DeploymentState:
        rolled = self.settings is not None
        revision = 3 if self.undone else 2 if rolled else 1
        old = ReplicaSetCount("app-old", 3 if self.undone else 1, 3, 3, 3)
        sets = (old, ReplicaSetCount("app-new", 2, 0 if self.undone else 1, 0, 0))
        return DeploymentState(1 + rolled + self.undone, 1 + rolled + self.undone, revision, 3,
                               sets if rolled else (old,), 0, False,
                               (("app-old-a", "app-old"), ("app-old-b", "app-old")))


def test_a_cluster_rollout_without_progress_stops_on_the_harness_clock_and_is_undone():
    deployment = StuckDeployment()
    tick = iter(range(1000))
    driver = ClusterRolloutDriver(deployment, deployment.rollout_plan(), stop=threading.Event(),
                                  period=0, clock=lambda: float(next(tick)))
    outcome = driver.run(version_settings(Rollout(kind="rollout", at=0, bad=True)))
    assert deployment.settings == {"ARTIFICIAL_UNREADY": "true"}
    assert (outcome.status, outcome.rolled_back, deployment.undone) == \
        ("deadline-exceeded", True, True)
    assert (outcome.old_revision, outcome.new_revision, outcome.retired) == (1, 2, ())
    first, *_, last = outcome.samples
    assert (first.new, first.old, first.old_ready) == (1, 3, 3)
    assert (last.new, last.old_ready) == (0, 3)


def test_a_stopped_run_interrupts_a_cluster_rollout_without_undo():
    deployment = StuckDeployment()
    stop = threading.Event()
    stop.set()
    outcome = ClusterRolloutDriver(deployment, deployment.rollout_plan(), stop=stop).run({})
    assert (outcome.status, outcome.rolled_back, deployment.undone) == \
        ("interrupted", False, False)


class ComposeService:
    """The compose app service (harness.stack.capabilities.ComposeApp) of 3 containers: a new
    one turns healthy two reads after it started unless its revision is `unready`; a stopped
    one is still terminating for one read."""

    def __init__(self, unready: set[int] | None = None) -> None:
        self.clock = [0.0]
        self.unready = unready or set()
        self.revision = 1
        self.serial = 0
        self.running: list[tuple[str, int, float]] = []  # (id, revision, started)
        self.ending: dict[str, int] = {}
        self.stopped: list[tuple[str, float]] = []
        self.settings: dict[int, dict[str, str]] = {1: {}}
        self.pending: set[str] = set()
        self.admitted: list[tuple[str, bool]] = []  # (id, healthy when admitted)
        for _ in range(3):
            self.start()
        self.running = [(cid, rev, -100.0) for cid, rev, _ in self.running]
        self.pending.clear()

    def revise(self, settings) -> int:
        self.revision = max(self.settings) + 1
        self.settings[self.revision] = dict(settings)
        return self.revision

    def restore(self, revision: int) -> None:
        self.revision = revision

    def containers(self) -> list[AppContainer]:
        self.clock[0] += 1.0
        self.ending = {cid: left - 1 for cid, left in self.ending.items() if left > 0}
        return [AppContainer(cid, f"app-{cid}", rev, self._healthy(rev, started),
                             cid not in self.pending)
                for cid, rev, started in self.running]

    def _healthy(self, revision: int, started: float) -> bool:
        return revision not in self.unready and self.clock[0] - started >= 2.0

    def start(self) -> str:
        self.serial += 1
        cid = f"c{self.serial}"
        self.running.append((cid, self.revision, self.clock[0]))
        self.pending.add(cid)
        return cid

    def admit(self, container_id: str) -> None:
        _, rev, started = next(c for c in self.running if c[0] == container_id)
        self.admitted.append((container_id, self._healthy(rev, started)))
        self.pending.discard(container_id)

    def stop(self, container_id: str, *, grace: float) -> None:
        self.running = [c for c in self.running if c[0] != container_id]
        self.ending[container_id] = 1
        self.stopped.append((container_id, grace))

    def terminating(self) -> int:
        return len(self.ending)


def test_compose_containers_are_replaced_one_surge_at_a_time():
    app = ComposeService()
    driver = ContainerRolloutDriver(app, simulated_plan(), stop=threading.Event(), period=0.0,  # type: ignore[arg-type]
                                    clock=lambda: app.clock[0])
    outcome = driver.run({"CACHE_TTL_SECONDS": "60"})
    assert (outcome.status, outcome.old_revision, outcome.new_revision) == ("complete", 1, 2)
    assert app.settings[2] == {"CACHE_TTL_SECONDS": "60"}
    assert sorted(outcome.retired) == ["app-c1", "app-c2", "app-c3"]
    assert [rev for _, rev, _ in app.running] == [2, 2, 2]
    assert all(grace == 30.0 for _, grace in app.stopped)  # the manifest's grace, docker stop -t
    assert app.admitted == [("c4", True), ("c5", True), ("c6", True)]  # nginx: once healthy
    assert max(s.total for s in outcome.samples) == 4  # replicas + maxSurge
    assert min(s.ready for s in outcome.samples) == 3  # replicas - maxUnavailable
    assert max(s.terminating for s in outcome.samples) == 1
    assert outcome.samples[-1].terminating == 0  # settled: every stopped container removed
    assert not outcome.rolled_back
    assert "only once healthy" in outcome.facts(simulated_plan(), Rollout(
        at=0, kind="rollout"))["ready_means"]


def test_a_compose_version_that_never_turns_healthy_is_rolled_back_at_the_deadline():
    app = ComposeService(unready={2})
    driver = ContainerRolloutDriver(app, simulated_plan(deadline=10.0), stop=threading.Event(),  # type: ignore[arg-type]
                                    period=0.0, clock=lambda: app.clock[0])
    outcome = driver.run({})
    assert (outcome.status, outcome.rolled_back, outcome.retired) == (
        "deadline-exceeded", True, ())
    assert [(cid, rev) for cid, rev, _ in app.running] == [("c1", 1), ("c2", 1), ("c3", 1)]
    assert [cid for cid, _ in app.stopped] == ["c4"]  # the one new container, removed
    assert app.admitted == []  # never healthy: nginx never sent to it
    assert app.revision == 1
    assert min(s.old_ready for s in outcome.samples) == 3
    last = outcome.samples[-1]
    assert (last.new, last.old_ready, last.terminating) == (0, 3, 0)


def test_stopping_the_run_interrupts_a_compose_rollout():
    app = ComposeService()
    stop = threading.Event()
    stop.set()
    outcome = ContainerRolloutDriver(app, simulated_plan(), stop=stop, period=0.0,  # type: ignore[arg-type]
                                     clock=lambda: app.clock[0]).run({})
    assert (outcome.status, app.stopped, app.serial) == ("interrupted", [], 3)
