"""The load benchmark: is the harness's load honest and efficient? One command, one table.

    .venv/bin/python -m benchmarks.load            # the real one (~25 min)
    .venv/bin/python -m benchmarks.load --quick    # shorter runs, for development (~5 min)

Side by side on the same local targets (nginx serving a static file; benchmarks.targets for a
fixed delay and for stalls), it measures and prints ratios against the goals of issue 6:

1. RPS per generator core, harness vs bare `locust --headless` (same FastHttpUser file) vs wrk:
   requests nginx answered per CPU second of the generator's processes (median of rounds);
2. latency fidelity at low load against a fixed 50 ms delay: |p50 - truth|, |p99 - truth|, the
   truth being the delay the target measured itself holding each request;
3. coordinated omission: a target that stalls 1 s every 5 s, driven at a constant arrival rate;
   the harness's corrected p99 against the p99 the stall pattern implies (and what closed-model
   tools report for the same target);
4. memory: the generator's peak RSS in a 1-minute and a 10-minute run at the same rate;
5. the time to build the report (checks, results, every file) from 1M and 10M requests;
6. scaling: requests/s with 1 and with 2 workers.

Load goes only to 127.0.0.1; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.report_build import time_report
from benchmarks.tools import (
    Measured,
    Nginx,
    PythonTarget,
    bare_locust,
    harness_load,
    locustfile,
    scratch,
    wrk,
)
from harness.config.model import Stage
from harness.load.aggregate import aggregate, in_window
from harness.load.shapes import StagePlan, plan_stages

__all__ = ["Settings", "main"]


@dataclass(frozen=True)
class Settings:
    rounds: int = 3  # RPS rounds per tool (median taken)
    warmup: float = 5.0
    window: float = 15.0  # measurement window, seconds
    users: int = 50  # concurrency for the RPS and scaling runs
    fidelity_seconds: float = 20.0
    stall_seconds: float = 30.0  # a multiple of STALL_EVERY
    memory_short: float = 60.0
    memory_long: float = 600.0
    memory_rate: float = 200.0


QUICK = Settings(rounds=1, warmup=3.0, window=6.0, fidelity_seconds=8.0, stall_seconds=10.0,
                 memory_short=15.0, memory_long=60.0)

DELAY_MS = 50
FIDELITY_USERS = 10
STALL_EVERY, STALL_FOR, STALL_RATE = 5.0, 1.0, 100.0


@dataclass(frozen=True)
class Row:
    number: int
    measure: str
    harness: str
    locust: str
    wrk: str
    ratio: str
    goal: str
    met: bool | None


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _closed(seconds: float, users: int) -> list[StagePlan]:
    return [StagePlan(0, "load", 0.0, seconds, users, True, spawn_rate=float(users))]


def rps_per_core(settings: Settings, folder: Path) -> tuple[Row, Any]:
    _say("1. RPS per generator core against nginx …")
    seconds = settings.warmup + settings.window + 3
    runs: dict[str, list[Measured]] = {"harness": [], "locust": [], "wrk": []}
    with Nginx() as nginx:
        file = locustfile(folder, "/index.html")
        common: dict[str, Any] = {
            "served": nginx.served, "warmup": settings.warmup, "seconds": settings.window}
        for round_ in range(settings.rounds):  # alternate, so a noisy minute hits every tool
            measured, _ = harness_load(url=nginx.url, locust_file=file, workers=0,
                                       stages=_closed(seconds, settings.users),
                                       work_dir=folder / f"rps-h{round_}", **common)
            runs["harness"].append(measured)
            runs["locust"].append(bare_locust(url=nginx.url, locust_file=file,
                                              users=settings.users, duration=seconds,
                                              work_dir=folder / f"rps-l{round_}", **common))
            runs["wrk"].append(wrk(url=f"{nginx.url}/index.html", connections=settings.users,
                                   duration=seconds, **common))
            _say("   round {}: harness {:,.0f}, Locust {:,.0f}, wrk {:,.0f} req/s per core".format(
                round_ + 1, *(runs[k][-1].rps_per_core for k in ("harness", "locust", "wrk"))))
    per_core = {k: statistics.median(m.rps_per_core for m in v) for k, v in runs.items()}
    ratio = per_core["harness"] / per_core["locust"] if per_core["locust"] else 0.0
    row = Row(1, "RPS per generator core (nginx static file)", _num(per_core["harness"]),
              _num(per_core["locust"]), _num(per_core["wrk"]),
              f"{ratio:.2f} of Locust, {per_core['harness'] / per_core['wrk']:.2f} of wrk"
              if per_core["wrk"] else "—",
              "≥ 0.95 of bare Locust", ratio >= 0.95)
    detail = {k: [{"rps": m.rps, "cores": m.cores, "rps_per_core": m.rps_per_core} for m in v]
              for k, v in runs.items()}
    return row, detail


def _fidelity_run(tool: str, folder: Path, seconds: float) -> dict[str, float | None]:
    """One run of `tool` at low load against a fresh fixed-delay target, with its truth."""
    path = f"/delay/{DELAY_MS}"
    p50: float | None
    p99: float | None
    with PythonTarget() as target:
        if tool == "harness":
            _, load = harness_load(url=target.url, locust_file=locustfile(folder, path),
                                   workers=0, stages=_closed(seconds, FIDELITY_USERS),
                                   work_dir=folder / "fidelity-h")
            latency = aggregate(load.intervals).latency
            p50, p99 = latency.p50_ms, latency.p99_ms
        elif tool == "locust":
            measured = bare_locust(url=target.url, locust_file=locustfile(folder, path),
                                   users=FIDELITY_USERS, duration=seconds,
                                   work_dir=folder / "fidelity-l")
            p50, p99 = measured.p50_ms, measured.p99_ms
        else:
            measured = wrk(url=f"{target.url}{path}", connections=FIDELITY_USERS,
                           duration=seconds)
            p50, p99 = measured.p50_ms, measured.p99_ms
        truth = target.stats()
    t50, t99 = float(truth["p50_ms"]), float(truth["p99_ms"])  # type: ignore[arg-type]
    return {"p50_ms": p50, "p99_ms": p99, "truth_p50_ms": t50, "truth_p99_ms": t99,
            "p50_error": abs(p50 - t50) if p50 is not None else None,
            "p99_error": abs(p99 - t99) if p99 is not None else None}


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def fidelity(settings: Settings, folder: Path) -> tuple[list[Row], Any]:
    _say(f"2. latency fidelity against a fixed {DELAY_MS} ms delay …")
    runs: dict[str, list[dict[str, float | None]]] = {"harness": [], "locust": [], "wrk": []}
    for round_ in range(settings.rounds):  # alternate, so a noisy minute hits every tool
        for tool, done in runs.items():
            done.append(_fidelity_run(tool, folder, settings.fidelity_seconds))
            last = done[-1]
            _say(f"   round {round_ + 1}, {tool}: p50 {last['p50_ms']} ms, p99 {last['p99_ms']} "
                 f"ms; the target held {last['truth_p50_ms']:.3f} / {last['truth_p99_ms']:.3f} ms")
    rows = []
    for name in ("p50", "p99"):
        error = {t: _median([r[f"{name}_error"] for r in v]) for t, v in runs.items()}
        value = {t: _median([r[f"{name}_ms"] for r in v]) for t, v in runs.items()}
        gap = (abs(value["harness"] - value["wrk"])
               if value["harness"] is not None and value["wrk"] is not None else None)
        rows.append(Row(2, f"{name} error against the truth, ms ({DELAY_MS} ms delay, "
                           f"{FIDELITY_USERS} conns)",
                        _num(error["harness"], 2), _num(error["locust"], 2),
                        _num(error["wrk"], 2), f"harness {name} {_num(gap, 2)} ms from wrk's",
                        "≤ 1 ms from wrk", gap is not None and gap <= 1.0))
    return rows, runs


def expected_p99_ms(every: float, stall: float) -> float:
    """Arrivals at a constant rate: the fraction f = stall/every lands in a stall and waits a
    uniform 0..stall; p99 is the wait exceeded by 1 % of all requests: stall x (1 - 0.01/f)."""
    share = stall / every
    return 1000.0 * stall * (1.0 - 0.01 / share)


def coordinated_omission(settings: Settings, folder: Path) -> tuple[Row, Any]:
    _say(f"3. coordinated omission: {STALL_FOR:g} s stall every {STALL_EVERY:g} s, "
         f"{STALL_RATE:g} req/s …")
    seconds = settings.stall_seconds
    expected = expected_p99_ms(STALL_EVERY, STALL_FOR)
    with PythonTarget(STALL_EVERY, STALL_FOR) as target:
        stages = plan_stages([Stage(duration=seconds, rate=STALL_RATE, steady=True)], (0,))
        _, load = harness_load(url=target.url, locust_file=locustfile(folder, "/stall", 1.0),
                               workers=0, stages=stages, work_dir=folder / "stall-h")
        stats = aggregate(in_window(load.intervals, 0, seconds))
    corrected = stats.corrected.p99_ms if stats.corrected else None
    with PythonTarget(STALL_EVERY, STALL_FOR) as target:
        locust = bare_locust(url=target.url, locust_file=locustfile(folder, "/stall"),
                             users=FIDELITY_USERS, duration=seconds, work_dir=folder / "stall-l")
    with PythonTarget(STALL_EVERY, STALL_FOR) as target:
        closed = wrk(url=f"{target.url}/stall", connections=FIDELITY_USERS, duration=seconds)
    ratio = corrected / expected if corrected else 0.0
    _say(f"   expected p99 {expected:.0f} ms; harness corrected {corrected} ms, raw "
         f"{stats.latency.p99_ms} ms; Locust {locust.p99_ms} ms; wrk {closed.p99_ms} ms")
    row = Row(3, f"p99 vs a stalling target, ms (expected {expected:.0f})",
              f"{_num(corrected)} corrected ({_num(stats.latency.p99_ms)} raw)",
              f"{_num(locust.p99_ms)} (closed)",
              f"{_num(closed.p99_ms)} (closed, wrk back-fills)",
              f"{ratio:.2f} of expected", "within 10 % of expected", abs(ratio - 1.0) <= 0.10)
    detail = {"expected_p99_ms": expected, "harness_corrected_p99_ms": corrected,
              "harness_raw_p99_ms": stats.latency.p99_ms, "locust_p99_ms": locust.p99_ms,
              "wrk_p99_ms": closed.p99_ms, "achieved_rps": stats.rps}
    return row, detail


def memory(settings: Settings, folder: Path) -> tuple[Row, Any]:
    peaks: dict[float, float] = {}
    stored: dict[float, int] = {}
    with Nginx() as nginx:
        for seconds in (settings.memory_short, settings.memory_long):
            _say(f"4. memory: {seconds:g} s at {settings.memory_rate:g} req/s …")
            stages = plan_stages([Stage(duration=seconds, rate=settings.memory_rate)], ())
            _, load = harness_load(url=nginx.url, locust_file=locustfile(folder, "/index.html", 1),
                                   workers=0, stages=stages, work_dir=folder / f"mem-{seconds:g}")
            peaks[seconds] = max(g.rss_mb for i in load.intervals for g in i.generators)
            stored[seconds] = sum(len(n.histogram) + len(n.corrected or "")
                                  for i in load.intervals for n in i.names)
    short, long = peaks[settings.memory_short], peaks[settings.memory_long]
    growth = (long - short) / short
    row = Row(4, f"generator peak RSS, MB ({settings.memory_short:g} s → "
                 f"{settings.memory_long:g} s)", f"{short:.1f} → {long:.1f}", "—", "—",
              f"{100 * growth:+.1f} %", "≤ +20 %", growth <= 0.20)
    return row, {"peak_rss_mb": peaks, "histogram_bytes_kept_by_harness": stored}


def report_build() -> tuple[Row, Any]:
    _say("5. report build time from 1M and 10M recorded requests …")
    timings = {n: time_report(n) for n in (1_000_000, 10_000_000)}
    small, large = timings[1_000_000], timings[10_000_000]
    row = Row(5, f"report build, s (1M → 10M requests, {large.intervals} intervals)",
              f"{small.total_seconds:.1f} → {large.total_seconds:.1f}", "—", "—",
              f"{large.total_seconds / small.total_seconds:.2f}x for 10x requests",
              "10M in ≤ 10 s", large.total_seconds <= 10.0)
    return row, {str(n): asdict(t) for n, t in timings.items()}


def scaling(settings: Settings, folder: Path) -> tuple[Row, Any]:
    _say("6. scaling: 1 and 2 workers against nginx …")
    seconds = settings.warmup + settings.window + 3
    result: dict[int, Measured] = {}
    with Nginx() as nginx:
        file = locustfile(folder, "/index.html")
        for workers in (1, 2):
            result[workers], _ = harness_load(
                url=nginx.url, locust_file=file, workers=workers,
                stages=plan_stages([Stage(duration=seconds, users=settings.users,
                                          spawn_rate=settings.users)], (), generators=workers),
                work_dir=folder / f"scale-{workers}", served=nginx.served,
                warmup=settings.warmup, seconds=settings.window)
    one, two = result[1], result[2]
    ratio = two.rps / one.rps if one.rps else 0.0
    per_core = two.rps_per_core / one.rps_per_core if one.rps_per_core else 0.0
    cores = os.cpu_count() or 1
    row = Row(6, f"req/s with 1 → 2 workers ({cores} cores, nginx on the same machine)",
              f"{one.rps:,.0f} → {two.rps:,.0f} (generators on {one.cores:.2f} → "
              f"{two.cores:.2f} cores)", "—", "—",
              f"{ratio:.2f}x; per generator core {per_core:.2f}x",
              "≥ 1.8x where cores allow", True if ratio >= 1.8 else (False if cores >= 3 else None))
    detail = {w: {"rps": m.rps, "generator_cores": m.cores} for w, m in result.items()}
    return row, detail


def render(rows: Sequence[Row]) -> str:
    header = ("#", "measure", "harness", "bare Locust", "wrk", "ratio", "goal", "met")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "NO")
        lines.append(f"| {r.number} | {r.measure} | {r.harness} | {r.locust} | {r.wrk} | "
                     f"{r.ratio} | {r.goal} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs (development)")
    parser.add_argument("--only", type=int, action="append", choices=range(1, 7),
                        help="run only this section (repeatable)")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    wanted = set(args.only or range(1, 7))
    rows: list[Row] = []
    details: dict[str, Any] = {"quick": args.quick, "settings": asdict(settings),
                                  "cores": os.cpu_count()}
    sections: dict[int, Callable[[Path], tuple[Row | list[Row], Any]]] = {
        1: lambda folder: rps_per_core(settings, folder),
        2: lambda folder: fidelity(settings, folder),
        3: lambda folder: coordinated_omission(settings, folder),
        4: lambda folder: memory(settings, folder),
        5: lambda folder: report_build(),
        6: lambda folder: scaling(settings, folder),
    }
    names = {1: "rps_per_core", 2: "fidelity", 3: "coordinated_omission", 4: "memory",
             5: "report_build", 6: "scaling"}
    with scratch() as folder:
        for number in sorted(wanted):
            try:  # one section failing must not lose the others' numbers
                made, details[names[number]] = sections[number](folder)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                made = Row(number, names[number], f"error: {exc}", "—", "—", "—", "—", False)
                details[names[number]] = {"error": repr(exc)}
            rows += made if isinstance(made, list) else [made]
            _say(render(rows))
            if args.json:
                args.json.write_text(json.dumps({"table": render(rows), **details}, indent=2,
                                                default=str))
    table = render(rows)
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"table": table, **details}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
