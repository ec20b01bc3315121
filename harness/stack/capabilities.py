"""What a stack backend can do beyond up/ready/endpoints/down, as small typed handles.

Backends differ: the embedded and local ones run the replica processes (scale, kill, the replica
controller), the local one also runs PostgreSQL and Redis from this machine's binaries (stop,
start, restart), the container services know their database's connections, k8s hands out its
Deployment (rolled by kubectl, the cluster's controller runs the pods), compose hands out its app
service's containers (a rollout starts and stops them one at a time: Compose has no rolling
update), external runs nothing the harness may touch. Each backend answers `capabilities()` with
the handles it has, None for the rest; faults, drills, collectors and checks ask for a handle and
never reach into a backend's private state or compare stack names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.stack.backend import Replica

if TYPE_CHECKING:
    from harness.stack.controller import ReplicaController
    from harness.stack.processes import ManagedProcess
    from harness.stack.rollout import DeploymentState, RolloutPlan
    from harness.stack.services.postgres import ConnectionCounts

__all__ = [
    "AppContainer",
    "Capabilities",
    "ClusterDeployment",
    "ComposeApp",
    "DatabaseConnections",
    "ManagedPostgres",
    "ManagedRedis",
    "ReplicaSet",
]


class ReplicaSet(Protocol):
    """The app's replica processes, run by the harness like a Deployment's ReplicaSet."""

    @property
    def controller(self) -> ReplicaController | None:
        """Replaces replicas that die, gated by probes (None before `up`)."""

    @property
    def startup_attempts(self) -> int:
        """The startup probe's attempts, one second apart."""

    def processes(self) -> list[ManagedProcess]:
        """The replica processes that run now (a copy)."""

    def probe_url(self, process: ManagedProcess) -> str:
        """The replica's own base URL (probes and scrapes), not the shared service port."""

    def current_replicas(self) -> Sequence[Replica]:
        """Every replica that runs, starting or ready, with its readiness."""

    def desired_replicas(self) -> int:
        """The count last written (a Deployment's spec.replicas)."""

    def scale(self, replicas: int) -> None:
        """Write the desired count; must not wait for new replicas to start."""

    def route_database(self, route: Callable[[str], str]) -> None:
        """Send replicas started from now on to the database through `route(url)`."""

    # A Deployment's pod template and the end of one pod (what a rollout needs).

    @property
    def revision(self) -> int:
        """The revision (settings) replicas are started from now; the first is 1."""

    def revision_of(self, process: ManagedProcess) -> int:
        """The revision this replica was started from."""

    def revise(self, settings: Mapping[str, str]) -> int:
        """A new revision with `settings` on top of the stack's; replicas the controller starts
        from now on run it. Returns its number."""

    def restore(self, revision: int) -> None:
        """Start replicas from an earlier revision again (a rollback)."""

    def retire(self, process: ManagedProcess, *, pre_stop: float, grace: float,
               reason: str) -> None:
        """End one replica as the kubelet ends a deleted pod, in the background: out of the set
        and the service's endpoints at once, then preStop, SIGTERM, SIGKILL after `grace`."""

    def terminating(self) -> int:
        """Replicas retired and not ended yet."""


class ClusterDeployment(Protocol):
    """The app's Deployment on a cluster: its own controller rolls it (kubectl changes the pod
    template), the harness only reads its status through the API."""

    def rollout_plan(self) -> RolloutPlan:
        """The live Deployment's replicas, strategy, minReadySeconds, progressDeadlineSeconds,
        terminationGracePeriodSeconds and the app container's preStop sleep."""

    def change(self, settings: Mapping[str, str], image: str | None) -> None:
        """A new pod template, one rollout: `kubectl set env` on the app container (and `kubectl
        set image` when `image` is given)."""

    def state(self) -> DeploymentState:
        """The Deployment, its ReplicaSets and terminating pods as the API serves them now."""

    def undo(self) -> None:
        """`kubectl rollout undo`: the previous pod template again."""


@dataclass(frozen=True)
class AppContainer:
    """One running container of the compose app service: the revision (settings) it was started
    from, whether its compose healthcheck passes now, and whether nginx can send to it
    (`admitted`: on nginx's network under the service's name)."""

    id: str
    name: str
    revision: int
    healthy: bool
    admitted: bool = True


class ComposeApp(Protocol):
    """The app service of a compose project. Compose has no rolling update: a rollout starts one
    more container at a time from new settings and stops old ones (`docker stop -t`)."""

    @property
    def revision(self) -> int:
        """The revision (settings) new containers start from; the stack's own is 1."""

    def revise(self, settings: Mapping[str, str]) -> int:
        """A new revision with `settings` on top of the stack's; returns its number."""

    def restore(self, revision: int) -> None:
        """Start containers from an earlier revision again (a rollback)."""

    def containers(self) -> list[AppContainer]:
        """The app containers that run and are not being stopped, oldest first."""

    def start(self) -> str:
        """One more app container of the current revision, started now (not waited for) and
        not admitted: nginx does not send to it; returns its id."""

    def admit(self, container_id: str) -> None:
        """Let nginx send to a started container (the rollout calls it once it is healthy)."""

    def stop(self, container_id: str, *, grace: float) -> None:
        """Stop one container in the background: SIGTERM, SIGKILL after `grace`, then remove
        it."""

    def terminating(self) -> int:
        """Containers being stopped and not removed yet."""


class DatabaseConnections(Protocol):
    """A PostgreSQL whose connections the harness can count (pg_stat_activity)."""

    @property
    def max_connections(self) -> int: ...

    @property
    def reserved_connections(self) -> int: ...

    def connection_counts(self) -> ConnectionCounts: ...


class ManagedPostgres(DatabaseConnections, Protocol):
    """A PostgreSQL server the harness started from this machine's binaries."""

    @property
    def running(self) -> bool: ...

    def shutdown(self, mode: str = "fast", timeout: float = 60.0) -> None: ...

    def resume(self, attempts: int = 120) -> None: ...

    def kill(self) -> None: ...

    def admin_conninfo(self, dbname: str = "postgres") -> str: ...


class ManagedRedis(Protocol):
    """A Redis server the harness started from this machine's binaries."""

    def start(self) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Capabilities:
    """The handles one backend hands out; None where it has not got one."""

    replicas: ReplicaSet | None = None
    deployment: ClusterDeployment | None = None
    containers: ComposeApp | None = None
    database: DatabaseConnections | None = None
    postgres: ManagedPostgres | None = None
    redis: ManagedRedis | None = None
