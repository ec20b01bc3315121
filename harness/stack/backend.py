"""The one interface every stack backend offers: up, ready, endpoints, down, and the handles
of what else it can do (harness.stack.capabilities)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from harness.stack.capabilities import Capabilities

__all__ = ["Endpoints", "Leftovers", "Replica", "StackBackend"]


@dataclass(frozen=True)
class Replica:
    """One app replica as the harness can reach it directly (for scrapes and probes).

    ``ready``: its readiness probe passes (a replica still starting is not ready).
    ``started_at`` / ``ready_changed_at``: when it started and when ``ready`` last changed, in
    ``time.monotonic()`` seconds (None where the backend does not know).
    """

    name: str
    url: str
    pid: int | None = None
    ready: bool = True
    started_at: float | None = None
    ready_changed_at: float | None = None


@dataclass(frozen=True)
class Endpoints:
    """What a backend hands back once the stack is up. Carries no secrets."""

    backend: str
    service_url: str  # where load goes: a Service, an ingress, or a shared port
    replicas: tuple[Replica, ...]
    prometheus_url: str | None = None
    database: str | None = None  # a description such as "sqlite (embedded)", never a password
    cache: str | None = None
    tokens_file: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Each Replica's URL reaches that one replica, so its /api/metrics (process CPU included) is
    # that replica's own; False where the harness sees the app only through one shared URL.
    replica_metrics: bool = True

    def describe(self) -> dict[str, str]:
        """Names to URLs for reports and `harness up`."""
        shown = {"service": self.service_url}
        for replica in self.replicas:
            shown[replica.name] = replica.url
        if self.prometheus_url:
            shown["prometheus"] = self.prometheus_url
        if self.database:
            shown["database"] = self.database
        if self.cache:
            shown["cache"] = self.cache
        shown.update(self.extra)
        return shown


@dataclass(frozen=True)
class Leftovers:
    """What `down` could not remove, by kind ("container", "network", "volume"), as the
    container engine names them, so a person can remove them by hand. Empty: nothing is left."""

    by_kind: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.by_kind.values())

    def describe(self) -> str:
        """'container 21eadc7ebaee, 5b919b779c0b; volume servicedesk-redis-bf5c'."""
        return "; ".join(f"{kind} {', '.join(names)}" for kind, names in self.by_kind.items()
                         if names)


@runtime_checkable
class StackBackend(Protocol):
    name: str

    def up(self) -> Endpoints:
        """Start (or attach to) the stack and wait until it is ready; raise StackError if not."""

    def ready(self) -> bool:
        """Whether every replica answers its readiness probe now."""

    def endpoints(self) -> Endpoints:
        """The endpoints now (replicas may come and go while the autoscaler works)."""

    def down(self) -> Leftovers:
        """Stop everything `up` started and say what could not be removed. Safe to call twice,
        and after a failed `up`."""

    def capabilities(self) -> Capabilities:
        """The handles this backend hands out (harness.stack.capabilities); servers it starts
        appear once `up` has started them."""
