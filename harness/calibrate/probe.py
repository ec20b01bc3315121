"""The calibration: a short open-model probe on the stack under test, before the scenario's load,
measures replica CPU-seconds per request; every `utilization_of_target` stage gets its rate.

Probes of the scenario's own request mix (CPU per request depends on it, and falls as the rate
rises): a short one at a low rate sizes the next, meant to run at PROBE_LEVEL of the CPU target,
near where the stages will run; while the utilization a probe measured misses that level by more
than LEVEL_SLACK, one more probe is sized from it (at most MAX_PROBES in all). The last gives the
number used. Each probe's first seconds (connections, caches warming) are
left out of its window. The HPA does not run meanwhile: the replicas stay as the stack started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.calibrate.cpu import CpuUse, measure_cpu
from harness.calibrate.rates import CpuTarget, StageRate, rate_for, stage_rates
from harness.collect.scrape import Scrape
from harness.config.model import Stage
from harness.errors import StackError

__all__ = ["Calibration", "ProbeRun", "RunProbe", "calibrate"]

SIZING_RATE_PER_REPLICA = 20.0  # requests/s: light on any replica, enough to count CPU
SIZING_WARMUP, SIZING_SECONDS = 3.0, 6.0
PROBE_LEVEL = 0.8  # of the CPU target: representative, and below where the HPA would act
PROBE_WARMUP, PROBE_SECONDS = 4.0, 12.0
LEVEL_SLACK = 0.15  # relative miss of PROBE_LEVEL that calls for one more probe
MAX_PROBES = 3  # sizing probe included

# run_probe(rate, warmup, seconds) sends `rate` requests/s for warmup + seconds and returns the
# measured part's (start, end) in epoch seconds, and how many requests failed in it.
RunProbe = Callable[[float, float, float], tuple[float, float, int]]


@dataclass(frozen=True)
class ProbeRun:
    """One probe: the rate sent and what the replicas' scrapes saw over its measured part."""

    rate: float  # requests/s sent
    warmup: float  # seconds left out at the start
    seconds: float  # the measured part, as the scrapes covered it
    requests: float  # answered by the replicas (probes and scrapes not counted)
    failures: int  # failed at the load generator in the measured part
    replicas: int
    cpu_seconds: float

    @classmethod
    def of(cls, rate: float, warmup: float, use: CpuUse, failures: int) -> ProbeRun:
        return cls(round(rate, 3), warmup, round(use.seconds, 3), use.requests, failures,
                   use.replicas, round(use.cpu_seconds, 4))


@dataclass(frozen=True)
class Calibration:
    """What results.json keeps under `calibration`."""

    cpu_per_request: float  # CPU-seconds per request, from `probe`
    target: CpuTarget
    probe: ProbeRun
    sizing: ProbeRun  # the short, light probe that chose the first full probe's rate
    stages: tuple[StageRate, ...]
    probes: int = 2  # probes run in all (sizing included)
    probe_level: float = 0.0  # utilization / target the last probe measured

    @property
    def rates(self) -> dict[int, float]:
        """Requests/s by stage index, for the stages sized here."""
        return {s.index: s.rate for s in self.stages
                if s.utilization_of_target is not None and s.rate is not None}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cpu_ms_per_request"] = round(self.cpu_per_request * 1000.0, 4)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            cpu_per_request=float(data["cpu_per_request"]),
            target=CpuTarget(**data["target"]),
            probe=ProbeRun(**data["probe"]),
            sizing=ProbeRun(**data["sizing"]),
            stages=tuple(StageRate(**s) for s in data["stages"]),
            probes=int(data.get("probes", 2)),
            probe_level=float(data.get("probe_level", 0.0)),
        )


def _measured(run_probe: RunProbe, scrapes: Callable[[], Sequence[Scrape]], rate: float,
              warmup: float, seconds: float, replicas: int) -> tuple[ProbeRun, float]:
    start, end, failures = run_probe(rate, warmup, seconds)
    use = measure_cpu(scrapes(), start, end)
    if use.replicas < replicas:
        raise StackError(f"calibration: only {use.replicas} of {replicas} replicas were scraped "
                         f"at least twice during the {seconds:g}s probe")
    if use.requests <= 0:
        raise StackError(f"calibration: the replicas answered no requests during the probe at "
                         f"{rate:g} requests/s")
    return ProbeRun.of(rate, warmup, use, failures), use.cpu_seconds / use.requests


def calibrate(stages: Sequence[Stage], *, replicas: int, target: CpuTarget,
              run_probe: RunProbe, scrapes: Callable[[], Sequence[Scrape]]) -> Calibration:
    """Probe twice, then size every stage; `scrapes()` returns what was scraped so far."""
    sizing, rough = _measured(run_probe, scrapes, SIZING_RATE_PER_REPLICA * replicas,
                              SIZING_WARMUP, SIZING_SECONDS, replicas)
    highest = max((s.utilization_of_target or 0.0 for s in stages), default=0.0)
    level = min(PROBE_LEVEL, highest) if highest > 0 else PROBE_LEVEL
    cpu, probes = rough, 1
    while True:
        probe, cpu = _measured(run_probe, scrapes, rate_for(level, replicas, cpu, target),
                               PROBE_WARMUP, PROBE_SECONDS, replicas)
        probes += 1
        reached = probe.cpu_seconds / max(probe.seconds * replicas, 1e-9) / target.target_cores
        if abs(reached - level) <= LEVEL_SLACK * level or probes >= MAX_PROBES:
            break
    return Calibration(cpu, target, probe, sizing,
                       stage_rates(stages, replicas=replicas, cpu_per_request=cpu, target=target),
                       probes, round(reached, 4))
