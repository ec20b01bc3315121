"""Fault checks on synthetic runs: availability within the fault's budget, time to recover,
replacement, pool reconnect, Redis fallback and retries, and unexpected replica exits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.collect.scrape import MetricSample, Scrape
from harness.collect.series import ServerSeries
from harness.config.faults import FaultObjectives
from harness.config.model import SloSpec
from harness.faults.records import FaultEvent, Outcome
from harness.load.records import LoadResult
from harness.stack.controller import ReplicaEvent
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.faults import fault_checks, fault_spans, recovery, without_fault_windows
from tests.load.helpers import interval

T0 = 1_000_000.0  # the load's start, epoch seconds
NAME = "GET /api/tickets/{id}"


def run(bad: dict[int, tuple[int, float]] | None = None, seconds: int = 120) -> LoadResult:
    """Two-second intervals of 100 requests at 20 ms; `bad` maps an interval's start to
    (failures, latency in ms) for that interval."""
    intervals = []
    for start in range(0, seconds, 2):
        failures, ms = (bad or {}).get(start, (0, 20.0))
        intervals.append(interval(start, start + 2, {NAME: [ms] * 100}, {NAME: failures}))
    return LoadResult(T0, T0 + seconds, tuple(intervals), (), ())


def event(kind: str, at: float, lifted: float | None = None, **facts) -> FaultEvent:
    return FaultEvent(f"{kind}-1", kind, at, Outcome.INJECTED, T0 + at,
                      T0 + (at if lifted is None else lifted), "test", facts)


def by_id(checks):
    return {c.id: c for c in checks}


def test_a_fault_without_effect_passes_availability_and_recovers_at_once():
    checks = by_id(fault_checks(run(), [event("kill-replica", 40.5)], SloSpec()))
    availability = checks["faults.kill-replica-1.availability"]
    assert availability.verdict is Verdict.PASS and availability.observed == 100.0
    assert availability.threshold == pytest.approx(99.5)
    assert checks["faults.kill-replica-1.recovery"].observed == 0.0


def test_errors_during_the_fault_spend_its_budget_and_recovery_is_timed():
    # 40-50 s: every request fails; from 50 s on, back to normal.
    load = run({t: (100, 20.0) for t in range(40, 50, 2)})
    found = by_id(fault_checks(load, [event("stop-redis", 40.0, 44.0)], SloSpec()))
    availability = found["faults.stop-redis-1.availability"]
    assert availability.verdict is Verdict.FAIL
    assert availability.observed == pytest.approx(100 - 500 / 17, abs=0.01)  # 40-74 s window
    recovered = found["faults.stop-redis-1.recovery"]
    assert recovered.observed == pytest.approx(6.0)  # back at 50 s, lifted at 44 s
    assert recovered.verdict is Verdict.PASS


def test_a_bigger_budget_for_the_kind_lets_the_same_fault_pass():
    load = run({40: (100, 20.0)})
    spec = SloSpec(faults=FaultObjectives(kinds={"restart-postgres": {"budget_percent": 10}}))
    found = by_id(fault_checks(load, [event("restart-postgres", 40.0, 41.0)], spec))
    assert found["faults.restart-postgres-1.availability"].verdict is Verdict.PASS


def test_high_latency_counts_as_not_recovered_and_a_service_that_never_comes_back_fails():
    slow = run({t: (0, 900.0) for t in range(40, 70, 2)})
    found = recovery(slow, event("slow-database", 40.0, 50.0), SloSpec(), hold=10, horizon=120)
    assert found.recovered_at == pytest.approx(70.0) and found.seconds == pytest.approx(20.0)
    broken = run({t: (100, 20.0) for t in range(40, 120, 2)})
    checks = by_id(fault_checks(broken, [event("restart-postgres", 40.0, 41.0)], SloSpec()))
    recovered = checks["faults.restart-postgres-1.recovery"]
    assert recovered.verdict is Verdict.FAIL and recovered.observed is None
    assert "not back" in recovered.evidence


def test_one_noisy_interval_is_not_a_relapse():
    load = run({40: (100, 20.0)})
    # At 46 s one interval has 10 % slow requests (its own p95 400 ms); over 10 s, p95 is fine.
    noisy = interval(46, 48, {NAME: [20.0] * 90 + [400.0] * 10})
    load = LoadResult(T0, load.ended_at, tuple(noisy if i.start == 46 else i
                                               for i in load.intervals), (), ())
    found = recovery(load, event("kill-replica", 40.5), SloSpec(), hold=10, horizon=120)
    assert found.seconds == pytest.approx(1.5)  # back at the next interval, 42 s


def test_the_next_fault_ends_the_window_of_the_one_before():
    load = run({60: (100, 20.0)})
    events = [event("kill-replica", 40.0), event("restart-postgres", 60.5, 61.0)]
    found = by_id(fault_checks(load, events, SloSpec()))
    assert found["faults.kill-replica-1.availability"].observed == 100.0
    assert found["faults.restart-postgres-1.availability"].observed < 100.0


def test_replacement_is_timed_from_the_kill_to_the_new_replica_ready():
    kill = event("kill-replica", 40.0, killed=[{"replica": "replica-1", "pid": 1, "t": T0 + 40}])
    replicas = [ReplicaEvent(T0 + 40.4, "replica-1", "exited", "killed by SIGKILL", True),
                ReplicaEvent(T0 + 40.5, "replica-4", "started"),
                ReplicaEvent(T0 + 43.0, "replica-4", "ready")]
    found = by_id(fault_checks(run(), [kill], SloSpec(), replica_events=replicas))
    check = found["faults.kill-replica-1.replacement"]
    assert check.verdict is Verdict.PASS and check.observed == pytest.approx(3.0)
    never = by_id(fault_checks(run(), [kill], SloSpec(), replica_events=replicas[:2]))
    assert never["faults.kill-replica-1.replacement"].verdict is Verdict.FAIL


RECONNECT = "faults.restart-postgres-1.pool-reconnect"


def test_the_pool_must_reconnect_in_the_same_process():
    rows = [{"replica": "replica-1", "pid": 10, "seconds": 0.4, "same_process": True},
            {"replica": "replica-2", "pid": 11, "seconds": None, "same_process": True}]
    restart = event("restart-postgres", 40.0, 41.0, reconnects=rows)
    check = by_id(fault_checks(run(), [restart], SloSpec()))[RECONNECT]
    assert check.verdict is Verdict.FAIL and "replica-2 never" in check.evidence
    rows[1].update(seconds=0.6)
    check = by_id(fault_checks(run(), [restart], SloSpec()))[RECONNECT]
    assert check.verdict is Verdict.PASS and check.observed == pytest.approx(0.6)


RETRY_BOUNDS = ("0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "8.0", "10.0", "+Inf")


def scrapes(per_replica: dict[str, tuple[float, float]], start: float, end: float,
            before: float = 0.0) -> ServerSeries:
    return ServerSeries(app_scrapes(per_replica, start, end, before), T0)


def app_scrapes(per_replica: dict[str, tuple[float, float]], start: float, end: float,
                before: float = 0.0) -> list[Scrape]:
    """Every 2 s from `start`, per replica: (commands ending a second, the retries each made),
    as the app counts them; `before` commands without retries already counted at `start`."""
    found = []
    for replica, (rate, retries) in per_replica.items():
        for t in range(int(start), int(end) + 1, 2):
            ended = rate * (t - start)
            buckets = tuple(
                MetricSample("servicedesk_cache_command_retries_bucket", (("le", le),),
                             before + (ended if float(le) >= retries else 0.0))
                for le in RETRY_BOUNDS)
            found.append(Scrape(T0 + t, replica, True, (
                MetricSample("servicedesk_cache_retries_total", (), retries * ended),
                MetricSample("servicedesk_cache_errors_total", (), ended),
                *buckets,
            )))
    return found


@pytest.mark.parametrize(("retries", "verdict"), [(3, Verdict.PASS), (4, Verdict.FAIL),
                                                  (6, Verdict.FAIL)])
def test_retries_per_command_are_held_to_the_seeds_three(retries, verdict):
    series = scrapes({"replica-1": (1.0, retries)}, 30, 80)
    redis = event("stop-redis", 40.0, 60.0)
    settings = {"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.05", "REDIS_RETRY_BACKOFF_CAP_SECONDS": "1"}
    found = by_id(fault_checks(run(), [redis], SloSpec(), series=series, app_settings=settings,
                               bundled_settings={"REDIS_MAX_RETRIES": "3"}))
    check = found["faults.stop-redis-1.redis-retries"]
    assert check.verdict is verdict, check.evidence
    assert (check.observed, check.threshold) == (retries, 3.0)
    assert found["faults.stop-redis-1.cache-fallback"].verdict is Verdict.PASS


def test_the_most_retries_any_command_made_is_exact_whatever_the_scrapes():
    # Two replicas scraped at different moments, after commands without retries: a ratio of
    # two counters moves with where the scrapes fall; the most any command made does not.
    series = ServerSeries([*app_scrapes({"replica-1": (0.5, 3)}, 31, 81, before=40.0),
                           *app_scrapes({"replica-2": (0.3, 2)}, 30, 80, before=7.0)], T0)
    settings = {"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.05"}
    found = by_id(fault_checks(run(), [event("stop-redis", 40.0, 60.0)], SloSpec(),
                               series=series, app_settings=settings))
    check = found["faults.stop-redis-1.redis-retries"]
    assert check.verdict is Verdict.PASS and check.observed == 3.0, check.evidence
    assert "2 retries: 6, 3 retries: 11; the most: 3 retries (the seed: at most 3)" in (
        check.evidence)


def test_more_retries_than_the_last_bucket_fail_as_more_than_it():
    series = scrapes({"replica-1": (1.0, 25)}, 30, 80)
    found = by_id(fault_checks(run(), [event("stop-redis", 40.0, 60.0)], SloSpec(), series=series,
                               app_settings={"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.05"},
                               bundled_settings={"REDIS_MAX_RETRIES": "10"}))
    check = found["faults.stop-redis-1.redis-retries"]
    assert check.verdict is Verdict.FAIL and check.observed == 11.0
    assert "the most: more than 10 retries (the seed: at most 10)" in check.evidence


def test_retries_without_backoff_fail():
    series = scrapes({"replica-1": (1.0, 3)}, 30, 80)
    found = by_id(fault_checks(run(), [event("stop-redis", 40.0, 60.0)], SloSpec(),
                               series=series,
                               app_settings={"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0"}))
    assert found["faults.stop-redis-1.redis-retries"].verdict is Verdict.FAIL


def test_a_fault_that_could_not_be_injected_fails_and_one_never_reached_is_skipped():
    failed = FaultEvent("stop-redis-1", "stop-redis", 40.0, Outcome.FAILED, detail="boom")
    skipped = FaultEvent("kill-replica-1", "kill-replica", 90.0, Outcome.SKIPPED,
                         detail="the load ended before its time")
    found = by_id(fault_checks(run(), [failed, skipped], SloSpec()))
    assert found["faults.stop-redis-1.injected"].verdict is Verdict.FAIL
    assert found["faults.kill-replica-1.injected"].verdict is Verdict.SKIPPED


def test_pooling_counters_and_waits_are_judged_again_outside_the_fault_windows():
    from harness.verify.check import CheckResult, Window
    from harness.verify.faults import rejudged_outside_faults

    found = []
    for t in range(0, 61, 2):  # timeouts and slow waits only between 20 and 30 s
        during = 20 <= t <= 30
        timeouts = 10.0 * min(max(t - 20, 0), 10) / 10
        slow = 50.0 * min(max(t - 20, 0), 10) / 10
        fast = 5.0 * t
        found.append(Scrape(T0 + t, "replica-1", True, (
            MetricSample("servicedesk_db_pool_acquire_timeouts_total", (), timeouts),
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_bucket", (("le", "0.01"),),
                         fast),
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_bucket", (("le", "5.0"),),
                         fast + slow),
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_bucket", (("le", "+Inf"),),
                         fast + slow),
        )))
        assert during or timeouts in (0.0, 10.0)
    series = ServerSeries(found, T0)
    window = Window(0, 60, "steady state")
    timeouts = CheckResult("pool.acquire-timeouts", "t", Verdict.FAIL, 10.0, 0.0, "timeouts",
                           "<=", window, "10 requests waited")
    wait = CheckResult("pool.acquire-wait-p95", "w", Verdict.FAIL, 4.0, 0.025, "s", "<=",
                       window, "p95 wait 4000 ms")
    spans = [(20.0, 25.0)]
    again = rejudged_outside_faults(timeouts, series, spans, 0.0)
    assert again.verdict is Verdict.PASS and again.observed == 0.0
    assert "10 during them" in again.evidence
    assert rejudged_outside_faults(wait, series, spans, 0.0).verdict is Verdict.PASS
    assert rejudged_outside_faults(timeouts, series, [], 0.0).verdict is Verdict.FAIL


# ---------------------------------------------------------------- what each check records
# (mutation testing found ids, windows, bounds and the matching of kills to replacements
# unpinned, and the fail-fast check and the fault spans untested here)

def _record(check: CheckResult) -> tuple:
    return (check.title, check.verdict, check.observed, check.threshold, check.unit,
            check.comparison, check.window)


REPLACEMENT = "faults.kill-replica-1.replacement"
REPLACEMENT_TITLE = "Killed replicas replaced and ready (Deployment controller)"


def test_each_kill_is_matched_to_its_own_replacement_and_the_slowest_decides():
    kills = [{"replica": "replica-1", "pid": 1, "t": T0 + 40},
             {"replica": "replica-2", "pid": 2, "t": T0 + 41}]
    replicas = [ReplicaEvent(T0 + 39.995, "replica-4", "started"),  # within 10 ms of the kill
                ReplicaEvent(T0 + 41.5, "replica-5", "started"),
                ReplicaEvent(T0 + 42.0, "replica-4", "ready"),
                ReplicaEvent(T0 + 45.0, "replica-5", "ready")]
    found = by_id(fault_checks(run(), [event("kill-replica", 40.0, killed=kills)], SloSpec(),
                               replica_events=replicas, startup_budget=20.0))
    check = found[REPLACEMENT]
    assert _record(check) == (REPLACEMENT_TITLE, Verdict.PASS, 4.0, 20.0, "s", "<=",
                              Window(40.0, 60.0, "startup-probe budget"))
    assert check.evidence.startswith("replica-1 -> replica-4 ready after 2.0s; "
                                     "replica-2 -> replica-5 ready after 4.0s")
    assert "20s" in check.evidence


def test_a_replacement_never_ready_or_never_started_fails_and_no_controller_skips():
    kills = [{"replica": "replica-1", "pid": 1, "t": T0 + 40}]
    kill = event("kill-replica", 40.0, killed=kills)
    started = [ReplicaEvent(T0 + 40.5, "replica-4", "started")]
    never_ready = by_id(fault_checks(run(), [kill], SloSpec(), replica_events=started))
    assert _record(never_ready[REPLACEMENT]) == (
        REPLACEMENT_TITLE, Verdict.FAIL, None, 30.0, "s", "<=",
        Window(40.0, 70.0, "startup-probe budget"))
    assert never_ready[REPLACEMENT].evidence == "replica-1 -> replica-4 never ready"
    too_early = [ReplicaEvent(T0 + 39.9, "replica-4", "started")]
    none = by_id(fault_checks(run(), [kill], SloSpec(), replica_events=too_early))[REPLACEMENT]
    assert (none.verdict, none.evidence) == (Verdict.FAIL, "no replacement was started")
    nothing_killed = by_id(fault_checks(run(), [event("kill-replica", 40.0)], SloSpec(),
                                        replica_events=too_early))[REPLACEMENT]
    assert nothing_killed.verdict is Verdict.FAIL
    assert nothing_killed.window == Window(0.0, 30.0, "startup-probe budget")
    no_controller = by_id(fault_checks(run(), [kill], SloSpec()))[REPLACEMENT]
    assert no_controller.verdict is Verdict.SKIPPED
    assert no_controller.reason == "this stack has no replica controller"


def test_the_reconnect_check_records_its_bound_window_and_who_restarted():
    rows = [{"replica": "replica-1", "pid": 10, "seconds": 0.4, "same_process": True},
            {"replica": "replica-2", "pid": 11, "seconds": 0.6, "same_process": False}]
    restart = event("restart-postgres", 40.0, 41.0, reconnects=rows)
    spec = SloSpec(faults=FaultObjectives(recovery=45.0))
    check = by_id(fault_checks(run(), [restart], spec))[RECONNECT]
    assert _record(check) == (
        "Pool reconnects after the database restart, without an app restart", Verdict.FAIL,
        0.6, 45.0, "s", "<=", Window(40.0, 71.0, "restart-postgres + 30s"))
    assert "replica-1 0.4s, replica-2 0.6s" in check.evidence
    assert check.evidence.endswith("; restarted meanwhile (not a reconnect): replica-2")
    rows[1].update(same_process=True)
    check = by_id(fault_checks(run(), [restart], spec))[RECONNECT]
    assert check.verdict is Verdict.PASS and "restarted" not in check.evidence
    alone = by_id(fault_checks(run(), [event("restart-postgres", 40.0, 41.0)], spec))[RECONNECT]
    assert (alone.verdict, alone.reason) == (Verdict.SKIPPED, "no replica ran through the restart")
    assert alone.window == Window(40.0, 71.0, "restart-postgres + 30s")


def _timeouts(at: dict[float, float]) -> ServerSeries:
    """The acquire-timeouts counter of two replicas, scraped every 2 s; `at` adds timeouts to
    replica-1 from a time on."""
    found = []
    for t in range(0, 121, 2):
        grown = sum(n for since, n in at.items() if t >= since)
        for replica, value in (("replica-1", grown), ("replica-2", 3.0)):
            found.append(Scrape(T0 + t, replica, True, (
                MetricSample("servicedesk_db_pool_acquire_timeouts_total", (), value),)))
    return ServerSeries(found, T0)


FAIL_FAST = "faults.exhaust-pool-1.fail-fast"


def test_an_exhausted_pool_passes_with_its_timeouts_counted_until_five_seconds_after():
    exhaust = FaultEvent("exhaust-pool-1", "exhaust-pool", 40.0, Outcome.INJECTED, T0 + 40,
                         T0 + 50, "20 connections held", {})
    # 4 timeouts during the fault, 2 within 5 s after it, 8 well after (another cause)
    series = _timeouts({42.0: 4.0, 54.0: 2.0, 70.0: 8.0})
    check = by_id(fault_checks(run(), [exhaust], SloSpec(), series=series))[FAIL_FAST]
    assert _record(check) == (
        "An exhausted pool fails fast (acquire timeouts, not endless queues)", Verdict.PASS,
        6.0, 1.0, "timeouts", ">=", Window(40.0, 80.0, "exhaust-pool + 30s"))
    assert check.evidence == ("6 requests gave up waiting for a connection while 20 "
                              "connections held")
    quiet = by_id(fault_checks(run(), [exhaust], SloSpec(), series=_timeouts({70.0: 8.0})))
    assert quiet[FAIL_FAST].verdict is Verdict.SKIPPED
    assert quiet[FAIL_FAST].reason == ("no acquire timeout happened: the pool was never "
                                       "exhausted")
    assert FAIL_FAST not in by_id(fault_checks(run(), [exhaust], SloSpec()))


def test_timeouts_are_counted_through_a_replica_restart_and_until_its_last_scrape():
    exhaust = FaultEvent("exhaust-pool-1", "exhaust-pool", 40.0, Outcome.INJECTED, T0 + 40,
                         T0 + 50, "20 connections held", {})
    found = []
    for t in range(0, 121, 2):
        # replica-1: 4 timeouts at 42 s, restarts at 48 s (its counter begins again), 3 more
        # by 50 s; replica-2: 2 timeouts at 44 s, then it stops answering after 46 s.
        one = 0.0 if t < 42 else 4.0 if t < 48 else 0.0 if t < 50 else 3.0
        found.append(Scrape(T0 + t, "replica-1", True, (
            MetricSample("servicedesk_db_pool_acquire_timeouts_total", (), one),)))
        if t <= 46:
            found.append(Scrape(T0 + t, "replica-2", True, (
                MetricSample("servicedesk_db_pool_acquire_timeouts_total", (),
                             0.0 if t < 44 else 2.0),)))
    series = ServerSeries(found, T0)
    check = by_id(fault_checks(run(), [exhaust], SloSpec(), series=series))[FAIL_FAST]
    assert check.observed == 9.0  # 4 + 3 + 2 (before: 3 + 2, the restart read as no growth)


def test_the_steady_state_is_the_run_without_each_faults_window():
    events = [event("kill-replica", 40.0),
              FaultEvent("rollout-1", "rollout", 90.0, Outcome.INJECTED, T0 + 90, T0 + 100, "",
                         {}),
              FaultEvent("stop-redis-1", "stop-redis", 110.0, Outcome.SKIPPED)]
    load = run()
    assert fault_spans(load, events, SloSpec()) == [(40.0, 70.0), (90.0, 105.0)]
    kept, note = without_fault_windows(load, events, SloSpec())
    assert [(i.start, i.end) for i in kept.intervals] == (
        [(t, t + 2) for t in range(0, 40, 2)] + [(t, t + 2) for t in range(70, 90, 2)]
        + [(t, t + 2) for t in range(106, 120, 2)])
    assert note == ("outside the fault windows 40-70s, 90-105s: 2,300 requests there are "
                    "judged by the faults.* checks")
    assert without_fault_windows(load, events[2:], SloSpec()) == (load, "")
    later = fault_spans(load, events[:1], SloSpec(), origin=T0 + 10)
    assert later == [(30.0, 60.0)]


def _outage_load(reads_at_50: int | None = None) -> LoadResult:
    """100 reads per interval (or only `reads_at_50` of them, all at 50-52 s), and 50 writes
    that fail while Redis is down (40-60 s): the fallback check judges reads only."""
    intervals = []
    for start in range(0, 120, 2):
        reads = 100 if reads_at_50 is None else reads_at_50 if start == 50 else 0
        names = {NAME: [20.0] * reads, "POST /api/tickets": [20.0] * 50}
        failed = {"POST /api/tickets": 50 if 40 <= start < 60 else 0}
        intervals.append(interval(start, start + 2, {k: v for k, v in names.items() if v},
                                  failed))
    return LoadResult(T0, T0 + 120, tuple(intervals), (), ())


# the load generator's clock began 3 s after the load's start (the scrapes' clock)
REDIS_DOWN = FaultEvent("stop-redis-1", "stop-redis", 40.0, Outcome.INJECTED, T0 + 43.12345,
                        T0 + 63.12345, "", {})
OUTAGE = Window(40.123, 60.123, "while Redis was down")
BACKOFF = {"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.05", "REDIS_RETRY_BACKOFF_CAP_SECONDS": "1"}


def _redis_checks(load: LoadResult, series: ServerSeries | None, **options) -> dict:
    found = by_id(fault_checks(load, [REDIS_DOWN], SloSpec(), series=series, origin=T0 + 3,
                               **options))
    return {k.removeprefix("faults.stop-redis-1."): v for k, v in found.items()}


def test_redis_checks_record_reads_only_and_count_on_the_scrapes_clock():
    found = _redis_checks(_outage_load(), scrapes({"replica-1": (1.0, 3)}, 30, 90),
                          app_settings=BACKOFF, bundled_settings={"REDIS_MAX_RETRIES": "5"})
    fallback, retries = found["cache-fallback"], found["redis-retries"]
    assert _record(fallback) == ("With Redis down the app serves from the database",
                                 Verdict.PASS, 100.0, 99.5, "%", ">=", OUTAGE)
    assert fallback.evidence.startswith("0 of 1,100 reads failed")
    assert "counted 22 cache errors" in fallback.evidence  # 42-64 s on the scrapes' clock
    assert _record(retries) == ("Redis retries at most 5 per command, with backoff",
                                Verdict.PASS, 3.0, 5.0, "retries", "<=", OUTAGE)
    # the outage 43.1-63.1 s on the scrapes' clock, from the scrapes at 42 and 64 s
    assert retries.evidence.startswith(
        "22 Redis commands ended while Redis was down, by the retries each made: "
        "3 retries: 22; the most: 3 retries (the seed: at most 5)")
    assert retries.evidence.endswith("exponential backoff base 0.05s, cap 1s")


def test_redis_checks_without_metrics_without_failures_and_without_backoff():
    unmeasured = _redis_checks(_outage_load(), None)
    assert unmeasured["cache-fallback"].evidence.endswith(
        "the app counted no cache errors (did it notice?)")
    assert unmeasured["redis-retries"].verdict is Verdict.SKIPPED
    assert unmeasured["redis-retries"].title == "Redis retries at most 3 per command, with backoff"
    assert unmeasured["redis-retries"].reason == "no server metrics"
    quiet = _redis_checks(_outage_load(), scrapes({"replica-1": (0.0, 0)}, 30, 90))
    assert quiet["redis-retries"].verdict is Verdict.SKIPPED
    assert quiet["redis-retries"].window == OUTAGE
    assert quiet["redis-retries"].reason == (
        "no Redis command ended while Redis was down (40.1s-60.1s; the app's "
        "servicedesk_cache_command_retries histogram)")
    no_backoff = _redis_checks(_outage_load(), scrapes({"replica-1": (1.0, 3)}, 30, 90))
    retries = no_backoff["redis-retries"]
    assert retries.verdict is Verdict.FAIL and retries.threshold == 3.0
    assert retries.evidence.endswith(
        "no backoff between retries (REDIS_RETRY_BACKOFF_BASE_SECONDS 0)")
    no_cap = _redis_checks(_outage_load(), scrapes({"replica-1": (1.0, 3)}, 30, 90),
                           app_settings={"REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.05"})
    assert no_cap["redis-retries"].evidence.endswith("base 0.05s, cap 0s")


def test_the_fallback_needs_twenty_reads_in_the_outage():
    assert _redis_checks(_outage_load(20), None)["cache-fallback"].verdict is Verdict.PASS
    few = _redis_checks(_outage_load(19), None)["cache-fallback"]
    assert (few.verdict, few.reason, few.window) == (
        Verdict.SKIPPED, "only 19 reads while Redis was down", OUTAGE)
    assert few.title == "With Redis down the app serves from the database"


def test_availability_and_recovery_record_their_bounds_and_windows():
    lifted = event("restart-postgres", 40.0, 44.0)
    found = by_id(fault_checks(run({t: (100, 20.0) for t in range(40, 120, 2)}), [lifted],
                               SloSpec()))
    availability = found["faults.restart-postgres-1.availability"]
    assert _record(availability) == (
        "Availability during restart-postgres within its error budget", Verdict.FAIL,
        0.0, 99.5, "%", ">=",
        Window(40.0, 74.0, "restart-postgres + 30s"))
    assert availability.evidence.startswith("1,700 of 1,700 requests failed")
    recovered = found["faults.restart-postgres-1.recovery"]
    assert _record(recovered) == ("Time to recover from restart-postgres", Verdict.FAIL, None,
                                  60.0, "s", "<=", Window(44.0, 120, "after the fault was lifted"))
    assert recovered.evidence.startswith(
        "not back (errors <= 0.5 % and p95 <= 250 ms for 10s) before 120s, 76s after")
    assert recovered.evidence.endswith("baseline before it: 0 % errors, p95 20 ms")


def test_a_fault_window_needs_twenty_requests_to_judge_availability():
    def load(requests: int) -> LoadResult:
        rows = [interval(t, t + 2, {NAME: [20.0] * (requests if t == 40 else 0)} if t == 40
                         else {}) for t in range(0, 60, 2)]
        return LoadResult(T0, T0 + 60, tuple(rows), (), ())

    kill = event("kill-replica", 40.0, 41.0)
    judged = by_id(fault_checks(load(20), [kill], SloSpec()))["faults.kill-replica-1.availability"]
    assert judged.verdict is Verdict.PASS
    few = by_id(fault_checks(load(19), [kill], SloSpec()))["faults.kill-replica-1.availability"]
    assert (few.verdict, few.reason, few.window) == (
        Verdict.SKIPPED, "only 19 requests in the fault's window",
        Window(40.0, 60.0, "kill-replica + 30s"))
    assert few.title == "Availability during kill-replica within its error budget"


def test_a_reconnect_that_never_came_or_came_in_a_new_process_fails_naming_each():
    rows = [{"replica": "replica-1", "pid": 10, "seconds": None, "same_process": False},
            {"replica": "replica-2", "pid": 11, "seconds": None, "same_process": False}]
    restart = event("restart-postgres", 40.0, 41.0, reconnects=rows)
    check = by_id(fault_checks(run(), [restart], SloSpec()))[RECONNECT]
    assert _record(check) == (
        "Pool reconnects after the database restart, without an app restart", Verdict.FAIL,
        None, 60.0, "s", "<=", Window(40.0, 71.0, "restart-postgres + 30s"))
    assert check.evidence.endswith(
        "after the restart: replica-1 never, replica-2 never; restarted meanwhile (not a "
        "reconnect): replica-1, replica-2")
    rows[0].update(seconds=0.4, same_process=True)
    rows[1].update(seconds=0.7, same_process=True)
    check = by_id(fault_checks(run(), [restart], SloSpec()))[RECONNECT]
    assert _record(check) == (
        "Pool reconnects after the database restart, without an app restart", Verdict.PASS,
        0.7, 60.0, "s", "<=", Window(40.0, 71.0, "restart-postgres + 30s"))
    assert check.evidence.endswith("after the restart: replica-1 0.4s, replica-2 0.7s")


def test_a_fault_that_could_not_be_injected_records_no_numbers():
    failed = FaultEvent("stop-redis-1", "stop-redis", 40.0, Outcome.FAILED, detail="boom")
    check = by_id(fault_checks(run(), [failed], SloSpec()))["faults.stop-redis-1.injected"]
    assert check == CheckResult("faults.stop-redis-1.injected", "stop-redis was injected",
                                Verdict.FAIL, None, None, "", "<=", None,
                                "the fault could not be injected: boom")


def test_fail_fast_counts_each_replica_and_label_set_from_the_scrapes_at_the_edges():
    def replica_1(t: int) -> float:
        return 10 if t < 40 else 11 if t < 42 else 14 if t < 54 else 16 if t < 58 else 17

    found = []
    for t in range(0, 121, 2):
        rows = [("replica-1", (), replica_1(t)),
                ("replica-1", (("reason", "timeout"),), 0.0 if t < 44 else 1.0)]
        if t >= 46:  # a replacement, first scraped during the fault: it counts from zero
            rows.append(("replica-2", (), 2.0 if t < 60 else 3.0))
        found += [Scrape(T0 + t, replica, True, (
            MetricSample("servicedesk_db_pool_acquire_timeouts_total", labels, value),))
            for replica, labels, value in rows]
    exhaust = FaultEvent("exhaust-pool-1", "exhaust-pool", 40.0, Outcome.INJECTED, T0 + 40,
                         T0 + 51, "20 connections held", {})
    check = by_id(fault_checks(run(), [exhaust], SloSpec(), series=ServerSeries(found, T0)))
    # from the scrape at 40 s (11) to the one at 56 s (16), plus 1 and 2
    assert check[FAIL_FAST].observed == 8.0


def test_a_counter_is_judged_again_step_by_step_on_the_scrapes_clock():
    from harness.verify.faults import rejudged_outside_faults

    def timeouts(t: int) -> float:  # +1 in the step to 20 s, +2 in the step from 30 s
        return 0.0 if t <= 18 else 1.0 if t <= 30 else 3.0

    found = []
    for t in range(0, 61, 2):
        found.append(Scrape(T0 + t, "replica-1", True, (MetricSample(
            "servicedesk_db_pool_acquire_timeouts_total", (), timeouts(t)),)))
        found.append(Scrape(T0 + t, "replica-2", True, (MetricSample(  # restarted at 50 s
            "servicedesk_db_pool_acquire_timeouts_total", (), 5.0 if t < 50 else 1.0),)))
    series = ServerSeries(found, T0)
    failed = CheckResult("pool.acquire-timeouts", "t", Verdict.FAIL, 4.0, 2.0, "timeouts", "<=",
                         Window(0, 60, "steady state"), "4 requests waited")
    # a fault from 20 to 25 s: its steps end after 20 s and begin before 30 s (5 s after it)
    same_clock = rejudged_outside_faults(failed, series, [(20.0, 25.0)], 0.0)
    assert (same_clock.verdict, same_clock.observed) == (Verdict.FAIL, 4.0)
    assert same_clock.evidence.startswith("4 outside the fault windows; 0 during them")
    later = rejudged_outside_faults(failed, series, [(20.0, 25.0)], 2.0)  # load began 2 s late
    assert (later.verdict, later.observed) == (Verdict.PASS, 2.0)  # at the threshold
    assert later.evidence.startswith("2 outside the fault windows; 2 during them")
    assert later.evidence.endswith("(4 requests waited)")
    for unchanged in (replace(failed, verdict=Verdict.PASS), replace(failed, threshold=None),
                      replace(failed, id="pool.max-in-use")):
        assert rejudged_outside_faults(unchanged, series, [(20.0, 25.0)], 2.0) == unchanged


def test_a_wait_quantile_is_judged_again_in_the_checks_own_unit_from_buckets_outside():
    from harness.verify.faults import rejudged_outside_faults

    found = []
    for t in range(0, 61, 2):
        slow = 50.0 * min(max(t - 20, 0), 10) / 10  # waits of up to 5 s only from 20 to 30 s
        fast = 5.0 * t
        found.append(Scrape(T0 + t, "replica-1", True, tuple(
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_bucket",
                         (("le", le), ("pool", "default")), value)
            for le, value in (("0.0123457", fast), ("5.0", fast + slow), ("+Inf", fast + slow)))))
    series = ServerSeries(found, T0)
    p95 = 0.95 * 12.3457  # ms, interpolated in the first bucket
    wait = CheckResult("pool.acquire-wait-p95", "w", Verdict.FAIL, 4000.0, 11.7285, "ms",
                       "<=", Window(0, 60, "steady state"), "p95 wait 4000 ms")
    again = rejudged_outside_faults(wait, series, [(20.0, 25.0)], 0.0)
    assert (again.verdict, again.observed) == (Verdict.PASS, round(p95, 4))
    assert again.evidence == ("11.7 ms outside the fault windows, judged by the faults.* "
                              "checks there (p95 wait 4000 ms)")
    tighter = rejudged_outside_faults(replace(wait, threshold=11.728), series, [(20.0, 25.0)],
                                      0.0)
    assert tighter.verdict is Verdict.FAIL


def test_recovery_is_judged_against_the_baseline_just_before_the_fault():
    from harness.verify.faults import Recovery

    # 2 % errors before the fault (4 % in 28-30 s), every request failing 40-44 s, then 4.2 %
    # over every 10 s (one interval in five at 5 %, the others at 4 %)
    bad = {t: (2, 20.0) for t in range(10, 28, 2)} | {28: (4, 20.0)}
    bad |= {t: (100, 20.0) for t in range(40, 44, 2)}
    bad |= {t: (5 if t % 10 == 4 else 4, 20.0) for t in range(44, 120, 2)}
    load = run(bad)
    fault = event("stop-redis", 40.0, 44.0)
    # an earlier fault ends at 30 s: the interval ending there is still this fault's baseline
    found = recovery(load, fault, SloSpec(), hold=10, horizon=120, exclude=[(30.0, 40.0)])
    assert found == Recovery(2.2, found.baseline_p95_ms, 4.4, 250.0, 44.0, 0.0, True, 120.0)
    assert found.baseline_p95_ms == pytest.approx(20.0, abs=0.1)
    # the whole stretch before it coloured by an earlier fault: before any fault, or nothing
    clean = [i for i in load.intervals if i.end <= 10]
    fallback = recovery(load, fault, SloSpec(), hold=10, horizon=120, exclude=[(0.0, 40.0)],
                        fallback_baseline=clean)
    assert (fallback.baseline_error_percent, fallback.error_limit, fallback.seconds) == (
        0.0, 0.5, None)
    none = recovery(load, fault, SloSpec(), hold=10, horizon=120, exclude=[(0.0, 40.0)])
    assert (none.baseline_error_percent, none.baseline_p95_ms, none.error_limit) == (
        None, None, 0.5)
