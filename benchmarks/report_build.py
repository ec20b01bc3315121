"""How long the report takes for a run that recorded 1M or 10M requests.

The run is built the way the load stage hands it on: per-interval, per-name encoded
HdrHistograms (a 10-minute run, 2 s intervals, 10 request names). A histogram holds counts per
bucket, not requests, so its size, and everything computed from it, does not depend on how many
requests it counted: the report's cost follows intervals x names, not requests. This measures it.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.config.model import Scenario, SloSpec, Stage
from harness.load.latency import encode, new_histogram
from harness.load.records import GeneratorSample, Interval, LoadResult, NameInterval
from harness.load.shapes import plan_stages
from harness.report.assemble import assemble
from harness.report.render import write_report
from harness.report.results import RunStatus
from harness.status import ExitStatus
from harness.verify.slo import slo_checks

__all__ = ["ReportTiming", "synthetic_load", "time_report"]

NAMES = tuple(f"GET /api/endpoint-{i}" for i in range(10))


def synthetic_load(requests: int, *, duration: float = 600.0, interval: float = 2.0,
                   seed: int = 7) -> LoadResult:
    """A LoadResult whose histograms count `requests` in all (log-normal latencies)."""
    rng = random.Random(seed)
    steps = int(duration / interval)
    per_histogram = requests // (steps * len(NAMES))
    leftover = requests - per_histogram * steps * len(NAMES)
    warmup = duration / 10
    stages = plan_stages([Stage(duration=warmup, users=100),
                          Stage(duration=duration - warmup, users=100, steady=True)], (1,))
    # 200 distinct latencies per histogram, counts spread over them: record_value(v, count)
    shape = [max(1, int(rng.lognormvariate(10.3, 0.6))) for _ in range(200)]
    intervals = []
    for step in range(steps):
        names = []
        for index, name in enumerate(NAMES):
            count = per_histogram + (leftover if step == 0 and index == 0 else 0)
            histogram = new_histogram()
            base, rest = divmod(count, len(shape))
            for position, value in enumerate(shape):
                n = base + (1 if position < rest else 0)
                if n:
                    histogram.record_value(value, n)
            names.append(NameInterval(name, count, count // 1000, encode(histogram)))
        sample = GeneratorSample("local", 40.0, 2.0, 4.0, loop_lag_p50_ms=0.4, users=100)
        intervals.append(Interval(step * interval, (step + 1) * interval, 100, tuple(names),
                                  (sample,)))
    return LoadResult(1_700_000_000.0, 1_700_000_000.0 + duration, tuple(intervals), (),
                      stages)


@dataclass(frozen=True)
class ReportTiming:
    requests: int
    intervals: int
    checks_seconds: float
    assemble_seconds: float
    write_seconds: float

    @property
    def total_seconds(self) -> float:
        return self.checks_seconds + self.assemble_seconds + self.write_seconds


def time_report(requests: int) -> ReportTiming:
    """Checks, RunResult and every report file (results.json, summary.md, report.html,
    junit.xml) from the recorded histograms of a run of `requests` requests."""
    load = synthetic_load(requests)
    scenario = Scenario(name="bench", description="report build benchmark",
                        stages=(Stage(duration=600, users=100),))
    spec = SloSpec()
    began = time.perf_counter()
    checks = slo_checks(load, spec)
    checked = time.perf_counter()
    result = assemble(
        run_id="bench", scenario=scenario, slo=spec, stack="embedded", status=RunStatus.PASSED,
        exit_status=ExitStatus.OK, started_at=load.started_at, ended_at=load.ended_at, load=load,
        scrapes=(), checks=checks, endpoints={},
    )
    assembled = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_report(result, Path(folder))
    written = time.perf_counter()
    if result.totals.requests != requests:
        raise AssertionError(f"recorded {result.totals.requests}, expected {requests}")
    return ReportTiming(requests, len(load.intervals), checked - began, assembled - checked,
                        written - assembled)
