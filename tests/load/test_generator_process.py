"""The real load process (Locust, local or master + workers) against a local target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config.model import SloSpec, Stage
from harness.load.aggregate import aggregate, in_window, per_name
from harness.load.health import saturated_intervals, summarize_generators
from harness.load.priority import GENERATOR_NICE, realtime_fits
from harness.load.runner import LoadRunner
from harness.load.shapes import plan_stages
from harness.load.wire import ReceiveStamps
from harness.verify.check import Verdict, exit_status_for
from harness.verify.slo import slo_checks

ONE_REQUEST = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class One(FastHttpUser):
    wait_time = constant({wait})

    @task
    def one(self):
        self.client.get("{path}")
"""

BURNS_CPU = """
import time
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class Busy(FastHttpUser):
    wait_time = constant(0)

    @task
    def burn(self):
        until = time.perf_counter() + 0.02  # 20 ms of pure CPU, never yielding
        while time.perf_counter() < until:
            pass
        self.client.get("/fast")
"""

# Another greenlet holds the generator's loop 30 ms in every 100: responses that arrive then
# wait for it, as they would behind a burst of other responses.
HOLDS_THE_LOOP = ONE_REQUEST + """
import time
import gevent

def _hold():
    while True:
        gevent.sleep(0.07)
        until = time.perf_counter() + 0.03
        while time.perf_counter() < until:
            pass

gevent.spawn(_hold)
"""


def run(tmp_path: Path, locustfile: Path, url: str, stages, workers: int = 0,
        nice: int = GENERATOR_NICE, realtime: bool = False):
    runner = LoadRunner(stages=stages, locustfiles=[locustfile], host=url,
                        work_dir=tmp_path / "logs", interval=2.0, workers=workers, nice=nice,
                        realtime=realtime)
    return runner.run()


def may_raise_priority() -> bool:
    """Whether a process here may lower its nice value (root or CAP_SYS_NICE)."""
    probe = f"import os; os.setpriority(os.PRIO_PROCESS, 0, {GENERATOR_NICE})"
    return subprocess.run([sys.executable, "-c", probe], check=False,
                          capture_output=True).returncode == 0


def test_an_open_model_stage_keeps_its_rate_within_2_percent(tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=8, rate=100, steady=True)], (0,))
    load = run(tmp_path, locustfile(ONE_REQUEST.format(wait=1, path="/fast")), server.url, stages)
    stage = in_window(load.intervals, 0, 8)
    stats = aggregate(stage)
    assert stats.rps == pytest.approx(100, rel=0.02), [i.requests for i in load.intervals]
    assert stats.failures == 0
    # every send was paced: intended and achieved agree, and latency has both forms
    assert sum(i.sent for i in stage) == pytest.approx(sum(i.intended for i in stage), rel=0.02)
    assert stats.corrected is not None and stats.corrected.count == stats.requests
    # It ran ahead of everything else for CPU where the OS let it, and says which it had.
    expected = GENERATOR_NICE if may_raise_priority() else os.getpriority(os.PRIO_PROCESS, 0)
    assert {g.nice for i in load.intervals for g in i.generators} == {expected}
    log = (tmp_path / "logs" / "load-generator.log").read_text(encoding="utf-8")
    assert ("not prioritised" in log) == (expected != GENERATOR_NICE)
    # not realtime unless asked: it would preempt a stack on the same cores mid-request
    assert {g.realtime for i in load.intervals for g in i.generators} == {False}
    # and measured how long its event loop still waited for a core (Linux says)
    waits = [g.cpu_wait_percent for i in load.intervals for g in i.generators]
    if Path("/proc/thread-self/schedstat").exists():
        assert all(w is not None and 0 <= w <= 100 for w in waits), waits


@pytest.mark.skipif(not ReceiveStamps.available(), reason="no kernel receive stamps here")
def test_a_response_is_timed_to_its_arrival_not_to_when_the_loop_got_to_it(
        tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=6, users=5, spawn_rate=100)], (0,))
    load = run(tmp_path, locustfile(HOLDS_THE_LOOP.format(wait=0.01, path="/delay/50")),
               server.url, stages)
    stats = aggregate(in_window(load.intervals, 0, 6))
    samples = [g for i in load.intervals for g in i.generators]
    assert max(g.loop_lag_max_ms for g in samples) >= 20  # the loop was held
    # A third of the responses arrived while it was (timed by the loop: p90 and p95 at 76 ms);
    # their latency is still the server's 50 ms.
    assert stats.failures == 0 and stats.requests > 100
    assert stats.latency.p95_ms < 60, stats.latency
    assert sum(g.kernel_timed for g in samples) == sum(g.responses for g in samples) > 100
    assert summarize_generators(load.intervals, 0).generators[0].kernel_timed_percent == 100.0


def test_a_stalling_target_shows_in_the_corrected_percentiles(tmp_path, target, locustfile):
    # Every 2 s the target holds every request for 0.5 s: a quarter of arrivals land in a stall
    # and wait a uniform 0..0.5 s, so p90 is 0.5 x (1 - 0.10/0.25) = 0.30 s and p99
    # 0.5 x (1 - 0.01/0.25) = 0.48 s.
    server = target(stall_every=2, stall_for=0.5)
    stages = plan_stages([Stage(duration=8, rate=50, steady=True)], (0,))
    open_load = run(tmp_path / "open", locustfile(ONE_REQUEST.format(wait=1, path="/stall")),
                    server.url, stages)
    corrected = aggregate(in_window(open_load.intervals, 0, 8)).corrected
    assert corrected is not None
    assert corrected.p99_ms == pytest.approx(480, rel=0.10)
    assert corrected.p90_ms == pytest.approx(300, rel=0.15)

    # A closed model against the same target barely sees it: its users wait out each stall
    # and send nothing meanwhile (coordinated omission).
    closed = plan_stages([Stage(duration=8, users=5, spawn_rate=100)], (0,))
    closed_load = run(tmp_path / "closed",
                      locustfile(ONE_REQUEST.format(wait=0.01, path="/stall")), server.url, closed)
    hidden = aggregate(in_window(closed_load.intervals, 0, 8)).latency
    assert hidden.p90_ms < corrected.p90_ms / 3


