"""The generator's own instruments, in this process (no Locust run)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from harness.load.generator import _Health, _rank, freeze_heap, task_name


def test_garbage_collection_pauses_are_measured_per_sample():
    health = _Health()
    health.start()
    try:
        gc.collect()
        sample = health.sample()
        assert sample["gc_max"] > 0
        assert sample["gc_ms"] >= sample["gc_max"]
        assert health.sample()["gc_max"] == 0.0  # reset at every sample
    finally:
        health.stop()
    assert health._on_gc not in gc.callbacks


def test_loop_lag_is_what_the_probes_of_one_sample_saw():
    import time

    import gevent

    health = _Health()
    health.start()
    try:
        gevent.sleep(0.3)  # six probes on a free loop
        time.sleep(0.04)  # then the loop held for 40 ms
        gevent.sleep(0.12)
        sample = health.sample()
        assert sample["lag_max"] >= 35.0 and sample["lag_p99"] == sample["lag_max"]
        assert sample["lag_p50"] < 5.0
        gevent.sleep(0.12)
        after = health.sample()  # a new sample: only the probes since
        assert 0.0 <= after["lag_p50"] <= after["lag_p99"] <= after["lag_max"] < 35.0
    finally:
        health.stop()


def test_percentiles_of_the_probes_are_nearest_rank():
    probes = sorted([0.4, 0.5, 0.6, 0.7, 9.0] * 8)  # 40 probes, as in a 2 s interval
    assert (_rank(probes, 50.0), _rank(probes, 99.0), _rank([], 99.0)) == (0.6, 9.0, 0.0)
    assert _rank(probes[:-8], 99.0) == 0.7


def test_freezing_the_heap_takes_what_is_alive_out_of_full_collections():
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_the_stack_inspection_locusts_stop_makes_is_warmed_before_the_load():
    # In a fresh interpreter: Locust's stop() calls inspect.stack(), whose first call resolves
    # every loaded module's file; once the generator's test_start has run, they are known.
    code = (
        "import gc, inspect\n"
        "import locust.runners\n"
        "from locust.event import Events\n"
        "from harness.load.generator import Generator\n"
        "from harness.load.pacing import Pacer\n"
        "file = inspect.getabsfile(locust.runners)\n"
        "before = file in inspect.modulesbyfile\n"
        "events = Events()\n"
        "Generator(name='local', pacer=Pacer(())).install(events, [], lambda: 0)\n"
        "events.test_start.fire(environment=None)\n"
        "print(before, file in inspect.modulesbyfile, gc.get_freeze_count() > 1000)\n")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.stdout.split() == ["False", "True", "True"]


class Agent:
    def triage(self):
        raise ValueError("no ticket")


def test_a_task_is_named_by_the_first_frame_of_user_code():
    try:
        Agent().triage()
    except ValueError as exc:
        # a plain function (a task given as a function) is named after the user's class
        assert task_name(Agent(), exc.__traceback__) == (
            "Agent.test_a_task_is_named_by_the_first_frame_of_user_code")

    def inner_frames():  # Locust's frames come first; here the test's own frame is first
        Agent().triage()

    try:
        inner_frames()
    except ValueError as exc:
        tb = exc.__traceback__
        assert tb is not None and task_name(Agent(), tb.tb_next) == (
            "test_a_task_is_named_by_the_first_frame_of_user_code.<locals>.inner_frames")
        assert task_name(Agent(), tb.tb_next.tb_next) == "Agent.triage"
