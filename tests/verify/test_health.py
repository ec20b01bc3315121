"""The run's health checks: a replica that exits unexpectedly, one whose metrics stop answering,
and a load worker that dies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.collect.scrape import Scrape
from harness.load.records import GeneratorSample, Interval, LoadResult, WorkerExit
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.health import generators_check, metrics_reachable_check, replica_exit_check

T0 = 1_000_000.0  # the load's start, epoch seconds


def test_an_unexpected_exit_fails_with_what_replaced_it():
    events = [ReplicaEvent(T0 + 5, "replica-1", "exited", "killed by SIGKILL (fault x)", True),
              ReplicaEvent(T0 + 30, "replica-2", "exited", "exited with status 1"),
              ReplicaEvent(T0 + 30.2, "replica-5", "started", "pid 9")]
    check = replica_exit_check(events, T0, 60)
    assert check.verdict is Verdict.FAIL and check.observed == 1
    assert "replica-2 exited with status 1 at 30.0s (replica-5 started at 30.2s)" in check.evidence
    assert replica_exit_check(events[:1], T0, 60).verdict is Verdict.PASS


def test_a_replica_whose_metrics_stop_answering_is_named():
    rows = []
    for t in range(0, 40, 2):
        frozen = 10 <= t <= 20
        rows.append(Scrape(T0 + t, "replica-1", not frozen, (),
                           "ReadTimeout: timed out" if frozen else None))
        rows.append(Scrape(T0 + t, "replica-2", True, ()))
    rows.append(Scrape(T0 + 30, "replica-3", False, (), "ConnectError"))  # a kill: one miss
    check = metrics_reachable_check(rows, T0, 40)
    assert check.verdict is Verdict.FAIL and check.observed == 1
    assert "replica-1 did not answer 6 scrapes in a row from 10s to 20s (ReadTimeout" in \
        check.evidence
    healthy = [r for r in rows if r.replica != "replica-1"]
    assert metrics_reachable_check(healthy, T0, 40).verdict is Verdict.PASS


def test_a_load_worker_that_died_leaves_the_run_untrusted():

    def at(start: float, names: tuple[str, ...]) -> Interval:
        return Interval(start, start + 2, 10, (),
                        tuple(GeneratorSample(n, 5.0, 1.0, 2.0) for n in names))

    both = ("worker-0", "worker-1")
    rows = [at(t, both if t < 20 else both[:1]) for t in range(0, 40, 2)]
    load = LoadResult(T0, T0 + 40, tuple(rows), (), (), workers=2,
                      worker_exits=(WorkerExit(2, -9),))
    check = generators_check(load)
    assert check is not None and check.verdict is Verdict.UNTRUSTED
    assert "worker-1 stopped reporting at 20s of 40s" in check.evidence
    healthy = LoadResult(T0, T0 + 40, tuple(at(t, both) for t in range(0, 40, 2)), (), (),
                         workers=2)
    assert generators_check(healthy).verdict is Verdict.PASS
    assert generators_check(LoadResult(T0, T0 + 1, (), (), ())) is None


# ---------------------------------------------------------------- what each check records
# (mutation testing found ids, units, windows, thresholds and bounds unpinned)

def _record(check: CheckResult) -> CheckResult:
    """The check without its evidence sentence: ids, numbers, unit, window and verdict."""
    return replace(check, evidence="")


def test_metrics_reachable_records_its_id_unit_window_and_count_of_replicas():
    rows = [Scrape(T0 + t, name, False, (), "ConnectError")
            for t in (0, 2, 4) for name in ("replica-2", "replica-1")]
    check = metrics_reachable_check(rows, T0, 40.12345)
    assert _record(check) == CheckResult(
        "collect.metrics-reachable", "Every replica's metrics endpoint answered", Verdict.FAIL,
        2.0, 0.0, "replicas", "<=", Window(0.0, 40.123, "whole run"), "")
    assert check.evidence.index("replica-1") < check.evidence.index("; replica-2")


def test_metrics_reachable_fails_at_exactly_three_misses_in_a_row_and_names_the_last_error():
    errors = ("ConnectError", None, "ReadTimeout")
    rows = [Scrape(T0 + 2 * i, "replica-1", False, (), e) for i, e in enumerate(errors)]
    check = metrics_reachable_check(rows + [Scrape(T0 + 6, "replica-1", True, ())], T0, 10)
    assert check.verdict is Verdict.FAIL
    assert "3 scrapes in a row from 0s to 4s (ReadTimeout)" in check.evidence
    unnamed = [Scrape(T0 + t, "replica-1", False, ()) for t in (0, 2, 4)]
    assert "(no answer)" in metrics_reachable_check(unnamed, T0, 10).evidence
    assert metrics_reachable_check(rows[:2], T0, 10).verdict is Verdict.PASS


def test_metrics_reachable_passes_with_its_counts_and_skips_when_nothing_was_scraped():
    rows = [Scrape(T0 + t, "replica-1", t != 4, ()) for t in range(0, 2000, 2)]
    check = metrics_reachable_check(list(reversed(rows)), T0, 2000)
    assert _record(check) == CheckResult(
        "collect.metrics-reachable", "Every replica's metrics endpoint answered", Verdict.PASS,
        0.0, 0.0, "replicas", "<=", Window(0.0, 2000.0, "whole run"), "")
    assert "1,000 scrapes, 1 failed, never 3 in a row" in check.evidence
    skipped = metrics_reachable_check([], T0, 40)
    assert skipped == CheckResult(
        "collect.metrics-reachable", "Every replica's metrics endpoint answered", Verdict.SKIPPED,
        None, None, "scrapes", "<=", Window(0.0, 40.0, "whole run"), "nothing was scraped",
        "nothing was scraped")


def _generators(last_seen: dict[str, float], *, workers: int = 2,
                exits: tuple[WorkerExit, ...] = (), late: int = 0) -> LoadResult:
    rows = [Interval(t, t + 2, 10, (), tuple(GeneratorSample(n, 5.0, 1.0, 2.0)
                                             for n, until in last_seen.items() if t + 2 <= until))
            for t in range(0, 40, 2)]
    return LoadResult(T0, T0 + 40.25, tuple(rows), (), (), workers=workers,
                      worker_exits=exits, late_reports=late)


def test_a_generator_is_gone_only_when_silent_for_more_than_two_intervals():
    at_the_bound = _generators({"worker-0": 40, "worker-1": 36})  # 2 x 2 s before the end
    check = generators_check(at_the_bound)
    assert check is not None
    assert _record(check) == CheckResult(
        "load.generators", "Every load generator ran to the end", Verdict.PASS, 0.0, 0.0,
        "workers", "<=", Window(0.0, 40.25, "whole run"), "")
    assert check.evidence.startswith("2 generators")
    gone = generators_check(_generators({"worker-0": 40, "worker-1": 34}))
    assert gone is not None and gone.verdict is Verdict.UNTRUSTED
    assert "worker-1 stopped reporting at 34s of 40s" in gone.evidence
    assert gone.observed == 1.0  # one worker gone, none exited, no late report


def test_a_worker_that_exited_or_whose_last_report_was_lost_leaves_the_run_untrusted():
    exited = generators_check(_generators({"worker-0": 40, "worker-1": 40},
                                          exits=(WorkerExit(2, -9),)))
    assert exited is not None
    assert _record(exited) == CheckResult(
        "load.generators", "Every load generator ran to the end", Verdict.UNTRUSTED, 1.0, 0.0,
        "workers", "<=", Window(0.0, 40.25, "whole run"), "")
    assert exited.evidence.startswith("load worker 2 exited with status -9 during the run; ")
    # Its final report never arrived: its last requests (failures among them) are uncounted.
    lost = generators_check(_generators({"worker-0": 40, "worker-1": 40}, late=1))
    assert lost is not None and lost.verdict is Verdict.UNTRUSTED and lost.observed == 1.0
    assert lost.evidence.startswith("1 load worker(s) did not send their final report: the "
                                    "requests they made after their last report are not counted")
def test_one_worker_is_judged_and_no_workers_is_not():
    assert generators_check(_generators({"worker-0": 40}, workers=1)) is not None
    assert generators_check(_generators({"worker-0": 40}, workers=0)) is None


def test_replica_exits_count_only_the_exits_the_harness_caused():
    events = [ReplicaEvent(T0 + 5, "replica-1", "exited", "killed (fault x)", True),
              ReplicaEvent(T0 + 6, "replica-4", "started", "pid 8", True),
              ReplicaEvent(T0 + 7, "replica-5", "started", "pid 9", True)]
    check = replica_exit_check(events, T0, 60.25)
    assert _record(check) == CheckResult(
        "stack.replica-exits", "No replica exited unexpectedly", Verdict.PASS, 0.0, 0.0,
        "exits", "<=", Window(0.0, 60.25, "whole run"), "")
    assert "1 caused by faults" in check.evidence


@pytest.mark.parametrize("event", ["started", "ready", "not-started"])
def test_a_crash_is_reported_with_what_came_next_even_in_the_same_instant(event):
    events = [ReplicaEvent(T0 + 30, "replica-2", "exited", "exited with status 1"),
              ReplicaEvent(T0 + 30, "replica-5", event),
              ReplicaEvent(T0 + 40, "replica-3", "exited", "exited with status 2")]
    check = replica_exit_check(events, T0, 60)
    assert _record(check) == CheckResult(
        "stack.replica-exits", "No replica exited unexpectedly", Verdict.FAIL, 2.0, 0.0,
        "exits", "<=", Window(0.0, 60.0, "whole run"), "")
    assert check.evidence == (f"replica-2 exited with status 1 at 30.0s (replica-5 {event} at "
                              "30.0s); replica-3 exited with status 2 at 40.0s")


def test_evidence_of_many_crashes_is_cut_at_900_characters():
    events = [ReplicaEvent(T0 + t, f"replica-{t}", "exited", "exited with status 1")
              for t in range(100)]
    assert len(replica_exit_check(events, T0, 100).evidence) == 900
