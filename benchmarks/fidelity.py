"""Latency fidelity: the harness's percentiles against wrk's and k6's on the same target.

Closed model: 20 users against a fixed 50 ms delay. Open model: 2,000 requests/s against a
fixed 5 ms delay, the harness with two workers (k6 at the same constant arrival rate; wrk, which
has no arrival rate, with enough connections for that rate). Goal: the harness's p50 and p99
within 1 ms of wrk's. Beside each tool's numbers, the target's own: from each request's
arrival (the kernel's stamp on its socket) to its reply, which splits a gap to wrk into the
tool's error and what the tool's CPU cost the target. The open-model run also gives the
generators' event-loop lag and garbage-collection pauses per interval at a known share of their
core, what made the worst interval's lag, and the machine's floor under it (benchmarks.pauses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import pauses
from benchmarks.machine import Machine, median_of, rotated
from benchmarks.tools import PythonTarget, bare_locust, harness_load, k6, locustfile, wrk
from harness.config.model import Stage
from harness.load.aggregate import aggregate, in_window
from harness.load.records import GeneratorSample, LoadResult
from harness.load.shapes import StagePlan, plan_stages

__all__ = ["CLOSED_DELAY_MS", "CLOSED_USERS", "LAG_CPU_LIMIT", "OPEN_DELAY_MS", "OPEN_RATE",
           "PAUSE_SECONDS", "closed_fidelity", "closed_stages", "floor_row", "lag_at_cpu",
           "open_fidelity", "worst_lag"]

CLOSED_DELAY_MS, CLOSED_USERS = 50, 20
OPEN_DELAY_MS, OPEN_RATE, OPEN_WORKERS = 5, 2000.0, 2
WRK_OPEN_CONNECTIONS = 10  # 10 connections x 1 / 5 ms = the 2,000 req/s the others send
PAUSE_SECONDS = 20.0  # per core, about 8 s of it spinning
LAG_CPU_LIMIT = 50.0  # % of a generator core up to which the lag goal applies
TOOLS = ("harness", "locust", "wrk", "k6")

Run = dict[str, Any]


def closed_stages(seconds: float, users: int) -> list[StagePlan]:
    """One steady closed-model stage: `users` users, all started in the first second."""
    return [StagePlan(0, "load", 0.0, seconds, users, True, spawn_rate=float(users))]


def _at_or_below(load: LoadResult, limit: float) -> list[GeneratorSample]:
    return [g for i in load.intervals for g in i.generators if g.cpu_percent <= limit]


def worst_lag(load: LoadResult, limit: float = LAG_CPU_LIMIT) -> GeneratorSample | None:
    """The generator interval with the highest event-loop lag p99 among those at or below
    `limit` % CPU (None when none stayed below it): with its GC pause and wait for a core, what
    made that lag."""
    return max(_at_or_below(load, limit), key=lambda g: g.loop_lag_p99_ms, default=None)


def lag_at_cpu(load: LoadResult, limit: float = LAG_CPU_LIMIT) -> tuple[float | None, float]:
    """(worst interval event-loop lag p99 of a generator below `limit` % CPU, the highest CPU
    among those intervals); None when no interval stayed below the limit."""
    samples = _at_or_below(load, limit)
    if not samples:
        return None, 0.0
    return (max(g.loop_lag_p99_ms for g in samples), max(g.cpu_percent for g in samples))


def _one(tool: str, folder: Path, *, path: str, seconds: float, users: int,
         rate: float | None) -> Run:
    """One run of `tool` against a fresh target, with what the target itself measured."""
    out: Run = {"tool": tool}
    with PythonTarget() as target:
        if tool == "harness":
            if rate is None:
                stages: Sequence[StagePlan] = closed_stages(seconds, users)
                workers = 0
            else:
                workers = OPEN_WORKERS
                stages = plan_stages([Stage(duration=seconds, rate=rate, steady=True)], (0,),
                                     generators=workers)
            # the same locustfile as bare Locust's (no wait) in the closed model; paced users
            # in the open model wait for their slot, not for think time
            wait = 0.0 if rate is None else 1.0
            _, load = harness_load(url=target.url, locust_file=locustfile(folder, path, wait),
                                   workers=workers, stages=stages, work_dir=folder / "h")
            stats = aggregate(in_window(load.intervals, 0, seconds))
            out.update(p50_ms=stats.latency.p50_ms, p99_ms=stats.latency.p99_ms,
                       rps=stats.rps, failures=stats.failures)
            if stats.corrected is not None:
                out.update(corrected_p50_ms=stats.corrected.p50_ms,
                           corrected_p99_ms=stats.corrected.p99_ms)
            lag, cpu = lag_at_cpu(load)
            worst = worst_lag(load)
            if worst is not None:
                out.update(worst_gc_ms=worst.gc_pause_max_ms,
                           worst_wait_percent=worst.cpu_wait_percent)
            samples = [g for i in load.intervals for g in i.generators]
            out.update(lag_p99_ms=lag, lag_cpu=cpu,
                       cpu_max=max((g.cpu_percent for g in samples), default=0.0),
                       gc_pause_max_ms=max((g.gc_pause_max_ms for g in samples), default=0.0))
        elif tool == "locust":
            measured = bare_locust(url=target.url, locust_file=locustfile(folder, path),
                                   users=users, duration=seconds, work_dir=folder / "l")
            out.update(p50_ms=measured.p50_ms, p99_ms=measured.p99_ms)
        elif tool == "wrk":
            measured = wrk(url=f"{target.url}{path}", duration=seconds,
                           connections=users if rate is None else WRK_OPEN_CONNECTIONS)
            out.update(p50_ms=measured.p50_ms, p99_ms=measured.p99_ms)
        else:
            measured = k6(url=f"{target.url}{path}", duration=seconds, work_dir=folder / "k",
                          vus=users if rate is None else None, rate=rate)
            out.update(p50_ms=measured.p50_ms, p99_ms=measured.p99_ms)
        truth = target.stats()
    out.update(truth_p50_ms=truth.get("p50_ms"), truth_p99_ms=truth.get("p99_ms"),
               replied_p50_ms=truth.get("replied_p50_ms"),
               replied_p99_ms=truth.get("replied_p99_ms"),
               target_wait_percent=truth.get("cpu_wait_percent"))
    return out


def _rounds(tools: tuple[str, ...], rounds: int, warmup: int, run: Callable[[str], Run],
            say: Callable[[str], None]) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {tool: [] for tool in tools}
    for round_ in range(warmup + rounds):
        for tool in rotated(tools, round_):  # interleaved, in a rotated order
            done = run(tool)
            runs[tool].append(done)
            say(f"   round {round_ + 1}{' (warm-up, discarded)' if round_ < warmup else ''}, "
                f"{tool}: p50 {done.get('p50_ms')} ms, p99 {done.get('p99_ms')} ms")
    return runs


def _gap_rows(number: int, label: str, runs: dict[str, list[Run]], warmup: int,
              machine: str, row: Callable[..., Any]) -> list[Any]:
    rows = []
    for name in ("p50", "p99"):
        medians = {t: median_of([r.get(f"{name}_ms") for r in v], warmup) for t, v in runs.items()}
        ours, theirs = medians["harness"][0], medians["wrk"][0]
        judged = medians["harness"][1] and medians["wrk"][1]
        gap = abs(ours - theirs) if ours is not None and theirs is not None else None
        met = (gap <= 1.0) if judged and gap is not None else None
        ratio = f"harness {name} {'—' if gap is None else f'{gap:.2f}'} ms from wrk's"
        if not judged:
            ratio += " (fewer than 3 rounds: not judged)"
        rows.append(row(number, f"{name}, ms ({label})",
                        *(_fmt(medians[t][0]) for t in TOOLS), ratio, "≤ 1 ms from wrk", met,
                        machine))
    return rows


def _target_rows(number: int, runs: dict[str, list[Run]], warmup: int, machine: str,
                 row: Callable[..., Any]) -> list[Any]:
    """The p50 and p99 the target itself measured from each request's arrival (the kernel's
    stamp) to its reply, under each tool: the system as a perfect client would see it. A
    tool's percentile over its own run's is that tool's error; the target's under one tool
    against another's is what the tool's own CPU cost the target (both share this machine's
    cores)."""
    rows = []
    for name in ("p50", "p99"):
        truth = {t: median_of([r.get(f"replied_{name}_ms") for r in v], warmup)[0]
                 for t, v in runs.items()}
        errors = {t: median_of([None if r.get(f"{name}_ms") is None
                                or r.get(f"replied_{name}_ms") is None
                                else float(r[f"{name}_ms"]) - float(r[f"replied_{name}_ms"])
                                for r in v], warmup)[0] for t, v in runs.items()}
        said = ", ".join(f"{t} {errors[t]:+.2f}" for t in ("harness", "wrk")
                         if errors[t] is not None)
        rows.append(row(number, f"{name} the target measured from each request's arrival to "
                        "its reply, ms (under each tool)", *(_fmt(truth[t]) for t in TOOLS),
                        f"each tool's {name} over the target's own in the same run: "
                        f"{said or '—'} ms", "(splits the gap to wrk: the tool's error, or the "
                        "target slowed; no goal)", None, machine))
    waits = {t: median_of([r.get("target_wait_percent") for r in v], warmup)[0]
             for t, v in runs.items()}
    rows.append(row(number, "the target's loop waiting for a core, % of the time it served "
                    "(under each tool; the kernel's run-queue wait)",
                    *(_fmt(waits[t]) for t in TOOLS), "what each tool's CPU took from the "
                    "target on the shared cores", "(why the target slowed; no goal)", None,
                    machine))
    return rows


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def closed_fidelity(seconds: float, rounds: int, warmup: int, folder: Path,
                    say: Callable[[str], None], row: Callable[..., Any]) -> tuple[list[Any], Any]:
    say(f"2. latency, closed model: {CLOSED_USERS} users against a fixed {CLOSED_DELAY_MS} ms "
        "delay …")
    machine = Machine()
    runs = _rounds(TOOLS, rounds, warmup, lambda tool: _one(
        tool, folder, path=f"/delay/{CLOSED_DELAY_MS}", seconds=seconds, users=CLOSED_USERS,
        rate=None), say)
    window = machine.close()
    rows = _gap_rows(2, f"{CLOSED_USERS} users, {CLOSED_DELAY_MS} ms server", runs, warmup,
                     window.text(), row)
    rows += _target_rows(2, runs, warmup, window.text(), row)
    return rows, {"runs": runs, "machine": window}


def open_fidelity(seconds: float, rounds: int, warmup: int, folder: Path,
                  say: Callable[[str], None], row: Callable[..., Any]) -> tuple[list[Any], Any]:
    say(f"7. latency, open model: {OPEN_RATE:,.0f} req/s against a fixed {OPEN_DELAY_MS} ms "
        f"delay, harness with --workers {OPEN_WORKERS} …")
    machine = Machine()
    floor = pauses.measure(PAUSE_SECONDS)  # before the load, on the idle machine
    runs = _rounds(TOOLS, rounds, warmup, lambda tool: _one(
        tool, folder, path=f"/delay/{OPEN_DELAY_MS}", seconds=seconds, users=CLOSED_USERS,
        rate=OPEN_RATE), say)
    window = machine.close()
    text = window.text()
    rows = _gap_rows(7, f"{OPEN_RATE:,.0f} req/s, {OPEN_DELAY_MS} ms server, 2 workers", runs,
                     warmup, text, row)
    rows += _target_rows(7, runs, warmup, text, row)
    ours = runs["harness"]
    lag, judged = median_of([r.get("lag_p99_ms") for r in ours], warmup)
    cpu = max((r.get("lag_cpu", 0.0) for r in ours[warmup:]), default=0.0)
    gc_ms = median_of([r.get("worst_gc_ms") for r in ours], warmup)[0]
    wait = median_of([r.get("worst_wait_percent") for r in ours], warmup)[0]
    made = (f"; in that interval the longest GC pause {_fmt(gc_ms)} ms and the loop waited for "
            f"a core {_fmt(wait)} % of the time (medians)")
    rows.append(row(8, f"event-loop lag p99, ms, worst interval at ≤ {LAG_CPU_LIMIT:g} % of a "
                       f"generator core (open-model run; busiest such interval {cpu:.0f} %)",
                    _fmt(lag), "—", "—", "—",
                    "median of rounds" + ("" if judged else " (fewer than 3: not judged)") + made,
                    "≤ 2 ms", (lag <= 2.0) if judged and lag is not None else None, text))
    rows.append(floor_row(floor, text, row))
    pause, judged = median_of([r.get("gc_pause_max_ms") for r in ours], warmup)
    rows.append(row(9, "longest garbage-collection pause in a generator, ms (open-model run)",
                    _fmt(pause), "—", "—", "—", "heap frozen after spawn", "(cause of lag, "
                    "no goal)", None, text))
    return rows, {"runs": runs, "machine": window, "pauses": [asdict(p) for p in floor]}


def floor_row(floor: Sequence[pauses.Pauses], machine: str, row: Callable[..., Any]) -> Any:
    """What a loop alone on each idle core lost: the lag no generator can read below."""
    kind = "realtime" if all(p.realtime for p in floor) else "not realtime (no permission)"
    worst = max(floor, key=lambda p: p.over_2ms_per_second(), default=None)
    measured = "—" if worst is None else (
        f"{worst.over_2ms_per_second():.2f}/s over 2 ms, longest "
        f"{max(p.longest_ms for p in floor):.2f} ms")
    return row(8, f"pauses a spinning loop alone on each idle core saw ({kind}; the floor "
               "under the lag)", measured, "—", "—", "—",
               ", ".join(f"core {p.cpu}: {p.over_2ms} over 2 ms in {p.spun_seconds:g} s"
                         for p in floor) or "—", "(the machine's; no goal)", None, machine)


SWEEP_RATES = (250.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0)


def onset(points: Sequence[dict[str, float]]) -> dict[str, float] | None:
    """The first sweep point (by rate) where the generator adds latency: its event-loop lag
    p99 above 2 ms, or its p99 more than 1 ms over what the server held."""
    return next((p for p in points if p["lag_p99_ms"] > 2.0 or p["added_p99_ms"] > 1.0), None)


def guard_fires(point: dict[str, float]) -> bool:
    """Whether the harness would keep the latency the generator added at this point from
    failing a check: the saturation guard (harness.load.health) calls it saturated, or the lag
    the checks allow for (`check_lag_ms`: harness.load.health.generator_lag_ms) covers what it
    added, so that a fail by that much is untrusted (harness.verify.slo.lag_untrusted)."""
    from harness.load.health import CPU_LIMIT_PERCENT, LOOP_LAG_LIMIT_MS

    saturated = point["cpu"] >= CPU_LIMIT_PERCENT or point["lag_p50_ms"] >= LOOP_LAG_LIMIT_MS
    return saturated or point["added_p99_ms"] < point["check_lag_ms"]


def saturation_sweep(rates: tuple[float, ...], seconds: float, folder: Path,
                     say: Callable[[str], None], row: Callable[..., Any]) -> tuple[list[Any], Any]:
    """One generator at rising arrival rates against the 5 ms server: per rate its CPU and
    event-loop lag, and the p99 it adds over what the server itself held. The guard's limits
    should sit where the added latency starts, not where a guess put them. The generator runs
    as `harness run` runs one (nice -10, not realtime)."""
    from harness.load.health import CPU_LIMIT_PERCENT, LOOP_LAG_LIMIT_MS, generator_lag_ms

    say(f"11. saturation sweep: one generator at {', '.join(f'{r:g}' for r in rates)} req/s …")
    machine = Machine()
    points = []
    for rate in rates:
        with PythonTarget() as target:
            stages = plan_stages([Stage(duration=seconds, rate=rate, steady=True)], (0,))
            _, load = harness_load(url=target.url, locust_file=locustfile(folder, f"/delay/"
                                   f"{OPEN_DELAY_MS}", 1.0), workers=0, stages=stages,
                                   work_dir=folder / f"sweep-{rate:g}")
            truth = target.stats()
        stats = aggregate(in_window(load.intervals, 0, seconds))
        samples = [g for i in in_window(load.intervals, 0, seconds) for g in i.generators]
        cpu = max((g.cpu_percent for g in samples), default=0.0)
        lag99 = max((g.loop_lag_p99_ms for g in samples), default=0.0)
        lag50 = max((g.loop_lag_p50_ms for g in samples), default=0.0)
        added = stats.latency.p99_ms - float(truth.get("p99_ms") or 0.0)  # type: ignore[arg-type]
        points.append({"rate": rate, "cpu": cpu, "lag_p50_ms": lag50, "lag_p99_ms": lag99,
                       # as the checks of an arrival-rate run take it (from the intended send)
                       "check_lag_ms": generator_lag_ms(in_window(load.intervals, 0, seconds),
                                                        from_intended=True),
                       "added_p99_ms": round(added, 2), "achieved_rps": stats.rps})
        say(f"   {rate:g} req/s: CPU {cpu:.0f} %, lag p50 {lag50} / p99 {lag99} ms, p99 "
            f"{added:+.2f} ms over the server's")
    text = machine.close().text()
    first = onset(points)
    measured = "never within the sweep" if first is None else (
        f"at {first['cpu']:.0f} % CPU ({first['rate']:g} req/s; lag p50 {first['lag_p50_ms']} / "
        f"p99 {first['lag_p99_ms']} ms, p99 {first['added_p99_ms']:+g} ms over the server's)")
    met = None if first is None else guard_fires(first)
    rows = [row(11, "generator adds latency (lag p99 > 2 ms or p99 +1 ms) first", measured, "—",
                "—", "—", f"saturated at ≥ {CPU_LIMIT_PERCENT:g} % CPU or lag p50 ≥ "
                f"{LOOP_LAG_LIMIT_MS:g} ms; below, a fail within the lag p99 is untrusted",
                "the guard covers what it added at that onset", met, text)]
    return rows, {"points": points, "machine": text}
