"""Rates in the HPA's units: the requests/s at which replicas run at X times the CPU target.

A replica's CPU is a line in its request rate: what it burns with less load (timers, probes,
scrapes) plus CPU-seconds per request at the margin. So

    rate = replicas x (X x target x request_cpu - idle_cores) / cpu_per_request

e.g. 2 replicas x (1.4 x 70 % x 0.5 core - 0.02) / 0.0012 CPU-s = 783 requests/s. `replicas` is
the count the stage starts with: for the first stage the replicas the calibration measured; for a
later one the count the HPA formula leaves after the stage before it (ceil(replicas x utilization
ratio) beyond the tolerance, clamped to [min, max]; a scale-down only when that stage outlasts
the scale-down stabilization window). The prediction is recorded beside the count the run saw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.config.model import Stage
from harness.stack.autoscaler import DEFAULT_TOLERANCE

__all__ = ["CpuTarget", "StageRate", "rate_for", "ratio_at", "stage_rates"]


@dataclass(frozen=True)
class CpuTarget:
    """What the HPA calls utilization: CPU against the Deployment's request, and its target."""

    target_percent: int  # the HPA's averageUtilization for cpu, e.g. 70
    request_cores: float  # the container's CPU request, e.g. 0.5
    min_replicas: int
    max_replicas: int
    tolerance_up: float = DEFAULT_TOLERANCE
    tolerance_down: float = DEFAULT_TOLERANCE
    scale_down_window: float = 300.0

    @property
    def target_cores(self) -> float:
        """One replica's CPU at the target, in cores (0.35 for 70 % of 500m)."""
        return self.target_percent / 100.0 * self.request_cores


@dataclass(frozen=True)
class StageRate:
    """One stage's load as planned: X, the replicas it was sized for, and the rate chosen."""

    index: int
    name: str
    utilization_of_target: float | None  # None: the stage gives users or rate itself
    replicas: int  # the count the stage is expected to start with
    rate: float | None  # requests/s (sized here, or the stage's own rate); None: closed model
    expected_ratio: float | None = None  # utilization / target this load gives those replicas


def rate_for(multiple: float, replicas: int, cpu_per_request: float, target: CpuTarget,
             idle_cores: float = 0.0) -> float:
    """Requests/s at which `replicas` run at `multiple` x the target; 0 where their idle burn
    alone is there already."""
    if cpu_per_request <= 0:
        raise ValueError("cpu_per_request must be > 0")
    return replicas * max(multiple * target.target_cores - idle_cores, 0.0) / cpu_per_request


def ratio_at(rate: float, replicas: int, cpu_per_request: float, target: CpuTarget,
             idle_cores: float = 0.0) -> float:
    """Utilization / target that `rate` gives `replicas` (the inverse of rate_for)."""
    return (idle_cores + rate * cpu_per_request / replicas) / target.target_cores


def _next_replicas(replicas: int, ratio: float | None, duration: float,
                   target: CpuTarget) -> int:
    """The count the HPA formula leaves after a stage held `ratio` for `duration` seconds."""
    if ratio is None:
        return replicas  # a closed-model stage: its utilization is not known beforehand
    wanted = math.ceil(round(replicas * ratio, 9))
    if ratio > 1.0 + target.tolerance_up:
        return min(max(wanted, replicas), target.max_replicas)
    if ratio < 1.0 - target.tolerance_down and duration > target.scale_down_window:
        return max(min(wanted, replicas), target.min_replicas)
    return replicas


def stage_rates(stages: Sequence[Stage], *, replicas: int, cpu_per_request: float,
                target: CpuTarget, idle_cores: float = 0.0) -> tuple[StageRate, ...]:
    """Every stage's rate and the replicas it was sized for, from the first stage's count."""
    result = []
    current = replicas
    for index, stage in enumerate(stages):
        name = stage.name or f"stage {index + 1}"
        multiple = stage.utilization_of_target
        rate = stage.rate
        if multiple is not None:
            rate = rate_for(multiple, current, cpu_per_request, target, idle_cores)
        ratio = (ratio_at(rate, current, cpu_per_request, target, idle_cores)
                 if rate is not None else None)
        result.append(StageRate(index, name, multiple, current,
                                round(rate, 3) if rate is not None else None,
                                round(ratio, 4) if ratio is not None else None))
        current = _next_replicas(current, ratio, stage.duration, target)
    return tuple(result)
