"""Faults a scenario schedules during its load, and what the SLO spec lets one fault cost.

A scenario's `faults:` is a list of entries, each with `at` (time into the load) and `kind`:

- `kill-replica`: signal `count` replicas (SIGKILL by default); the backend's controller
  replaces them as a Deployment's would. `respect_pdb` (default) evicts one at a time, as the
  PodDisruptionBudget allows (a drain); false kills them all at once (a node crash).
- `restart-postgres`: stop PostgreSQL (`fast` or `immediate` shutdown), keep it down for
  `down_for`, start it again on the same port and data.
- `stop-redis`: stop Redis for `duration`, then start it again.
- `slow-database`: add `latency` to every round trip between the app and PostgreSQL (a
  latency proxy in front of the server, as toxiproxy does) for `duration`.
- `exhaust-pool`: hold an ACCESS EXCLUSIVE lock on an app table for `duration` (a migration
  gone wrong): every query on it waits, each replica's pool fills up, and requests time out
  acquiring a connection.
- `rollout`: roll a new version through every replica as the bundled Deployment's strategy says
  (maxSurge, maxUnavailable, minReadySeconds, readiness gating, the preStop sleep and
  terminationGracePeriodSeconds): `app_settings` are the new version's settings (ConfigMap
  keys), `bad: true` makes a version that never turns ready, which stops at the progress
  deadline (`progress_deadline`, default the Deployment's) while the old replicas serve on.
  `failed_requests` is how many failed requests the rollout may cost (0). `image` (`--stack k8s`
  only: the harness's own replicas run this checkout) is the new version's image, as the seed's
  pipeline's `kubectl set image`.

Parsed by harness.config.load like the rest of the scenario; every error names file and field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from harness.config.appsettings import check_setting_keys
from harness.config.durations import parse_duration

__all__ = [
    "FAULT_KINDS",
    "ExhaustPool",
    "Fault",
    "FaultKind",
    "FaultObjective",
    "FaultObjectives",
    "KillReplica",
    "RestartPostgres",
    "Rollout",
    "SlowDatabase",
    "StopRedis",
    "fault_end",
]

_Duration = Annotated[float, BeforeValidator(parse_duration)]

FaultKind = Literal[
    "kill-replica", "restart-postgres", "stop-redis", "slow-database", "exhaust-pool", "rollout"
]
FAULT_KINDS: tuple[str, ...] = ("kill-replica", "restart-postgres", "stop-redis", "slow-database",
                                "exhaust-pool", "rollout")
# Every fault kind but kill-replica acts on a server the harness runs (`--stack local`).
NEEDS_POSTGRES = frozenset({"restart-postgres", "slow-database", "exhaust-pool"})
NEEDS_REDIS = frozenset({"stop-redis"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Fault(_Frozen):
    at: _Duration = Field(ge=0, le=7 * 86400)
    # A name for the report and the check ids (faults.<name>.*); default: <kind>-<n>.
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")

    @property
    def active_for(self) -> float:
        """How long the fault itself lasts (0: it is one act, such as a kill)."""
        return 0.0


class KillReplica(_Fault):
    kind: Literal["kill-replica"]
    count: int = Field(default=1, ge=1, le=64)
    signal: Literal["SIGKILL", "SIGTERM"] = "SIGKILL"
    respect_pdb: bool = True


class RestartPostgres(_Fault):
    kind: Literal["restart-postgres"]
    mode: Literal["fast", "immediate"] = "fast"
    down_for: _Duration = Field(default=0.0, ge=0, le=3600)

    @property
    def active_for(self) -> float:
        return self.down_for


class _TimedFault(_Fault):
    """A fault that holds for `duration`, then is lifted."""

    duration: _Duration = Field(gt=0, le=3600)

    @property
    def active_for(self) -> float:
        return self.duration


class StopRedis(_TimedFault):
    kind: Literal["stop-redis"]


class SlowDatabase(_TimedFault):
    kind: Literal["slow-database"]
    latency: _Duration = Field(gt=0, le=10)  # added to every round trip, e.g. 200ms


class ExhaustPool(_TimedFault):
    kind: Literal["exhaust-pool"]
    table: Literal["tickets", "comments", "users"] = "tickets"


class Rollout(_Fault):
    """A deploy: every replica replaced by one of a new version (harness.faults.rollout)."""

    kind: Literal["rollout"]
    app_settings: dict[str, str] = Field(default_factory=dict, max_length=100)
    bad: bool = False
    progress_deadline: _Duration | None = Field(default=None, gt=0, le=3600)
    failed_requests: int = Field(default=0, ge=0, le=1_000_000)
    image: str | None = Field(default=None, min_length=1, max_length=300, pattern=r"^\S+$")

    @field_validator("app_settings")
    @classmethod
    def _settings_are_keys(cls, settings: dict[str, str]) -> dict[str, str]:
        return check_setting_keys(settings)


Fault = Annotated[
    KillReplica | RestartPostgres | StopRedis | SlowDatabase | ExhaustPool | Rollout,
    Field(discriminator="kind"),
]


AnyFault = KillReplica | RestartPostgres | StopRedis | SlowDatabase | ExhaustPool | Rollout


def fault_end(fault: AnyFault) -> float:
    """When the scheduled fault is lifted, in seconds since the load started."""
    return fault.at + fault.active_for


class FaultObjective(_Frozen):
    """Overrides for one fault kind."""

    budget_percent: float | None = Field(default=None, gt=0, le=100)
    recovery: _Duration | None = Field(default=None, gt=0, le=86400)


class FaultObjectives(_Frozen):
    """What one injected fault may cost (harness.verify.faults). Optional in the SLO spec.

    Attributes:
        budget_percent: failed requests allowed over a fault's window, in percent; unset, the
            spec's own error budget (100 - availability_percent).
        window: a fault is judged from its start to this long after it was lifted.
        recovery: errors back to the baseline and p95 back under the SLO within this long
            after the fault was lifted.
        hold: "back" means for this long in a row (so one good interval is not a recovery).
        kinds: per-kind overrides of budget_percent and recovery.
    """

    budget_percent: float | None = Field(default=None, gt=0, le=100)
    window: _Duration = Field(default=30.0, gt=0, le=3600)
    recovery: _Duration = Field(default=60.0, gt=0, le=86400)
    hold: _Duration = Field(default=10.0, gt=0, le=600)
    kinds: dict[FaultKind, FaultObjective] = Field(default_factory=dict)

    def budget_for(self, kind: str, availability_percent: float) -> float:
        own = self.kinds.get(kind)  # type: ignore[call-overload]
        if own is not None and own.budget_percent is not None:
            return own.budget_percent
        if self.budget_percent is not None:
            return self.budget_percent
        return round(100.0 - availability_percent, 6)

    def recovery_for(self, kind: str) -> float:
        own = self.kinds.get(kind)  # type: ignore[call-overload]
        if own is not None and own.recovery is not None:
            return own.recovery
        return self.recovery
