"""The Deployment controller's rolling update as a pure step: given how many replicas of the new
and the old version run and how many are available, how many of each should there be now.

A port of Kubernetes' pkg/controller/deployment (rolling.go and util/deployment_util.go):
- `resolve_fenceposts` is ResolveFenceposts: maxSurge of the desired count rounded up,
  maxUnavailable rounded down, and 1 unavailable when both come to 0 (a rollout must move);
- the new ReplicaSet grows first (reconcileNewReplicaSet, NewRSNewReplicas): up to
  replicas + maxSurge replicas in all, never more new ones than `replicas`;
- when it did not grow, the old ones shrink (reconcileOldReplicaSets): old replicas that are not
  available go first (cleanupUnhealthyReplicas), then available ones as long as
  replicas - maxUnavailable stay available (scaleDownOldReplicaSetsForRollingUpdate), where
  the new set's unavailable replicas count against the room (newRSUnavailablePodCount);
- a replica is available once it has been ready for minReadySeconds;
- progress (a new replica, one more available, an old one gone) restarts the progress deadline;
  a rollout without progress for progressDeadlineSeconds has failed (ProgressDeadlineExceeded:
  Kubernetes only reports it; the deploy pipeline that waits on `kubectl rollout status` fails).

Counts only: which replica goes (not-ready first, then the newest, as the ReplicaSet ranks its
pods) and the clock are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.config.k8s import scaled_value

__all__ = ["DeploymentState", "ReplicaSetCount", "RevisionCount", "RolloutPlan", "Step",
           "next_step", "resolve_fenceposts"]


def resolve_fenceposts(max_surge: int | str, max_unavailable: int | str,
                       replicas: int) -> tuple[int, int]:
    """(surge, unavailable) in replicas for `replicas` desired."""
    surge = scaled_value(max_surge, replicas, round_up=True)
    unavailable = scaled_value(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


@dataclass(frozen=True)
class RolloutPlan:
    """The numbers one rollout follows (seconds on the caller's clock)."""

    replicas: int
    max_surge: int
    max_unavailable: int
    min_ready_seconds: float
    progress_deadline: float
    termination_grace: float
    pre_stop: float

    @property
    def min_available(self) -> int:
        return max(self.replicas - self.max_unavailable, 0)

    @property
    def max_total(self) -> int:
        return self.replicas + self.max_surge


@dataclass(frozen=True)
class RevisionCount:
    """One version's replicas: `replicas` that run (not terminating), `available` of them."""

    replicas: int
    available: int


@dataclass(frozen=True)
class Step:
    """What the controller wants now: `new` replicas of the new version, `old` of the old."""

    new: int
    old: int

    @property
    def done(self) -> bool:
        return self.old == 0


def next_step(plan: RolloutPlan, new: RevisionCount, old: RevisionCount) -> Step:
    """One sync of the rolling update: grow the new version, or else shrink the old one."""
    total = new.replicas + old.replicas
    if total < plan.max_total and new.replicas < plan.replicas:
        grow = min(plan.max_total - total, plan.replicas - new.replicas)
        return Step(new.replicas + grow, old.replicas)
    if old.replicas == 0:
        return Step(new.replicas, 0)
    room = total - plan.min_available - (new.replicas - new.available)
    if room <= 0:
        return Step(new.replicas, old.replicas)
    unhealthy = min(room, old.replicas - old.available)
    remaining = old.replicas - unhealthy
    available = new.available + old.available
    healthy = min(max(available - plan.min_available, 0), remaining)
    return Step(new.replicas, remaining - healthy)


@dataclass(frozen=True)
class ReplicaSetCount:
    """One ReplicaSet's status as the API serves it: `replicas` not terminating, `ready` and
    `available` (ready for minReadySeconds) of them; `revision` its
    deployment.kubernetes.io/revision annotation."""

    name: str
    revision: int
    replicas: int
    ready: int
    available: int


@dataclass(frozen=True)
class DeploymentState:
    """A Deployment on a cluster at one read: its generation (and the one its controller has
    acted on), its current revision, its desired replicas, its ReplicaSets, pods being deleted,
    and whether its Progressing condition says ProgressDeadlineExceeded."""

    generation: int
    observed_generation: int
    revision: int
    replicas: int  # spec.replicas now (an HPA may change it mid-rollout)
    replica_sets: tuple[ReplicaSetCount, ...]
    terminating: int
    deadline_exceeded: bool
    pods: tuple[tuple[str, str], ...] = ()  # (pod, its ReplicaSet) for pods not terminating

    @property
    def observed(self) -> bool:
        """The controller has seen the latest spec (what `kubectl rollout status` waits for)."""
        return self.observed_generation >= self.generation

    def current(self) -> ReplicaSetCount | None:
        """The ReplicaSet of the Deployment's current revision (the new one in a rollout)."""
        return next((rs for rs in self.replica_sets if rs.revision == self.revision), None)
