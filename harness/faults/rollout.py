"""The `rollout` fault on replicas the harness runs: a new revision of the pod template rolled
through every replica as the Deployment controller does (harness.stack.rollout decides each
step), with the bundled Deployment's numbers read through harness.config.k8s.

Each round (every `period`) counts the replicas of the new and the old revision and how many are
available (ready for minReadySeconds, as the replica controller's probes saw them), asks
`next_step`, and acts: more replicas are written to the controller's desired count (it starts
them from the new revision and gates them by their probes); fewer old ones are retired (out of
the service at once, then preStop, SIGTERM, SIGKILL after terminationGracePeriodSeconds). It
ends when every replica is of the new revision and available (what `kubectl rollout status`
waits for), or when nothing progressed for the progress deadline: the deploy failed, and the
new revision is rolled back (`kubectl rollout undo`, what the deploy pipeline does next), so the
old replicas that served throughout stay.

On a cluster (`ClusterRolloutDriver`) the Deployment's own controller rolls: `kubectl set env`
(and `kubectl set image` for the fault's `image`, both between `rollout pause` and `resume`:
one rollout) changes the pod template, and each round reads the Deployment, its ReplicaSets and
its pods being deleted through the API into the same samples. It ends when `kubectl rollout status`
would (the controller saw the change, every replica is of the new ReplicaSet and available, no
old one left), or when the Deployment's Progressing condition says ProgressDeadlineExceeded or
nothing progressed for the plan's deadline on the harness's clock (the fault's
`progress_deadline` when it sets one: the pipeline gives up first, as `kubectl rollout status
--timeout` does): then `kubectl rollout undo`.

On compose (`ContainerRolloutDriver`, through the backend's `ComposeApp` capability) the harness
is the controller: the same rounds and `next_step` over the app service's containers, a new one
started from the new revision's settings (`compose up --scale`), an old one stopped with the
manifest's grace (`docker stop -t`); available is healthy (the compose healthcheck) for
minReadySeconds, and a new container is admitted to nginx's network once healthy (nginx does not
read the healthcheck). Compose has no preStop hook (README: what compose does).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Generic, Protocol, TypeVar

from harness.config.faults import Rollout
from harness.config.k8s import DeploymentSpec
from harness.errors import StackError
from harness.stack.capabilities import AppContainer, ClusterDeployment, ComposeApp, ReplicaSet
from harness.stack.controller import ReplicaController
from harness.stack.processes import ManagedProcess
from harness.stack.rollout import (
    DeploymentState,
    RevisionCount,
    RolloutPlan,
    Step,
    next_step,
    resolve_fenceposts,
)

__all__ = ["ClusterRolloutDriver", "ContainerRolloutDriver", "RolloutDriver", "RolloutOutcome",
           "RolloutSample", "plan_for", "version_settings"]

UNREADY_SETTING = {"ARTIFICIAL_UNREADY": "true"}  # the app's own switch for a broken version
SETTLE_EXTRA = 5.0  # seconds past the grace period to wait for retired replicas to end
COMPOSE_READY = ("ready is healthy by the compose healthcheck, which nginx does not read: a new "
                 "container joined nginx's network (Docker's DNS name app) only once healthy, "
                 "but an old one stayed in it until it exited, draining")


@dataclass(frozen=True)
class _Pace:
    """How a driver paces its rounds: `stop` ends it early, `period` seconds between looks,
    `clock` the monotonic time its deadlines are measured on."""

    stop: threading.Event
    period: float
    clock: Callable[[], float] = time.monotonic

    def after(self, seconds: float) -> float:
        """The clock's time ``seconds`` from now: a deadline."""
        return self.clock() + seconds

    def wait(self) -> bool:
        """One period (less when stopped); whether the driver was told to stop."""
        return self.stop.wait(self.period)


@dataclass(frozen=True)
class RolloutSample:
    """The replica counts at one instant (epoch `t`); `terminating` are retired, not ended."""

    t: float
    new: int
    new_ready: int
    old: int
    old_ready: int
    terminating: int

    @property
    def total(self) -> int:
        return self.new + self.old

    @property
    def ready(self) -> int:
        return self.new_ready + self.old_ready


