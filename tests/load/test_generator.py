"""The generator's own instruments, in this process (no Locust run)."""

from __future__ import annotations

import gc

from harness.load.generator import _Health, freeze_heap, task_name


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


def test_freezing_the_heap_takes_what_is_alive_out_of_full_collections():
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


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
