"""Synthetic run folders for the compare tests: results.json and intervals.jsonl.gz written the
way `harness run` writes them, from latencies drawn from known distributions.

`write_run(folder, seed=..., slowdown=1.0, error_percent=0.0, ...)` draws each request's latency
from a log-normal distribution per request name (median `BASE_MS[name] x slowdown`), with a
per-interval multiplicative jitter standing for a noisy machine, and marks `error_percent` of the
requests failed. Two runs with different seeds and the same parameters are "identical
distributions"; `slowdown=1.10` is a 10 % slower build (every percentile x 1.10).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.collect.scrape import MetricSample, Scrape
from harness.compare.samples import samples_from_load, write_samples
from harness.config.model import GroupObjective, SloSpec
from harness.load.latency import LatencySummary, encode, new_histogram
from harness.load.records import Interval, LoadResult, NameInterval, StagePlan
from harness.report.results import RequestStats, RunResult, RunStatus
from harness.status import ExitStatus

STARTED_AT = 1_790_000_000.0
INTERVAL = 2.0
BASE_MS = {
    "GET /api/tickets": 12.0,
    "GET /api/tickets/{id}": 6.0,
    "GET /api/search": 25.0,
    "POST /api/tickets": 18.0,
}
GROUPS = {
    "read": ("GET /api/tickets", "GET /api/tickets/{id}"),
    "search": ("GET /api/search",),
    "write": ("POST /api/tickets",),
}
RATE = {"GET /api/tickets": 30, "GET /api/tickets/{id}": 40, "GET /api/search": 15,
        "POST /api/tickets": 15}  # requests/s
CPU_MS_PER_REQUEST = 4.0
REPLICAS = ("replica-1", "replica-2")


def slo() -> SloSpec:
    return SloSpec(groups={k: GroupObjective(requests=v) for k, v in GROUPS.items()})


def write_run(folder: Path, *, seed: int, slowdown: float = 1.0, error_percent: float = 0.0,
              ramp: float = 20.0, steady: float = 240.0, jitter: float = 0.04,
              sigma: float = 0.5, cpu_factor: float = 1.0, run_id: str | None = None,
              scenario: str = "nightly", started_at: float = STARTED_AT) -> Path:
    np_rng = np.random.default_rng(seed)
    stages = (StagePlan(0, "ramp", 0.0, ramp, 40, False),
              StagePlan(1, "steady", ramp, ramp + steady, 40, True))
    intervals = []
    t = 0.0
    total_requests = 0
    scrapes = []
    cpu = {r: 0.0 for r in REPLICAS}
    wait_sum = {r: 0.0 for r in REPLICAS}
    wait_count = {r: 0.0 for r in REPLICAS}
    while t < ramp + steady - 1e-9:
        noise = float(np_rng.lognormal(0.0, jitter))
        names = []
        for name, base in BASE_MS.items():
            histogram = new_histogram()
            count = int(np_rng.integers(int(RATE[name] * INTERVAL * 0.9),
                                        int(RATE[name] * INTERVAL * 1.1) + 1))
            values_us = np_rng.lognormal(0.0, sigma, count) * base * slowdown * noise * 1000.0
            # 3 significant digits is all an HdrHistogram keeps: record equal values once
            rounded = np.maximum(np.round(values_us, -1), 1).astype(np.int64)
            for value, times in zip(*np.unique(rounded, return_counts=True), strict=True):
                histogram.record_value(int(value), int(times))
            failures = int(np_rng.binomial(count, error_percent / 100.0))
            names.append(NameInterval(name, count, failures, encode(histogram)))
            total_requests += count
        in_interval = sum(n.requests for n in names)
        for replica in REPLICAS:
            share = in_interval / len(REPLICAS)
            cpu[replica] += share * CPU_MS_PER_REQUEST * cpu_factor / 1000.0 * noise
            wait_sum[replica] += share * 0.0001
            wait_count[replica] += share
            scrapes.append(Scrape(started_at + t + INTERVAL, replica, True, (
                MetricSample("process_cpu_seconds_total", (), cpu[replica]),
                MetricSample("servicedesk_db_pool_acquire_wait_seconds_sum", (), wait_sum[replica]),
                MetricSample("servicedesk_db_pool_acquire_wait_seconds_count", (),
                             wait_count[replica]),
            )))
        intervals.append(Interval(t, t + INTERVAL, 40, tuple(names)))
        t += INTERVAL
    load = LoadResult(started_at, started_at + t, tuple(intervals), (), stages)
    # results.json as `harness run` writes it, minus the per-name tables compare never reads
    # (assembling those from the histograms would take most of a test's time)
    empty = RequestStats(total_requests, 0, 0.0, 0.0,
                         LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    result = RunResult(
        run_id=run_id or folder.name, scenario=scenario, scenario_description="synthetic",
        stack="embedded", status=RunStatus.PASSED, exit_status=int(ExitStatus.OK),
        started_at=started_at, ended_at=started_at + t, checks=(), totals=empty, per_request={},
        groups={}, stages=tuple(StagePlan(s.index, s.name, s.start, s.end, s.users, s.steady)
                                for s in stages),
        timeline=(), replicas=(), server=None, errors=(), endpoints={},
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(result.to_json() + "\n", encoding="utf-8")
    write_samples(folder, samples_from_load(load, scrapes, GROUPS))
    return folder