@dataclass(frozen=True)
class RolloutOutcome:
    """How one rollout went; times are epoch seconds."""

    status: str  # complete | deadline-exceeded | interrupted
    started_at: float
    ended_at: float  # complete, failed or interrupted
    settled_at: float  # the last retired replica ended (or gave up waiting)
    old_revision: int
    new_revision: int
    retired: tuple[str, ...]
    samples: tuple[RolloutSample, ...]
    rolled_back: bool
    ready_means: str = ""  # what "ready" was where it is not what the load balancer follows

    def facts(self, plan: RolloutPlan, fault: Rollout) -> dict[str, Any]:
        return {
            **({"ready_means": self.ready_means} if self.ready_means else {}),
            "status": self.status,
            "bad": fault.bad,
            "failed_requests_budget": fault.failed_requests,
            "replicas": plan.replicas,
            "max_surge": plan.max_surge,
            "max_unavailable": plan.max_unavailable,
            "min_ready_seconds": plan.min_ready_seconds,
            "progress_deadline_seconds": plan.progress_deadline,
            "termination_grace_seconds": plan.termination_grace,
            "pre_stop_seconds": plan.pre_stop,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "settled_at": self.settled_at,
            "duration_seconds": round(self.ended_at - self.started_at, 3),
            "old_revision": self.old_revision,
            "new_revision": self.new_revision,
            "retired": list(self.retired),
            "rolled_back": self.rolled_back,
            "settings": sorted(fault.app_settings),
            "samples": [asdict(s) for s in self.samples],
        }


def plan_for(deployment: DeploymentSpec, replicas: int, fault: Rollout) -> RolloutPlan:
    """The Deployment's strategy for `replicas` (its progress deadline unless the fault sets
    one: a scenario shortens it as tests shorten the HPA's clock)."""
    surge, unavailable = resolve_fenceposts(deployment.max_surge, deployment.max_unavailable,
                                            replicas)
    return RolloutPlan(
        replicas=replicas, max_surge=surge, max_unavailable=unavailable,
        min_ready_seconds=float(deployment.min_ready_seconds),
        progress_deadline=(fault.progress_deadline if fault.progress_deadline is not None
                           else float(deployment.progress_deadline_seconds)),
        termination_grace=float(deployment.termination_grace_period_seconds),
        pre_stop=deployment.pre_stop_seconds,
    )


_Item = TypeVar("_Item")


class _Revisions(Protocol):
    """What a rollout the harness controls rolls through: numbered revisions of the settings."""

    @property
    def revision(self) -> int: ...

    def revise(self, settings: Mapping[str, str]) -> int: ...


class _ControlledRollout(ABC, Generic[_Item]):
    """A rollout where the harness is the Deployment controller (replica processes, compose
    containers): a new revision, the rolling loop, the rollback when nothing progressed for the
    deadline, then the wait for what is leaving. Each driver says how it looks and acts."""

    plan: RolloutPlan
    _pace: _Pace
    _note = ""  # how the outcome's readiness was judged, where it differs from Kubernetes'

    def run(self, settings: Mapping[str, str]) -> RolloutOutcome:
        old = self._revisions.revision
        new = self._revisions.revise(settings)
        started = time.time()
        samples: list[RolloutSample] = []
        retired: list[str] = []

        def observe() -> tuple[RevisionCount, RevisionCount, list[_Item]]:
            fresh, stale = self._split(new)
            _append_change(samples, self._sample(fresh, stale))
            return self._count(fresh), self._count(stale), stale

        def act(step: Step, new_count: RevisionCount, old_count: RevisionCount,
                stale: list[_Item]) -> None:
            retired.extend(self._act(step, new_count, old_count, stale, old))

        status = _roll(self.plan, self._pace, observe, act)
        ended = time.time()
        rolled_back = status == "deadline-exceeded"
        if rolled_back:
            self._roll_back(old, new)
        settled = self._settle(samples, new, rolled_back=rolled_back)
        return RolloutOutcome(status, started, ended, settled, old, new, tuple(retired),
                              tuple(samples), rolled_back, self._note)

    @property
    @abstractmethod
    def _revisions(self) -> _Revisions: ...

    @abstractmethod
    def _split(self, new: int) -> tuple[list[_Item], list[_Item]]:
        """The running ones of revision `new`, and the others."""

    @abstractmethod
    def _count(self, items: list[_Item]) -> RevisionCount: ...

    @abstractmethod
    def _sample(self, fresh: list[_Item], stale: list[_Item]) -> RolloutSample: ...

    @abstractmethod
    def _act(self, step: Step, new_count: RevisionCount, old_count: RevisionCount,
             stale: list[_Item], old: int) -> list[str]:
        """Take `step`; returns the names of the old ones retired."""

    @abstractmethod
    def _roll_back(self, old: int, new: int) -> None: ...

    @abstractmethod
    def _settle(self, samples: list[RolloutSample], new: int, *, rolled_back: bool) -> float:
        """Wait (bounded) for what is leaving, sampling; returns when."""


