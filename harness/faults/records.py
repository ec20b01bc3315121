"""What the injector did for one scheduled fault: when, to what, and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["FaultEvent", "Outcome"]


class Outcome(StrEnum):
    INJECTED = "injected"  # the fault happened and was lifted
    SKIPPED = "skipped"  # it could not happen now (the PDB allowed no eviction, the run ended)
    FAILED = "failed"  # the injector itself failed (see detail)


@dataclass(frozen=True)
class FaultEvent:
    """One fault as it happened. Times are epoch seconds (None: did not happen).

    `injected_at` is when the fault took effect, `cleared_at` when the injector lifted it (the
    same instant for a kill); recovery is measured from `cleared_at`. `facts` holds what the
    fault's checks need: the replicas killed, the seconds a server was down, and so on.
    """

    name: str
    kind: str
    scheduled: float  # seconds since the load started
    outcome: Outcome
    injected_at: float | None = None
    cleared_at: float | None = None
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def happened(self) -> bool:
        return self.outcome is Outcome.INJECTED and self.injected_at is not None
