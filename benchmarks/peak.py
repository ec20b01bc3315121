"""The generator's event-loop lag in the `peak` scenario, as a user runs it.

`harness run --scenario peak` on the embedded stack, shortened to a fixed length, with whatever
priority the harness gives its generator on this machine (nice -10 where permitted): the lag
goal's own setting (the load benchmark's other rows run every tool at the same nice value, to
compare the tools). Per round, the report's loop lag p99 — its worst 2 s interval's — and the
generator's CPU; beside them, the pauses a loop alone on each idle core saw just before
(benchmarks.pauses), the floor under any loop's lag on this machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import pauses
from benchmarks.fidelity import PAUSE_SECONDS, floor_row
from benchmarks.machine import Machine, median_of

__all__ = ["PEAK_DURATION", "peak_lag", "peak_round"]

PEAK_DURATION = "2m"
RUN_TIMEOUT = 600.0


def peak_round(results: dict[str, Any]) -> dict[str, Any]:
    """What one peak run's results.json says about its generator (the only one: no workers)."""
    [generator] = results["generator"]["generators"]
    return {
        "exit_status": results["exit_status"],
        "lag_p99_ms": generator["loop_lag_p99_ms"],
        "lag_p50_ms": generator["loop_lag_p50_ms"],
        "cpu_percent": generator["mean_cpu_percent"],
        "peak_cpu_percent": generator["peak_cpu_percent"],
        "realtime": generator["realtime"],
        "cpu_wait_percent": generator["mean_cpu_wait_percent"],
    }


def _run(folder: Path, run_id: str, duration: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--scenario", "peak", "--duration", duration,
         "--no-progress", "--report-dir", str(folder), "--run-id", run_id],
        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    results = folder / run_id / "results.json"
    if not results.is_file():
        raise RuntimeError(f"peak run {run_id} wrote no results (exit {done.returncode}): "
                           f"{done.stdout[-300:]}{done.stderr[-300:]}")
    return peak_round(json.loads(results.read_text()))


def peak_lag(rounds: int, warmup: int, folder: Path, say: Callable[[str], None],
             row: Callable[..., Any], duration: str = PEAK_DURATION) -> tuple[list[Any], Any]:
    say(f"12. event-loop lag in `peak` as the harness runs it ({duration}, embedded) …")
    machine = Machine()
    floor = pauses.measure(PAUSE_SECONDS)  # before the load, on the idle machine
    runs = []
    for index in range(warmup + rounds):
        runs.append(_run(folder, f"peak-{index}", duration))
        say(f"   round {index + 1}: lag p99 {runs[-1]['lag_p99_ms']} ms at "
            f"{runs[-1]['cpu_percent']} % CPU (realtime: {runs[-1]['realtime']})")
    text = machine.close().text()
    return lag_rows(runs, warmup, floor, text, row, duration), {
        "runs": runs, "machine": text, "pauses": [asdict(p) for p in floor]}


def lag_rows(runs: Sequence[dict[str, Any]], warmup: int, floor: Sequence[pauses.Pauses],
             machine: str, row: Callable[..., Any], duration: str = PEAK_DURATION) -> list[Any]:
    lag, judged = median_of([r["lag_p99_ms"] for r in runs], warmup)
    cpu = median_of([r["cpu_percent"] for r in runs], warmup)[0]
    kept = runs[warmup:]
    priority = ("realtime" if kept and all(r["realtime"] for r in kept)
                else "not realtime in every round")
    rounds = ", ".join(f"{r['lag_p99_ms']:g}" for r in kept)
    lag_text = "—" if lag is None else f"{lag:.2f}"
    return [
        row(8, f"event-loop lag p99, ms, worst 2 s interval of `peak` as the harness runs it "
               f"({duration}, embedded, {priority}; generator CPU {cpu or 0:.1f} %)",
            lag_text, "—", "—", "—",
            f"median of rounds ({rounds})" + ("" if judged else " (fewer than 3: not judged)"),
            "≤ 2 ms", (lag <= 2.0) if judged and lag is not None else None, machine),
        floor_row(floor, machine, row),
    ]
