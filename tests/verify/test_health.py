"""The run's health checks: a replica that exits unexpectedly, one whose metrics stop answering,
and a load worker that dies."""

from __future__ import annotations

from harness.collect.scrape import Scrape
from harness.load.records import GeneratorSample, Interval, LoadResult
from harness.stack.controller import ReplicaEvent
from harness.verify.check import Verdict
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
                      generator_notes=("load worker 2 exited with status -9 during the run",))
    check = generators_check(load)
    assert check is not None and check.verdict is Verdict.UNTRUSTED
    assert "worker-1 stopped reporting at 20s of 40s" in check.evidence
    healthy = LoadResult(T0, T0 + 40, tuple(at(t, both) for t in range(0, 40, 2)), (), (),
                         workers=2)
    assert generators_check(healthy).verdict is Verdict.PASS
    assert generators_check(LoadResult(T0, T0 + 1, (), (), ())) is None
