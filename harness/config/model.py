"""Typed, frozen configuration records: the scenario, the SLO spec and the run's options.

Files are parsed into these by harness.config.load; nothing downstream reads YAML.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.config.appsettings import check_setting_keys
from harness.config.durations import parse_duration
from harness.config.faults import Fault, FaultObjectives, fault_end
from harness.config.tags import check_tag

__all__ = [
    "AutoscalingSpec",
    "Duration",
    "Fault",
    "FaultObjectives",
    "GroupObjective",
    "LatencyObjective",
    "RunOptions",
    "Scenario",
    "SeedSpec",
    "SloOverrides",
    "SloSpec",
    "StackName",
    "Stage",
    "WindowSpec",
]

Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stage(_Frozen):
    """One stage of a scenario, for `duration`: either closed model, ramp to `users` at
    `spawn_rate` per second; or open model, `rate` requests/s sent on a fixed schedule whatever
    the responses do (the harness picks the concurrency; latency is also measured from each
    request's intended send time); or open model in the HPA's units, `utilization_of_target`:
    the rate at which the replicas the stage starts with would run at that multiple of the HPA's
    CPU target (harness.calibrate measures the CPU per request first). A stage sets exactly one
    of `users`, `rate` and `utilization_of_target`."""

    name: str | None = None
    duration: Duration = Field(gt=0)
    users: int = Field(default=0, ge=0, le=100_000)
    rate: float | None = Field(default=None, gt=0, le=100_000)
    utilization_of_target: float | None = Field(default=None, gt=0, le=20)
    spawn_rate: float = Field(default=10.0, gt=0, le=10_000)
    # Steady-state stages are where the SLO is judged as a whole (ramps are judged by the
    # sliding windows only). With none marked, every stage after the first counts.
    steady: bool = False

    @model_validator(mode="after")
    def _one_load(self) -> Stage:
        given = {name for name in _LOADS if name in self.model_fields_set
                 and (name == "users" or getattr(self, name) is not None)}
        if len(given) > 1:
            raise ValueError(f"set one of {_LOAD_NAMES}, not {' and '.join(sorted(given))}")
        if not given:
            raise ValueError(f"needs one of {_LOAD_NAMES}")
        return self

    @property
    def calibrated(self) -> bool:
        """Its rate comes from the calibration (utilization_of_target)."""
        return self.utilization_of_target is not None


_LOADS = ("users", "rate", "utilization_of_target")
_LOAD_NAMES = ("users (closed model), rate (requests/s, open model) or utilization_of_target "
               "(a multiple of the HPA CPU target, open model)")


class LatencyObjective(_Frozen):
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)


class GroupObjective(_Frozen):
    """Latency objectives for a group of request names, e.g. reads or writes."""

    description: str = ""
    requests: tuple[str, ...] = Field(min_length=1)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)


class WindowSpec(_Frozen):
    """Sliding windows: a late collapse cannot hide in a whole-run average."""

    size: Duration = Field(default=30.0, gt=0)
    step: Duration = Field(default=10.0, gt=0)
    min_requests: int = Field(default=50, ge=1)


class SloSpec(_Frozen):
    """The one SLO file (loadtests/slo.yaml) from which checks, rules, panels, monitors come."""

    version: Literal[1] = 1
    service: str = "servicedesk"
    latency: LatencyObjective = LatencyObjective(p95_ms=250, p99_ms=500)
    availability_percent: float = Field(default=99.5, gt=0, lt=100)
    compliance_period: Duration = Field(default=30 * 86400.0, gt=0)
    min_rps: float | None = Field(default=None, ge=0)
    groups: dict[str, GroupObjective] = Field(default_factory=dict)
    windows: WindowSpec = WindowSpec()
    # Optional: what one injected fault may cost (scenario `faults:`); unset, the defaults of
    # FaultObjectives (the error budget above, a 60 s recovery).
    faults: FaultObjectives | None = None
    # Where the runbooks are (each alert and monitor links to its section): a path or a URL.
    runbooks: str = Field(default="docs/runbooks.md", min_length=1)

    @property
    def fault_objectives(self) -> FaultObjectives:
        return self.faults if self.faults is not None else FaultObjectives()

    @property
    def max_error_percent(self) -> float:
        """The error budget as a per-run limit: 100 - availability target."""
        return round(100.0 - self.availability_percent, 6)


class SloOverrides(_Frozen):
    """What a scenario may change in the SLO spec for its own run."""

    latency: LatencyObjective | None = None
    availability_percent: float | None = Field(default=None, gt=0, lt=100)
    min_rps: float | None = Field(default=None, ge=0)
    groups: dict[str, GroupObjective] | None = None
    windows: WindowSpec | None = None
    faults: FaultObjectives | None = None

    def apply(self, spec: SloSpec) -> SloSpec:
        changes: dict[str, object] = {}
        if self.latency is not None:
            merged = spec.latency.model_copy(
                update={k: v for k, v in self.latency.model_dump().items() if v is not None}
            )
            changes["latency"] = merged
        if self.groups is not None:
            changes["groups"] = {**spec.groups, **self.groups}
        for name in ("availability_percent", "min_rps", "windows", "faults"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        return spec.model_copy(update=changes)


class SeedSpec(_Frozen):
    """How much realistic data the stack is seeded with before load."""

    tickets: int = Field(default=5000, ge=0, le=1_000_000)
    agents: int = Field(default=25, ge=1, le=10_000)
    customers: int = Field(default=300, ge=1, le=100_000)


class AutoscalingSpec(_Frozen):
    """The local autoscaler (embedded and local backends). The HPA's numbers come from the
    bundled manifest; a scenario may only shorten the clock, as tests do."""

    enabled: bool = True
    # Kubernetes' --horizontal-pod-autoscaler-sync-period
    sync_period: Duration = Field(default=15.0, gt=0)
    scale_down_window: Duration | None = Field(default=None, ge=0)  # None: the manifest's
    # The controller emulated: 1.33 changed the tolerance test (<= 1.32 scales at exactly 77 %
    # of a 70 % target). autoscaling/v2, which the bundled HPA uses, needs 1.23 or newer.
    kubernetes_version: str = Field(default="1.33", pattern=r"^1\.\d+$")

    @field_validator("kubernetes_version")
    @classmethod
    def _served_autoscaling_v2(cls, version: str) -> str:
        if int(version.split(".")[1]) < 23:
            raise ValueError(f"{version} does not serve autoscaling/v2 (1.23 or newer)")
        return version

    @property
    def kubernetes_release(self) -> tuple[int, int]:
        major, minor = self.kubernetes_version.split(".")
        return int(major), int(minor)


class Scenario(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str
    locustfile: Path | None = None  # resolved against the scenario file's folder
    stages: tuple[Stage, ...] = Field(min_length=1)
    slo: SloOverrides = SloOverrides()
    # Extra settings for the app's replicas (same keys as the ConfigMap), e.g. a seeded defect.
    app_settings: dict[str, str] = Field(default_factory=dict)
    seed: SeedSpec = SeedSpec()
    # Replicas the stack starts with (embedded, local): e.g. the HPA's minReplicas, as in a
    # quiet hour. --replicas beats it; unset, the Deployment's.
    replicas: int | None = Field(default=None, ge=1, le=64)
    autoscaling: AutoscalingSpec = AutoscalingSpec()
    # Faults injected while the load runs (harness.config.faults, harness.faults).
    faults: tuple[Fault, ...] = Field(default=(), max_length=100)
    # Labels carried by the run everywhere (harness.config.tags); --tag beats them key by key.
    tags: dict[str, str] = Field(default_factory=dict, max_length=50)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("tags")
    @classmethod
    def _tags_are_labels(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            check_tag(key, value)
        return tags

    @model_validator(mode="after")
    def _settings_are_keys(self) -> Scenario:
        check_setting_keys(self.app_settings)
        return self

    @field_validator("faults")
    @classmethod
    def _faults_fit(cls, faults: tuple[Fault, ...], info: ValidationInfo) -> tuple[Fault, ...]:
        stages = info.data.get("stages") or ()
        duration = sum(stage.duration for stage in stages)
        names: set[str] = set()
        last_end: dict[str, float] = {}
        for index, fault in sorted(enumerate(faults), key=lambda item: item[1].at):
            where = f"entry {index} ({fault.kind})"
            if stages and fault.at >= duration:
                raise ValueError(f"{where}: at {fault.at:g}s is not before the load ends "
                                 f"({duration:g}s)")
            if fault.name is not None:
                if fault.name in names:
                    raise ValueError(f"{where}: the name {fault.name!r} is used twice")
                names.add(fault.name)
            if fault.at < last_end.get(fault.kind, -1.0):
                raise ValueError(f"{where}: overlaps the {fault.kind} fault before it")
            last_end[fault.kind] = fault_end(fault)
        return faults

    @property
    def duration(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def calibrated(self) -> bool:
        """Some stage's rate is sized by the calibration (utilization_of_target)."""
        return any(stage.calibrated for stage in self.stages)

    def steady_stage_indexes(self) -> tuple[int, ...]:
        marked = tuple(i for i, s in enumerate(self.stages) if s.steady)
        if marked:
            return marked
        return tuple(range(1, len(self.stages))) or (0,)

    def scaled_to(self, total_seconds: float) -> Scenario:
        """The same shape squeezed (or stretched) to `total_seconds`, for quick runs."""
        factor = total_seconds / self.duration
        stages = tuple(
            stage.model_copy(update={"duration": max(stage.duration * factor, 1.0)})
            for stage in self.stages
        )
        faults = tuple(
            fault.model_copy(update={
                key: getattr(fault, key) * factor
                for key in ("at", "duration", "down_for", "progress_deadline")
                if key in type(fault).model_fields and getattr(fault, key) is not None
            })
            for fault in self.faults
        )
        return self.model_copy(update={"stages": stages, "faults": faults})


class StackName(StrEnum):
    """The backends, one list: the CLI's choices, RunOptions.stack, the messages naming them."""

    embedded = "embedded"
    local = "local"
    compose = "compose"
    k8s = "k8s"
    external = "external"

    @property
    def runs_replicas(self) -> bool:
        """The harness runs the app's replicas itself, with its own replica controller, PDB and
        autoscaler (what a fault other than a cluster's rollout needs)."""
        return self in (StackName.embedded, StackName.local)


class RunOptions(_Frozen):
    """The run's options after CLI > HARNESS_* env > file > default precedence is resolved."""

    stack: StackName = StackName.embedded
    target: str | None = None
    database_url: str | None = None  # local: an existing PostgreSQL instead of starting one
    redis_url: str | None = None  # local: an existing Redis instead of starting one
    # local: PostgreSQL and Redis from this machine's binaries, or as containers (testcontainers)
    services: Literal["binaries", "containers"] = "binaries"
    profiles: tuple[str, ...] = ()  # compose: profiles whose services start too
    context: str | None = None  # k8s: the kubeconfig context
    overlay: str = "development"  # k8s: the kustomize overlay applied (stack/k8s/overlays/<name>)
    prometheus_url: str | None = None  # k8s, external: the cluster's Prometheus
    replicas: int | None = Field(default=None, ge=1, le=64)
    duration: Duration | None = Field(default=None, gt=0)
    report_dir: Path
    run_id: str
    workers: int = Field(default=0, ge=0, le=64)
    generator_realtime: bool = False  # the load processes ask for SCHED_FIFO where it fits
    scrape_interval: Duration = Field(default=2.0, gt=0)
    debug: bool = False
    tags: dict[str, str] = Field(default_factory=dict)  # the scenario's, then --tag's
    remote_write: str | None = None  # a Prometheus remote-write URL the run streams to
