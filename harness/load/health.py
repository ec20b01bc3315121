"""Is the load generator itself the bottleneck? The self-saturation guard.

A generator that runs out of CPU notices responses late (its event loop lags), so it reports the
latency it made, not the system's, and it sends less than it was asked to. Per generator and per
interval the harness records CPU (of one core: a generator is one gevent loop), event-loop lag
(how late a 50 ms timer fired) and, in arrival-rate stages, the sends due against those made.
An interval in which any generator crossed a limit below is *saturated*; the latency checks of a
window holding one are marked untrusted instead of passing or failing the system.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.load.priority import GENERATOR_NICE
from harness.load.records import GeneratorSample, Interval

__all__ = [
    "CPU_LIMIT_PERCENT",
    "LOOP_LAG_LIMIT_MS",
    "RATE_SHORTFALL",
    "GeneratorRow",
    "GeneratorSummary",
    "generator_lag_ms",
    "limits_text",
    "priority_text",
    "saturated",
    "saturated_intervals",
    "saturation_evidence",
    "suggested_workers",
    "summarize_generators",
]

# Locust itself warns above 90 % CPU; past it the loop has no slack left.
CPU_LIMIT_PERCENT = 90.0
# When half the loop's timer wake-ups come 5 ms late or more, the loop is busy or starved of its
# core all the time (a healthy loop: well under 1 ms), and every response waits that long to be
# noticed: latency the system did not make. (The p99 lag is shown too; alone it is mostly other
# processes' noise on a shared machine, so it does not decide.)
LOOP_LAG_LIMIT_MS = 5.0
# Sending less than 95 % of the sends due is shown (achieved vs intended); it is the system's
# doing, not the generator's, unless CPU or lag say otherwise (corrected latency counts it).
RATE_SHORTFALL = 0.95
# How much of a core a generator should use at most when sizing workers.
_COMFORTABLE_CPU = 70.0


def limits_text() -> str:
    """The saturation limits in words, for reports."""
    return (f"CPU ≥ {CPU_LIMIT_PERCENT:g} % of a core, or event-loop lag median "
            f"≥ {LOOP_LAG_LIMIT_MS:g} ms")


def priority_text(rows: Sequence[GeneratorRow]) -> str:
    """Whether the generators ran ahead of the stack for CPU (harness.load.priority), and how
    long they still waited for a core."""
    behind = [r for r in rows if not r.realtime and r.nice > GENERATOR_NICE]
    if not behind:
        kinds = {r.priority for r in rows}
        how = ("realtime (SCHED_FIFO)" if kinds == {"realtime"} else
               f"at nice {GENERATOR_NICE}" if "realtime" not in kinds else
               ", ".join(f"{r.generator} {'' if r.realtime else 'at '}{r.priority}"
                         for r in rows))
        said = (f"ran {how}, ahead of the stack for CPU (time a generator waits for a core is "
                f"added to the latencies it records)")
    else:
        names = ", ".join(f"{r.generator} at nice {r.nice}" for r in behind)
        said = (f"not prioritised over the stack ({names}; the generator's log says why): time "
                f"it waited for a core is in its latencies")
    return said + _wait_text(rows) + _timing_text(rows)


def _wait_text(rows: Sequence[GeneratorRow]) -> str:
    waits = [r for r in rows if r.mean_cpu_wait_percent is not None]
    if not waits:
        return "; how long it waited for a core was not measured (the OS does not say)"
    worst = max(waits, key=lambda r: r.mean_cpu_wait_percent or 0.0)
    return (f"; {worst.generator} still waited for a core {worst.mean_cpu_wait_percent:.1f} % "
            f"of the time ({worst.peak_cpu_wait_percent or 0.0:.1f} % in its worst interval)")


def _kernel_timed(samples: Sequence[GeneratorSample]) -> float | None:
    responses = sum(s.responses for s in samples)
    if not responses:
        return None
    timed = sum(s.kernel_timed for s in samples)
    # 100 only when every one was: rounding must not say "every" of 99.96 %.
    return 100.0 if timed == responses else min(round(100.0 * timed / responses, 1), 99.9)


def _timing_text(rows: Sequence[GeneratorRow]) -> str:
    timed = [r.kernel_timed_percent for r in rows if r.kernel_timed_percent is not None]
    if not timed:
        return ""
    share = min(timed)
    if share == 100.0:
        return ("; every request was timed from its send to its response's arrival (the "
                "kernel's receive stamp), so the generator's own delays around them are not in "
                "the latencies")
    return (f"; {share:.1f} % of requests were timed from their send to their response's "
            f"arrival (the kernel's receive stamp); the rest by the generator's clock, which "
            f"adds its own delays")


def _mean_wait(samples: Sequence[GeneratorSample]) -> float | None:
    waits = [s.cpu_wait_percent for s in samples if s.cpu_wait_percent is not None]
    return round(sum(waits) / len(waits), 2) if waits else None


def _reasons(sample: GeneratorSample) -> list[str]:
    reasons = []
    if sample.cpu_percent >= CPU_LIMIT_PERCENT:
        reasons.append(f"CPU {sample.cpu_percent:.0f} %")
    if sample.loop_lag_p50_ms >= LOOP_LAG_LIMIT_MS:
        reasons.append(
            f"event-loop lag median {sample.loop_lag_p50_ms:.0f} ms, "
            f"p99 {sample.loop_lag_p99_ms:.0f} ms"
        )
    return reasons


def saturated(interval: Interval) -> bool:
    """Whether any generator crossed the CPU or event-loop-lag limit in this interval."""
    return any(_reasons(g) for g in interval.generators)


def saturated_intervals(
    intervals: Sequence[Interval], until: float | None = None
) -> list[Interval]:
    """The saturated intervals; with `until` (the planned end of the load), not the wind-down
    after it, where stopping every user costs CPU but no request is judged."""
    return [i for i in intervals if saturated(i) and (until is None or i.start < until)]


def generator_lag_ms(intervals: Sequence[Interval], until: float | None = None, *,
                     from_intended: bool = False) -> float:
    """How much a generator's own event loop added to the latencies of these intervals at
    their p99: the median of the intervals' lag p99s (the busiest generator's in each; ms, 0
    without generator samples). A response timed by the loop waited that long to be noticed,
    and a paced send (latency `from_intended` send time) left that late; the lag only ever
    adds. The median, because one interval's hiccup (a spawn, a stop) reaches only that
    interval's requests, not the window's p95 or p99. None of it is in latency from the actual
    send when every response was timed to its arrival (harness.load.wire): then 0."""
    chosen = [i for i in intervals if i.generators and (until is None or i.start < until)]
    samples = [g for i in chosen for g in i.generators]
    responses = sum(g.responses for g in samples)
    if not from_intended and responses and sum(g.kernel_timed for g in samples) == responses:
        return 0.0
    worst = sorted(max(g.loop_lag_p99_ms for g in i.generators) for i in chosen)
    return statistics.median(worst) if worst else 0.0


def saturation_evidence(intervals: Sequence[Interval], until: float | None = None) -> str:
    """'3 of 20 intervals (worker-1: CPU 99 %, event-loop lag median 6 ms, p99 41 ms)' or ''."""
    bad = saturated_intervals(intervals, until)
    if not bad:
        return ""
    worst: dict[str, GeneratorSample] = {}
    for interval in bad:
        for sample in interval.generators:
            if _reasons(sample):
                known = worst.get(sample.generator)
                if known is None or (sample.cpu_percent, sample.loop_lag_p99_ms) > (
                    known.cpu_percent, known.loop_lag_p99_ms
                ):
                    worst[sample.generator] = sample
    parts = "; ".join(f"{name}: {', '.join(_reasons(s))}" for name, s in sorted(worst.items()))
    return f"{len(bad)} of {len(intervals)} intervals ({parts})"


def suggested_workers(intervals: Sequence[Interval], workers: int,
                      until: float | None = None) -> int:
    """Workers that would keep every generator near 70 % of a core at the busiest interval."""
    generators = max(workers, 1)
    busiest = 0.0
    for interval in intervals:
        if interval.generators and (until is None or interval.start < until):
            total = sum(g.cpu_percent for g in interval.generators)
            lag = max(g.loop_lag_p50_ms for g in interval.generators)
            # a lagging loop that shows little CPU is starved of its core, not idle
            if lag >= LOOP_LAG_LIMIT_MS:
                total = max(total, CPU_LIMIT_PERCENT * len(interval.generators))
            busiest = max(busiest, total)
    needed = math.ceil(busiest / _COMFORTABLE_CPU) if busiest else generators
    if saturated_intervals(intervals, until):
        return max(needed, generators + 1)
    return max(needed, 1)


@dataclass(frozen=True)
class GeneratorRow:
    """One generator over the whole run."""

    generator: str
    peak_cpu_percent: float
    mean_cpu_percent: float
    loop_lag_p50_ms: float  # the worst interval's
    loop_lag_p99_ms: float  # the worst interval's
    loop_lag_max_ms: float
    peak_rss_mb: float
    saturated_intervals: int
    nice: int = 0  # the least priority it ran at (harness.load.priority)
    realtime: bool = False  # it ran realtime in every interval
    # Share of the time its event loop waited for a core (None where the OS does not say).
    mean_cpu_wait_percent: float | None = None
    peak_cpu_wait_percent: float | None = None  # the worst interval's
    # Share of its responses timed to the kernel's receive stamp (None: it recorded none).
    kernel_timed_percent: float | None = None

    @property
    def priority(self) -> str:
        """How it was scheduled, as the reports say it: "realtime" or "nice -10"."""
        return "realtime" if self.realtime else f"nice {self.nice}"


@dataclass(frozen=True)
class GeneratorSummary:
    """How the load generators fared: for the report, and to say when to add workers."""

    workers: int  # 0: one local process
    intervals: int
    saturated_intervals: int
    intended_rps: float | None  # arrival-rate stages only
    achieved_rps: float | None
    generators: tuple[GeneratorRow, ...]
    advice: str | None = None

    @property
    def saturated(self) -> bool:
        return self.saturated_intervals > 0


def summarize_generators(
    intervals: Sequence[Interval], workers: int, until: float | None = None
) -> GeneratorSummary:
    """Per generator over the run; `until` is the planned end of the load (the wind-down after
    it is left out)."""
    if until is not None:
        intervals = [i for i in intervals if i.start < until]
    rows: dict[str, list[GeneratorSample]] = {}
    for interval in intervals:
        for sample in interval.generators:
            rows.setdefault(sample.generator, []).append(sample)
    table = tuple(
        GeneratorRow(
            generator=name,
            peak_cpu_percent=round(max(s.cpu_percent for s in samples), 1),
            mean_cpu_percent=round(sum(s.cpu_percent for s in samples) / len(samples), 1),
            loop_lag_p50_ms=round(max(s.loop_lag_p50_ms for s in samples), 2),
            loop_lag_p99_ms=round(max(s.loop_lag_p99_ms for s in samples), 2),
            loop_lag_max_ms=round(max(s.loop_lag_max_ms for s in samples), 2),
            peak_rss_mb=round(max(s.rss_mb for s in samples), 1),
            saturated_intervals=sum(1 for s in samples if _reasons(s)),
            nice=max(s.nice for s in samples),
            realtime=all(s.realtime for s in samples),
            mean_cpu_wait_percent=_mean_wait(samples),
            peak_cpu_wait_percent=max((s.cpu_wait_percent for s in samples
                                       if s.cpu_wait_percent is not None), default=None),
            kernel_timed_percent=_kernel_timed(samples),
        )
        for name, samples in sorted(rows.items())
    )
    paced = [i for i in intervals if i.intended > 0]
    elapsed = sum(i.end - i.start for i in paced)
    intended = round(sum(i.intended for i in paced) / elapsed, 2) if elapsed > 0 else None
    achieved = round(sum(i.sent for i in paced) / elapsed, 2) if elapsed > 0 else None
    bad = saturated_intervals(intervals)
    advice = None
    if bad:
        more = suggested_workers(intervals, workers)
        advice = (
            f"The load generator saturated in {saturation_evidence(intervals)}; latency measured "
            f"there is partly the generator's. Run again with --workers {more} "
            f"(one core per worker), or give the generator more CPU."
        )
    elif intended and achieved is not None and achieved < intended * RATE_SHORTFALL:
        advice = (
            f"Sending fell behind the arrival rate ({achieved:g} of {intended:g} req/s) while the "
            f"generators had CPU to spare: the system held every concurrent request. The corrected "
            f"latency counts that wait."
        )
    return GeneratorSummary(
        workers=workers,
        intervals=len(intervals),
        saturated_intervals=len(bad),
        intended_rps=intended,
        achieved_rps=achieved,
        generators=table,
        advice=advice,
    )