class RolloutDriver(_ControlledRollout[ManagedProcess]):
    """Rolls `settings` through `replicas` following `plan`; `stop` ends it early."""

    def __init__(self, replicas: ReplicaSet, plan: RolloutPlan, *, stop: threading.Event,
                 name: str, period: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        controller = replicas.controller
        if controller is None:
            raise StackError("a rollout needs the replica controller (the stack is not up)")
        self.replicas = replicas
        self.controller: ReplicaController = controller
        self.plan = plan
        self.name = name
        self._pace = _Pace(stop, period, clock)

    @property
    def _revisions(self) -> ReplicaSet:
        return self.replicas

    def _act(self, step: Step, new_count: RevisionCount, old_count: RevisionCount,
             stale: list[ManagedProcess], old: int) -> list[str]:
        if step.old < old_count.replicas:
            # The count first, so the controller never replaces a replica leaving here.
            self.controller.desired = step.new + step.old
            victims = _victims(stale, old_count.replicas - step.old, self.controller)
            for victim in victims:
                self.replicas.retire(victim, pre_stop=self.plan.pre_stop,
                                     grace=self.plan.termination_grace,
                                     reason=f"rollout {self.name}: revision {old} scaled down")
            return [victim.name for victim in victims]
        if step.new > new_count.replicas:
            self.controller.desired = step.new + old_count.replicas
        return []

    def _split(self, new: int) -> tuple[list[ManagedProcess], list[ManagedProcess]]:
        alive = [p for p in self.replicas.processes() if p.alive()]
        fresh = [p for p in alive if self.replicas.revision_of(p) == new]
        return fresh, [p for p in alive if self.replicas.revision_of(p) != new]

    def _count(self, processes: list[ManagedProcess]) -> RevisionCount:
        available = sum(self.controller.is_available(p.name, self.plan.min_ready_seconds)
                        for p in processes)
        return RevisionCount(len(processes), available)

    def _sample(self, fresh: list[ManagedProcess], stale: list[ManagedProcess]) -> RolloutSample:
        return RolloutSample(
            round(time.time(), 3), len(fresh), sum(self.controller.is_ready(p.name) for p in fresh),
            len(stale), sum(self.controller.is_ready(p.name) for p in stale),
            self.replicas.terminating())

    def _roll_back(self, old: int, new: int) -> None:
        """`kubectl rollout undo`: the old revision again; the new one's replicas (never
        available) leave at once."""
        self.replicas.restore(old)
        fresh, stale = self._split(new)
        self.controller.desired = self.plan.replicas
        for process in fresh:
            self.replicas.retire(process, pre_stop=self.plan.pre_stop,
                                 grace=self.plan.termination_grace,
                                 reason=f"rollout {self.name}: deadline exceeded, rolled back")

    def _settle(self, samples: list[RolloutSample], new: int, *, rolled_back: bool) -> float:
        """Until no retired replica is left ending (the rolled-back ones are retired too)."""
        deadline = self._pace.after(self.plan.pre_stop + self.plan.termination_grace + SETTLE_EXTRA)
        while self.replicas.terminating() and self._pace.clock() < deadline \
                and not self._pace.wait():
            _append_change(samples, self._sample(*self._split(new)))
        _append_change(samples, self._sample(*self._split(new)))
        return time.time()


class ClusterRolloutDriver:
    """Rolls `settings` through a cluster's Deployment with kubectl and watches its own rollout
    (plan: the live Deployment's numbers, `deployment.rollout_plan()`)."""

    def __init__(self, deployment: ClusterDeployment, plan: RolloutPlan, *,
                 stop: threading.Event, period: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.deployment = deployment
        self.plan = plan
        self._pace = _Pace(stop, period, clock)

    def run(self, settings: Mapping[str, str], image: str | None = None) -> RolloutOutcome:
        before = self.deployment.state()
        started = time.time()
        self.deployment.change(settings, image)
        samples: list[RolloutSample] = []
        new_set: str | None = None  # the new ReplicaSet's name, once the controller made it
        new_revision = before.revision
        last_progress = self._pace.clock()
        last_state: tuple[int, int, int] | None = None
        status = "interrupted"
        while not self._pace.stop.is_set():
            state = self.deployment.state()
            current = state.current()
            if new_set is None and state.observed and state.revision != before.revision \
                    and current is not None:
                new_set, new_revision = current.name, current.revision
            sample = _cluster_sample(state, new_set)
            _append_change(samples, sample)
            if new_set is not None and sample.old == 0 and sample.new == state.replicas \
                    and _available(state, new_set) >= state.replicas:
                status = "complete"
                break
            progress = (sample.new, _available(state, new_set), sample.old)
            if progress != last_state:
                last_state, last_progress = progress, self._pace.clock()
            if state.deadline_exceeded or \
                    self._pace.clock() - last_progress > self.plan.progress_deadline:
                status = "deadline-exceeded"
                break
            self._pace.wait()
        ended = time.time()
        if status == "deadline-exceeded":
            self.deployment.undo()
        settled = self._settle(samples, new_set, rolled_back=status == "deadline-exceeded")
        # The old pods gone by the end (none after an undo: the old version stays).
        left = {pod for pod, _ in self.deployment.state().pods}
        retired = tuple(pod for pod, owner in before.pods if owner != new_set and pod not in left)
        return RolloutOutcome(status, started, ended, settled, before.revision, new_revision,
                              retired, tuple(samples), status == "deadline-exceeded")

    def _settle(self, samples: list[RolloutSample], new_set: str | None, *,
                rolled_back: bool) -> float:
        """Wait (bounded) until no pod is terminating (and after an undo, none of the new
        ReplicaSet's is left); returns when."""
        deadline = self._pace.after(self.plan.pre_stop + self.plan.termination_grace + SETTLE_EXTRA)
        while True:
            sample = _cluster_sample(self.deployment.state(), new_set)
            _append_change(samples, sample)
            left = sample.terminating or (rolled_back and sample.new)
            if not left or self._pace.clock() >= deadline or self._pace.wait():
                return time.time()


class ContainerRolloutDriver(_ControlledRollout[AppContainer]):
    """Rolls `settings` through the compose app service's containers following `plan`, one
    container at a time (Compose has no rolling update of its own); `stop` ends it early."""

    def __init__(self, app: ComposeApp, plan: RolloutPlan, *, stop: threading.Event,
                 period: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.plan = plan
        self._pace = _Pace(stop, period, clock)
        self._healthy_since: dict[str, float] = {}

    _note = COMPOSE_READY

    @property
    def _revisions(self) -> ComposeApp:
        return self.app

    def _act(self, step: Step, new_count: RevisionCount, old_count: RevisionCount,
             stale: list[AppContainer], old: int) -> list[str]:
        retired: list[str] = []
        if step.old < old_count.replicas:
            ranked = sorted(enumerate(stale), key=lambda item: (item[1].healthy, -item[0]))
            for _, victim in ranked[:old_count.replicas - step.old]:
                self.app.stop(victim.id, grace=self.plan.termination_grace)
                retired.append(victim.name)
        for _ in range(step.new - new_count.replicas):
            self.app.start()
        return retired

    def _roll_back(self, old: int, new: int) -> None:
        """The old revision again; the new containers (never available) go at once."""
        self.app.restore(old)
        for container in self._split(new)[0]:
            self.app.stop(container.id, grace=self.plan.termination_grace)

    def _split(self, new: int) -> tuple[list[AppContainer], list[AppContainer]]:
        running = self.app.containers()
        for container in running:  # health-gated: nginx sends to it from now on
            if container.healthy and not container.admitted:
                self.app.admit(container.id)
        now = self._pace.clock()
        self._healthy_since = {c.id: self._healthy_since.get(c.id, now)
                               for c in running if c.healthy}
        return ([c for c in running if c.revision == new],
                [c for c in running if c.revision != new])

    def _count(self, containers: list[AppContainer]) -> RevisionCount:
        now = self._pace.clock()
        available = sum(c.id in self._healthy_since
                        and now - self._healthy_since[c.id] >= self.plan.min_ready_seconds
                        for c in containers)
        return RevisionCount(len(containers), available)

    def _sample(self, fresh: list[AppContainer], stale: list[AppContainer]) -> RolloutSample:
        return RolloutSample(round(time.time(), 3), len(fresh), sum(c.healthy for c in fresh),
                             len(stale), sum(c.healthy for c in stale), self.app.terminating())

    def _settle(self, samples: list[RolloutSample], new: int, *, rolled_back: bool) -> float:
        """Wait (bounded) until no container is being stopped (and after a rollback none of
        the new revision is left); returns when."""
        deadline = self._pace.after(self.plan.termination_grace + SETTLE_EXTRA)
        while True:
            fresh, stale = self._split(new)
            sample = self._sample(fresh, stale)
            _append_change(samples, sample)
            left = sample.terminating or (rolled_back and sample.new)
            if not left or self._pace.clock() >= deadline or self._pace.wait():
                return time.time()


def _roll(plan: RolloutPlan, pace: _Pace,
          observe: Callable[[], tuple[RevisionCount, RevisionCount, list[_Item]]],
          act: Callable[[Step, RevisionCount, RevisionCount, list[_Item]], None]) -> str:
    """The rolling loop the replica and container drivers share, as the Deployment controller
    runs it: look (new and old counts, the old replicas), stop when every replica is new and
    available, give up when nothing changed for the progress deadline, else take the next
    step (rolling.go's) and look again a period later. Returns how it ended."""
    last_progress = pace.clock()
    last_state: tuple[int, int, int] | None = None
    while not pace.stop.is_set():
        new_count, old_count, stale = observe()
        if old_count.replicas == 0 and new_count.available >= plan.replicas:
            return "complete"
        state = (new_count.replicas, new_count.available, old_count.replicas)
        if state != last_state:  # a new replica, one more available, an old one gone
            last_state, last_progress = state, pace.clock()
        if pace.clock() - last_progress > plan.progress_deadline:
            return "deadline-exceeded"
        act(next_step(plan, new_count, old_count), new_count, old_count, stale)
        pace.wait()
    return "interrupted"


def _available(state: DeploymentState, new_set: str | None) -> int:
    return sum(rs.available for rs in state.replica_sets if rs.name == new_set)


def _cluster_sample(state: DeploymentState, new_set: str | None) -> RolloutSample:
    """The API's counts as a sample: the new ReplicaSet's pods, every other one's as old."""
    new = [rs for rs in state.replica_sets if rs.name == new_set]
    old = [rs for rs in state.replica_sets if rs.name != new_set]
    return RolloutSample(round(time.time(), 3), sum(rs.replicas for rs in new),
                         sum(rs.ready for rs in new), sum(rs.replicas for rs in old),
                         sum(rs.ready for rs in old), state.terminating)


def _append_change(samples: list[RolloutSample], sample: RolloutSample) -> None:
    last = samples[-1] if samples else None
    if last is None or (sample.new, sample.new_ready, sample.old, sample.old_ready,
                        sample.terminating) != (last.new, last.new_ready, last.old,
                                                last.old_ready, last.terminating):
        samples.append(sample)  # only changes: a long rollout stays a short list


def _victims(processes: list[ManagedProcess], count: int,
             controller: ReplicaController) -> list[ManagedProcess]:
    """Which old replicas go: not-ready first, then the newest (the ReplicaSet's ranking)."""
    ranked = sorted(enumerate(processes), key=lambda item: (controller.is_ready(item[1].name),
                                                            -item[0]))
    return [process for _, process in ranked[:count]]


def version_settings(fault: Rollout) -> dict[str, str]:
    """The new revision's settings: the fault's, and for `bad` the app's unready switch."""
    return {**fault.app_settings, **(UNREADY_SETTING if fault.bad else {})}
