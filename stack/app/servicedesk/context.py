"""What every handler may use: the app's dependencies, built once per app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .auth import Authenticator
from .cache.base import Cache
from .dogstatsd import BusinessMetrics, NoBusinessMetrics
from .metrics import Metrics
from .settings import Settings
from .sla import SlaPolicy
from .store.base import TicketStore

__all__ = ["AppContext", "AppState"]


@dataclass(slots=True)
class AppState:
    """Lifecycle flags read by the health probes."""

    started: bool = False
    # SIGTERM received: readiness fails, requests are still served (the drain).
    draining: bool = False
    stopping: bool = False


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    store: TicketStore
    cache: Cache
    metrics: Metrics
    sla: SlaPolicy
    auth: Authenticator
    now: Callable[[], datetime]
    state: AppState = field(default_factory=AppState)
    # Business metrics through DogStatsD as well, when DD_AGENT_HOST is set.
    business: BusinessMetrics = field(default_factory=NoBusinessMetrics)