def test_workers_histograms_merge_to_exactly_what_the_target_served(tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=6, users=10, spawn_rate=100)], (0,))
    load = run(tmp_path, locustfile(ONE_REQUEST.format(wait=0.05, path="/fast")), server.url,
               stages, workers=2)
    recorded = aggregate(load.intervals)
    assert recorded.requests > 200 and recorded.failures == 0
    assert recorded.requests == server.stats()["served"]["/fast"]
    assert recorded.latency.count == recorded.requests
    names = {g.generator for i in load.intervals for g in i.generators}
    assert names == {"worker-0", "worker-1"}
    assert load.workers == 2
    # Workers are prioritised like a local generator, each saying which it had.
    expected = GENERATOR_NICE if may_raise_priority() else os.getpriority(os.PRIO_PROCESS, 0)
    assert {g.nice for i in load.intervals for g in i.generators} == {expected}
    assert {g.realtime for i in load.intervals for g in i.generators} == {False}


def test_a_generator_asked_to_run_realtime_does_where_it_leaves_a_core(
        tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=4, users=5, spawn_rate=100)], (0,))
    load = run(tmp_path, locustfile(ONE_REQUEST.format(wait=0.05, path="/fast")), server.url,
               stages, realtime=True)
    assert aggregate(load.intervals).requests > 50
    # one local generator leaves a core to the rest (2 or more here), where the OS lets it
    realtime = may_raise_priority() and realtime_fits(1)
    assert {g.realtime for i in load.intervals for g in i.generators} == {realtime}


def test_a_saturated_generator_is_detected_and_its_latency_untrusted(tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=6, users=20, spawn_rate=100, steady=True)], (0,))
    load = run(tmp_path, locustfile(BURNS_CPU), server.url, stages)
    assert saturated_intervals(load.intervals, until=6.0)
    checks = {c.id: c for c in slo_checks(load, SloSpec())}
    for check_id in ("slo.latency.p95", "slo.latency.p99"):
        assert checks[check_id].verdict is Verdict.UNTRUSTED, checks[check_id]
        assert "--workers" in checks[check_id].evidence
    assert checks["slo.error-rate"].verdict is Verdict.PASS  # errors are still the system's
    assert int(exit_status_for(checks.values())) == 3
    summary = summarize_generators(load.intervals, 0, until=6.0)
    assert summary.saturated and "--workers 2" in (summary.advice or "")


def test_requests_in_flight_when_the_load_stops_count_as_failed_timeouts(
    tmp_path, hanging_target, locustfile
):
    # Every request hangs: without counting them, the run read "0 requests, 0 failed".
    stages = plan_stages([Stage(duration=3, users=4, spawn_rate=100, steady=True)], (0,))
    runner = LoadRunner(stages=stages, locustfiles=[locustfile(ONE_REQUEST.format(
        wait=0, path="/hang"))], host=hanging_target.url, work_dir=tmp_path / "logs",
        interval=1.0, stop_timeout=1.0)
    load = runner.run()
    stats = aggregate(load.intervals)
    assert hanging_target.received == 4
    assert stats.requests == stats.failures == 4
    assert stats.latency.count == 4 and stats.latency.p50_ms >= 3000  # open since the start
    [error] = load.errors
    assert error.name == "GET /hang" and error.occurrences == 4
    assert error.error.startswith("timeout")
    checks = {c.id: c for c in slo_checks(load, SloSpec())}
    assert checks["slo.error-rate"].verdict is Verdict.FAIL


def test_requests_in_flight_at_the_end_count_on_workers_too(
    tmp_path, hanging_target, locustfile
):
    stages = plan_stages([Stage(duration=3, users=4, spawn_rate=100, steady=True)], (0,))
    runner = LoadRunner(stages=stages, locustfiles=[locustfile(ONE_REQUEST.format(
        wait=0, path="/hang"))], host=hanging_target.url, work_dir=tmp_path / "logs",
        interval=1.0, stop_timeout=1.0, workers=2)
    load = runner.run()
    stats = aggregate(load.intervals)
    assert stats.requests == stats.failures == hanging_target.received == 4
    assert sum(e.occurrences for e in load.errors if e.error.startswith("timeout")) == 4


RAISES = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class Raising(FastHttpUser):
    wait_time = constant(0.2)

    @task
    def broken(self):
        self.client.get("/fast")
        raise KeyError("ticket_id")
"""


def test_an_exception_in_a_task_is_a_failed_request_of_that_task(tmp_path, target, locustfile):
    server = target()
    stages = plan_stages([Stage(duration=3, users=2, spawn_rate=100, steady=True)], (0,))
    load = run(tmp_path, locustfile(RAISES), server.url, stages)
    by_name = {name: stats for name, stats in per_name(load.intervals).items()}
    task = by_name["TASK Raising.broken"]
    assert task.requests == task.failures == by_name["GET /fast"].requests > 10
    assert by_name["GET /fast"].failures == 0
    [error] = [e for e in load.errors if e.name == "TASK Raising.broken"]
    assert error.error == "KeyError: 'ticket_id'"
    assert error.occurrences == task.failures
