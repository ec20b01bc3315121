"""The calibration on a running stack: the HPA's CPU target from the bundled manifests, the probe
load through the harness's own load generator, the replicas' scrapes once a second."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from harness import paths
from harness.calibrate.probe import Calibration, calibrate
from harness.calibrate.rates import CpuTarget
from harness.collect.scrape import Scraper
from harness.config.k8s import load_scaling
from harness.config.model import Scenario
from harness.errors import ConfigError
from harness.load.records import Interval
from harness.load.runner import LoadRunner
from harness.load.shapes import plan_stages
from harness.stack.backend import Endpoints, StackBackend

__all__ = ["calibrate_stack", "cpu_target"]

SCRAPE_INTERVAL = 1.0


def _where(scenario: Scenario) -> tuple[str, tuple[str | int, ...]]:
    index = next(i for i, s in enumerate(scenario.stages) if s.calibrated)
    return str(scenario.source or f"scenario {scenario.name}"), ("stages", index,
                                                                 "utilization_of_target")


def cpu_target(scenario: Scenario) -> CpuTarget:
    """The HPA's CPU target and the Deployment's CPU request (stack/k8s/base), with the
    scenario's own scale-down window if it shortens the clock."""
    scaling = load_scaling(paths.k8s_base_dir())
    hpa, requests = scaling.hpa, scaling.deployment.requests
    percent, millicores = hpa.target_for("cpu"), requests.get("cpu")
    if percent is None or not millicores:
        source, field = _where(scenario)
        missing = "no CPU target" if percent is None else "no CPU request"
        raise ConfigError(source, field, "needs an HPA CPU target and a CPU request; "
                          f"{paths.k8s_base_dir()} has {missing}")
    window = scenario.autoscaling.scale_down_window
    return CpuTarget(
        target_percent=percent, request_cores=millicores / 1000.0,
        min_replicas=hpa.min_replicas, max_replicas=hpa.max_replicas,
        tolerance_up=hpa.scale_up.tolerance if hpa.scale_up.tolerance is not None else 0.1,
        tolerance_down=hpa.scale_down.tolerance if hpa.scale_down.tolerance is not None else 0.1,
        scale_down_window=float(window if window is not None
                                else hpa.scale_down.stabilization_window_seconds),
    )


def require_replica_metrics(scenario: Scenario, endpoints: Endpoints) -> None:
    """Exit 2 naming the scenario file and stage key where no replica's CPU can be read."""
    if endpoints.replica_metrics and endpoints.replicas:
        return
    source, field = _where(scenario)
    raise ConfigError(
        source, field,
        f"needs each replica's CPU (process_cpu_seconds_total from its /api/metrics); the "
        f"{endpoints.backend} stack gives the harness no per-replica metrics",
        "--stack embedded, local, compose, or k8s with its API proxy; or give users or rate",
    )


def calibrate_stack(scenario: Scenario, backend: StackBackend, *, locustfile: Path,
                    env: Mapping[str, str], work_dir: Path, workers: int = 0,
                    realtime: bool = False) -> Calibration:
    endpoints = backend.endpoints()
    require_replica_metrics(scenario, endpoints)
    target = cpu_target(scenario)
    scraper = Scraper(lambda: backend.endpoints().replicas, interval=SCRAPE_INTERVAL)

    def run_probe(rate: float, warmup: float, seconds: float) -> tuple[float, float, int]:
        from harness.config.model import Stage

        stages = plan_stages([Stage(name="warm-up", duration=warmup, rate=rate),
                              Stage(name="probe", duration=seconds, rate=rate)], (1,),
                             generators=max(workers, 1))
        runner = LoadRunner(stages=stages, locustfiles=[locustfile],
                            host=endpoints.service_url, work_dir=work_dir, env=env,
                            workers=workers, interval=1.0, realtime=realtime)
        origin: list[float] = []

        def first(interval: Interval, _cpu: float) -> None:
            if not origin:  # the generator's clock, in epoch seconds
                origin.append(time.time() - interval.end)

        load = runner.run(on_interval=first)
        zero = origin[0] if origin else load.started_at
        failures = sum(i.failures for i in load.intervals if i.start >= warmup)
        return zero + warmup, zero + warmup + seconds, failures

    scraper.start()
    try:
        return calibrate(scenario.stages, replicas=len(endpoints.replicas), target=target,
                         run_probe=run_probe, scrapes=lambda: tuple(scraper.scrapes))
    finally:
        scraper.stop()
