"""The harness's cost as the work grows, measured: a soak's memory and sample file per minute,
`compare` against a growing history of stored runs, and `validate`.

Each cost is measured at several sizes and given as its growth rate (a least-squares slope):
per minute of load, per stored run. The soak here is as long as it is asked to be (the issue's
60 minutes with `--soak-minutes 60`); the table says how long it was.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.report_build import synthetic_load
from benchmarks.tools import Nginx, _descendants, locustfile
from harness.compare.runs import load_run
from harness.compare.samples import samples_from_load, write_samples
from harness.compare.service import run_metrics, store_for
from harness.config.model import Scenario, SloSpec, Stage
from harness.load.records import LoadResult
from harness.load.runner import LoadRunner
from harness.load.shapes import plan_stages
from harness.report.assemble import assemble
from harness.report.render import write_report
from harness.report.results import RunStatus
from harness.status import ExitStatus
from harness.verify.slo import slo_checks

__all__ = ["SoakPoint", "compare_timings", "growth", "slope", "soak", "validate_seconds"]


def slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares growth of ys per unit of xs; None with fewer than two distinct xs."""
    if len(set(xs)) < 2:
        return None
    return float(statistics.linear_regression(xs, ys).slope)


@dataclass(frozen=True)
class SoakPoint:
    """One minute of a soak."""

    minute: float
    generator_rss_mb: float
    harness_rss_mb: float
    samples_bytes: int


def _rss_mb(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue
    return total / 1_048_576


def _samples_bytes(load: LoadResult, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    return write_samples(folder, samples_from_load(load, (), {})).stat().st_size


def soak(minutes: float, rate: float, folder: Path, say: Callable[[str], None],
         every: float = 60.0) -> list[SoakPoint]:
    """The harness's load process at `rate` req/s against nginx for `minutes`: every `every`
    seconds the generator's RSS, this (the harness's) process's RSS, and the size the run's
    intervals.jsonl.gz would have so far."""
    points: list[SoakPoint] = []
    seconds = minutes * 60.0
    folder.mkdir(parents=True, exist_ok=True)
    with Nginx() as nginx:
        runner = LoadRunner(stages=plan_stages([Stage(duration=seconds, rate=rate)], ()),
                            locustfiles=[locustfile(folder, "/index.html", 1.0)],
                            host=nginx.url, work_dir=folder / "soak")
        done: list[LoadResult] = []
        thread = threading.Thread(target=lambda: done.append(runner.run()), daemon=True)
        began = time.monotonic()
        thread.start()
        for tick in range(1, int(seconds // every) + 1):
            thread.join(timeout=max(0.0, began + tick * every - time.monotonic()))
            if not thread.is_alive():
                break
            point = SoakPoint(
                minute=round((time.monotonic() - began) / 60.0, 2),
                generator_rss_mb=round(_rss_mb(_descendants("harness.load.locust_process")), 1),
                harness_rss_mb=round(_rss_mb([os.getpid()]), 1),
                samples_bytes=_samples_bytes(runner.partial(), folder / "samples"),
            )
            points.append(point)
            say(f"   soak minute {point.minute:.1f}: generator {point.generator_rss_mb} MB, "
                f"harness {point.harness_rss_mb} MB, intervals.jsonl.gz "
                f"{point.samples_bytes / 1024:.0f} KiB")
        thread.join(timeout=seconds + 180)
    return points


def _stored_run(folder: Path) -> Path:
    """One finished run's folder (results.json, intervals.jsonl.gz) from a 1M-request run."""
    load = synthetic_load(1_000_000)
    scenario = Scenario(name="bench", description="compare benchmark",
                        stages=(Stage(duration=600, users=100),))
    result = assemble(run_id="bench", scenario=scenario, slo=SloSpec(), stack="embedded",
                      status=RunStatus.PASSED, exit_status=ExitStatus.OK,
                      started_at=load.started_at, ended_at=load.ended_at, load=load,
                      scrapes=(), checks=slo_checks(load, SloSpec()), endpoints={})
    folder.mkdir(parents=True, exist_ok=True)
    write_report(result, folder)
    write_samples(folder, samples_from_load(load, (), {}))
    return folder


def _copy_as(template: Path, folder: Path, run_id: str, started_at: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads((template / "results.json").read_text(encoding="utf-8"))
    data["run_id"], data["started_at"] = run_id, started_at
    (folder / "results.json").write_text(json.dumps(data), encoding="utf-8")
    shutil.copy2(template / "intervals.jsonl.gz", folder / "intervals.jsonl.gz")
    return folder


def compare_timings(sizes: Sequence[int], folder: Path,
                    say: Callable[[str], None]) -> dict[int, float]:
    """Seconds `harness compare RUN history:N --last N` takes with N stored runs, per N."""
    template = _stored_run(folder / "template")
    reports = folder / "reports"
    store = store_for(reports)
    store.keep = max(sizes) + 10  # the store keeps 90 by default; the history asked is larger
    stored = 0
    timings: dict[int, float] = {}
    for size in sorted(sizes):
        while stored < size:
            run = load_run(_copy_as(template, folder / "runs" / f"r{stored:03d}", f"r{stored:03d}",
                                    1_700_000_000.0 + 3600.0 * stored))
            store.add(run, verdict="pass", metrics=run_metrics(run))
            stored += 1
        candidate = _copy_as(template, reports / "candidate", "candidate", 1_800_000_000.0)
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "harness", "compare", str(candidate), f"history:{size}",
             "--last", str(size), "--report-dir", str(reports), "--out", str(folder / "out")],
            capture_output=True, text=True, timeout=600)
        timings[size] = round(time.perf_counter() - began, 2)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"harness compare exited {done.returncode}: "
                               f"{done.stderr.strip()[-300:]}")
        say(f"   compare against {size} stored runs: {timings[size]:.2f} s")
    return timings


def validate_seconds() -> tuple[float, int]:
    """(seconds, exit status) of `harness validate` over the bundled definitions."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "validate"], capture_output=True,
                          text=True, timeout=600)
    return round(time.perf_counter() - began, 2), done.returncode


def growth(points: Sequence[SoakPoint]) -> dict[str, float | None]:
    """Per minute of load: each soak measure's least-squares slope."""
    minutes = [p.minute for p in points]
    return {key: slope(minutes, [float(getattr(p, key)) for p in points])
            for key in ("generator_rss_mb", "harness_rss_mb", "samples_bytes")}
