"""The calibration: short open-model probes on the stack under test, before the scenario's load,
measure how a replica's CPU grows with its request rate; every `utilization_of_target` stage gets
its rate from that.

Probes of the scenario's own request mix (CPU per request depends on it): a short one at a low
rate, then probes aimed at the highest multiple the scenario asks for, so that its most demanding
stage is sized from a measurement near it rather than extrapolated (CPU per request falls as the
rate rises: sized from a probe at 0.8 x the target, stages meant for 1.45 x ran at 1.15-1.23 x).
A replica's CPU is taken as a line in its request rate, idle burn plus CPU per request at the
margin, fitted (least squares) through every probe so far; while the last probe misses the level
by more than LEVEL_SLACK, one more is sized from the line (at most MAX_PROBES in all). Each
probe's first seconds (connections, caches warming) are left out of its window. The HPA does not
run meanwhile: the replicas stay as the stack started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from harness.calibrate.cpu import CpuUse, measure_cpu
from harness.calibrate.rates import CpuTarget, StageRate, rate_for, stage_rates
from harness.collect.scrape import Scrape
from harness.config.model import Stage
from harness.errors import StackError

__all__ = ["Calibration", "ProbeRun", "RunProbe", "calibrate", "cpu_line"]

SIZING_RATE_PER_REPLICA = 20.0  # requests/s: light on any replica, enough to count CPU
SIZING_WARMUP, SIZING_SECONDS = 3.0, 6.0
PROBE_LEVEL = 0.8  # of the CPU target, for a scenario whose stages give no multiple
PROBE_WARMUP, PROBE_SECONDS = 4.0, 12.0
LEVEL_SLACK = 0.1  # relative miss of the level that calls for one more probe
MAX_PROBES = 4  # sizing probe included

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

    cpu_per_request: float  # CPU-seconds per request at the margin (the line's slope)
    target: CpuTarget
    probe: ProbeRun
    sizing: ProbeRun  # the short, light probe that chose the first full probe's rate
    stages: tuple[StageRate, ...]
    probes: int = 2  # probes run in all (sizing included)
    probe_level: float = 0.0  # utilization / target the last probe measured
    idle_cores: float = 0.0  # per replica, the line's intercept (0 in runs before the line)

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
            idle_cores=float(data.get("idle_cores", 0.0)),
        )


def _measured(run_probe: RunProbe, scrapes: Callable[[], Sequence[Scrape]], rate: float,
              warmup: float, seconds: float, replicas: int) -> ProbeRun:
    start, end, failures = run_probe(rate, warmup, seconds)
    use = measure_cpu(scrapes(), start, end)
    if use.replicas < replicas:
        raise StackError(f"calibration: only {use.replicas} of {replicas} replicas were scraped "
                         f"at least twice during the {seconds:g}s probe")
    if use.requests <= 0:
        raise StackError(f"calibration: the replicas answered no requests during the probe at "
                         f"{rate:g} requests/s")
    return ProbeRun.of(rate, warmup, use, failures)


def _per_replica(probe: ProbeRun) -> tuple[float, float]:
    """(requests/s, cores) of one replica over the probe's measured part."""
    span = max(probe.seconds * probe.replicas, 1e-9)
    return probe.requests / span, probe.cpu_seconds / span


def cpu_line(probes: Sequence[ProbeRun]) -> tuple[float, float]:
    """(idle cores, CPU-seconds per request) of one replica: the least-squares line through the
    probes; through the origin where the fit's idle burn would be negative (noise), and a
    single probe's CPU per request with no idle part."""
    points = [_per_replica(p) for p in probes]
    rates = np.array([r for r, _ in points])
    cores = np.array([c for _, c in points])
    if len(points) >= 2 and float(np.ptp(rates)) > 0:
        slope, idle = (float(v) for v in np.polyfit(rates, cores, 1))
        if idle >= 0 and slope > 0:
            return idle, slope
    slope = float(np.dot(rates, cores) / np.dot(rates, rates))
    if slope <= 0:
        raise StackError("calibration: the replicas' CPU did not rise with the load "
                         f"({', '.join(f'{c:.3f} cores at {r:.0f} req/s' for r, c in points)})")
    return 0.0, slope


def calibrate(stages: Sequence[Stage], *, replicas: int, target: CpuTarget,
              run_probe: RunProbe, scrapes: Callable[[], Sequence[Scrape]]) -> Calibration:
    """Probe, fit, size every stage; `scrapes()` returns what was scraped so far."""
    sizing = _measured(run_probe, scrapes, SIZING_RATE_PER_REPLICA * replicas, SIZING_WARMUP,
                       SIZING_SECONDS, replicas)
    highest = max((s.utilization_of_target or 0.0 for s in stages), default=0.0)
    level = highest if highest > 0 else PROBE_LEVEL
    runs = [sizing]
    while True:
        idle, cpu = cpu_line(runs)
        probe = _measured(run_probe, scrapes, rate_for(level, replicas, cpu, target, idle),
                          PROBE_WARMUP, PROBE_SECONDS, replicas)
        runs.append(probe)
        reached = _per_replica(probe)[1] / target.target_cores
        if abs(reached - level) <= LEVEL_SLACK * level or len(runs) >= MAX_PROBES:
            break
    idle, cpu = cpu_line(runs)
    return Calibration(cpu, target, probe, sizing,
                       stage_rates(stages, replicas=replicas, cpu_per_request=cpu, target=target,
                                   idle_cores=idle),
                       len(runs), round(reached, 4), round(idle, 6))
