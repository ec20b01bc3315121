from dataclasses import replace

from harness.load.health import (
    priority_text,
    saturated,
    saturated_intervals,
    saturation_evidence,
    suggested_workers,
    summarize_generators,
)
from harness.load.priority import GENERATOR_NICE
from harness.load.records import GeneratorSample, Interval


def sample(name="local", cpu=30.0, lag=0.5, intended=0.0, sent=0):
    return GeneratorSample(name, cpu, loop_lag_p99_ms=lag * 4, loop_lag_max_ms=lag * 5,
                           loop_lag_p50_ms=lag, users=10, intended=intended, sent=sent,
                           rss_mb=60.0)


def interval(start, *generators):
    return Interval(start, start + 2, 10, (), tuple(generators))


def test_cpu_or_a_steadily_lagging_loop_is_saturation():
    assert not saturated(interval(0, sample(cpu=85, lag=1)))
    assert saturated(interval(0, sample(cpu=97)))
    # little CPU but the loop waits: starved of its core by other processes
    assert saturated(interval(0, sample(cpu=20, lag=12)))
    # one busy worker is enough
    assert saturated(interval(0, sample("worker-0"), sample("worker-1", cpu=99)))


def test_evidence_names_the_worst_sample_per_generator():
    run = [interval(0, sample(cpu=95)), interval(2, sample(cpu=99, lag=7)), interval(4, sample())]
    text = saturation_evidence(run)
    assert text.startswith("2 of 3 intervals (local: CPU 99 %, event-loop lag median 7 ms")
    assert saturation_evidence([interval(0, sample())]) == ""


def test_the_wind_down_after_the_planned_end_is_not_judged():
    run = [interval(0, sample()), interval(2, sample(cpu=100))]
    assert saturated_intervals(run) == run[1:]
    assert saturated_intervals(run, until=2.0) == []


def test_suggested_workers_keep_each_near_70_percent():
    assert suggested_workers([interval(0, sample(cpu=100))], workers=0) == 2
    busy = interval(0, sample("worker-0", cpu=100), sample("worker-1", cpu=100))
    assert suggested_workers([busy], workers=2) == 3
    assert suggested_workers([interval(0, sample(cpu=30))], workers=0) == 1


def test_summary_advises_more_workers_or_explains_a_rate_shortfall():
    hot = summarize_generators([interval(0, sample(cpu=99)), interval(2, sample())], workers=0)
    assert hot.saturated and hot.saturated_intervals == 1
    assert "--workers 2" in (hot.advice or "")
    row = hot.generators[0]
    assert (row.generator, row.peak_cpu_percent, row.mean_cpu_percent) == ("local", 99.0, 64.5)

    behind = summarize_generators(
        [interval(0, sample(intended=200, sent=150)), interval(2, sample(intended=200, sent=150))],
        workers=0,
    )
    assert not behind.saturated
    assert (behind.intended_rps, behind.achieved_rps) == (100.0, 75.0)
    assert "held every concurrent request" in (behind.advice or "")

    fine = summarize_generators([interval(0, sample(intended=200, sent=199))], workers=0)
    assert fine.advice is None and fine.intended_rps == 100.0


def test_the_summary_keeps_the_least_priority_a_generator_had_and_says_so():
    ahead = replace(sample(), nice=GENERATOR_NICE)
    behind = replace(ahead, nice=0)
    summary = summarize_generators([interval(0, ahead), interval(2, behind)], 0)
    assert [g.nice for g in summary.generators] == [0]
    assert priority_text(summary.generators).startswith(
        "not prioritised over the stack (local at nice 0;")
    prioritised = summarize_generators([interval(0, ahead), interval(2, ahead)], 0)
    assert priority_text(prioritised.generators).startswith(
        f"ran at nice {GENERATOR_NICE}, ahead of the stack for CPU")


def test_the_wait_for_a_core_is_summarised_and_said():
    waits = [replace(sample(), nice=GENERATOR_NICE, cpu_wait_percent=w) for w in (2.0, 6.0, None)]
    summary = summarize_generators([interval(t * 2, s) for t, s in enumerate(waits)], 0)
    row = summary.generators[0]
    assert (row.mean_cpu_wait_percent, row.peak_cpu_wait_percent) == (4.0, 6.0)
    assert priority_text(summary.generators).endswith(
        "; local still waited for a core 4.0 % of the time (6.0 % in its worst interval)")
    unknown = summarize_generators([interval(0, replace(sample(), nice=GENERATOR_NICE))], 0)
    assert unknown.generators[0].mean_cpu_wait_percent is None
    assert priority_text(unknown.generators).endswith(
        "; how long it waited for a core was not measured (the OS does not say)")


def test_a_realtime_generator_is_said_to_run_realtime():
    rt = replace(sample(), nice=GENERATOR_NICE, realtime=True)
    summary = summarize_generators([interval(0, rt), interval(2, rt)], 0)
    assert summary.generators[0].realtime
    assert priority_text(summary.generators).startswith(
        "ran realtime (SCHED_FIFO), ahead of the stack for CPU")
    # one interval without it: not claimed for the run
    mixed = summarize_generators([interval(0, rt), interval(2, replace(rt, realtime=False))], 0)
    assert not mixed.generators[0].realtime
    assert priority_text(mixed.generators).startswith(f"ran at nice {GENERATOR_NICE}, ahead")
    two = summarize_generators([interval(0, rt, replace(rt, generator="worker-1",
                                                        realtime=False))], 2)
    assert priority_text(two.generators).startswith(
        f"ran local realtime, worker-1 at nice {GENERATOR_NICE}, ahead of the stack")


def test_the_generators_lag_is_the_median_intervals_p99_before_the_planned_end():
    from harness.load.health import generator_lag_ms

    # the helper's p99 is lag * 4; per interval the busiest generator counts
    rows = [interval(0, sample(lag=0.5)), interval(2, sample(lag=1.0), sample("w", lag=0.25)),
            interval(4, sample(lag=9.0)), interval(6)]
    assert generator_lag_ms(rows) == 4.0  # median of 2, 4 and 36 (no generator at 6 s)
    assert generator_lag_ms(rows, until=4.0) == 3.0  # median of 2 and 4
    assert generator_lag_ms([]) == 0.0


def test_the_share_of_responses_timed_to_their_arrival_is_summarised_and_said():
    timed = [replace(sample(), responses=100, kernel_timed=k) for k in (100, 90)]
    row = summarize_generators([interval(t * 2, s) for t, s in enumerate(timed)], 0).generators[0]
    assert row.kernel_timed_percent == 95.0
    assert priority_text((row,)).endswith(
        "; 95.0 % of requests were timed from their send to their response's arrival (the "
        "kernel's receive stamp); the rest by the generator's clock, which adds its own delays")
    every = replace(row, kernel_timed_percent=100.0)
    assert "every request was timed from its send to its response's arrival" in \
        priority_text((every,))
    almost = replace(sample(), responses=10_000, kernel_timed=9_999)
    row = summarize_generators([interval(0, almost)], 0).generators[0]
    assert row.kernel_timed_percent == 99.9  # not rounded up to "every"
    silent = summarize_generators([interval(0, sample())], 0).generators[0]
    assert silent.kernel_timed_percent is None  # no responses recorded: nothing said
    assert "timed to" not in priority_text((silent,))
