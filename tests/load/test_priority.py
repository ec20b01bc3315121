"""The generator's scheduling priority: raised where the OS allows, and said when not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.load import priority
from harness.load.priority import GENERATOR_NICE, prioritise


def in_a_child(code: str) -> str:
    """Run `code` in a fresh interpreter (a nice value, once lowered, cannot be raised back
    without privilege, so the test process keeps its own)."""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    return done.stdout.strip()


def test_a_process_at_a_lower_priority_asks_for_the_generators():
    start = os.getpriority(os.PRIO_PROCESS, 0)
    out = in_a_child(
        "import os\nfrom harness.load.priority import prioritise, current_nice\n"
        "os.setpriority(os.PRIO_PROCESS, 0, 5)\n"
        "why = prioritise(2)\nprint(current_nice(), '|', why)")
    if os.geteuid() == 0:  # raising a priority (5 -> 2) needs the privilege root has
        assert out == "2 | None"
    else:
        assert out.startswith("5 | cannot set nice 2 (")
    assert os.getpriority(os.PRIO_PROCESS, 0) == start


def test_a_process_already_ahead_is_left_as_it_is(monkeypatch):
    calls = []
    monkeypatch.setattr(priority, "current_nice", lambda: -15)
    monkeypatch.setattr(os, "setpriority", lambda *a: calls.append(a))
    assert prioritise(GENERATOR_NICE) is None
    assert calls == []


def test_without_the_privilege_it_says_why_and_what_it_runs_at(monkeypatch):
    def refuse(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(priority, "current_nice", lambda: 0)
    monkeypatch.setattr(os, "setpriority", refuse)
    why = prioritise(GENERATOR_NICE)
    assert why == f"cannot set nice {GENERATOR_NICE} (Operation not permitted); running at 0"


def test_the_wait_for_a_core_is_the_schedstat_second_field(tmp_path):
    stat = tmp_path / "schedstat"
    stat.write_text("21132563547 9246841095 32588\n", encoding="ascii")
    assert priority.cpu_wait_seconds(stat) == pytest.approx(9.246841095)
    assert priority.cpu_wait_seconds(tmp_path / "missing") is None
    stat.write_text("garbage\n", encoding="ascii")
    assert priority.cpu_wait_seconds(stat) is None


@pytest.mark.skipif(not Path("/proc/thread-self/schedstat").exists(), reason="not Linux")
def test_this_thread_has_a_wait_that_only_grows():
    first = priority.cpu_wait_seconds()
    assert first is not None and first >= 0
    second = priority.cpu_wait_seconds()
    assert second is not None and second >= first


def test_a_generator_that_fits_runs_realtime_in_a_fresh_process():
    out = in_a_child(
        "from harness.load.priority import prioritise, is_realtime, current_nice\n"
        f"why = prioritise({GENERATOR_NICE}, realtime=True)\n"
        "print(is_realtime(), current_nice(), '|', why)")
    if may_go_realtime():
        assert out == f"True {GENERATOR_NICE} | None"
    else:
        assert out.startswith("False") and "cannot run realtime (SCHED_FIFO 1: " in out
    assert not priority.is_realtime()  # the test process keeps its own policy


def may_go_realtime() -> bool:
    probe = ("import os\nos.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))")
    return subprocess.run([sys.executable, "-c", probe], check=False,
                          capture_output=True).returncode == 0


def test_realtime_refused_falls_back_to_the_nice_value_and_says_both(monkeypatch):
    def refuse(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(priority, "current_nice", lambda: GENERATOR_NICE)
    monkeypatch.setattr(priority, "is_realtime", lambda: False)
    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    assert prioritise(GENERATOR_NICE, realtime=True) == (
        "cannot run realtime (SCHED_FIFO 1: Operation not permitted)")
    monkeypatch.setattr(priority, "current_nice", lambda: 0)
    monkeypatch.setattr(os, "setpriority", refuse)
    assert prioritise(GENERATOR_NICE, realtime=True) == (
        f"cannot set nice {GENERATOR_NICE} (Operation not permitted); running at 0; "
        "cannot run realtime (SCHED_FIFO 1: Operation not permitted)")


def test_an_already_realtime_process_is_not_asked_again(monkeypatch):
    calls = []
    monkeypatch.setattr(priority, "current_nice", lambda: GENERATOR_NICE)
    monkeypatch.setattr(priority, "is_realtime", lambda: True)
    monkeypatch.setattr(os, "sched_setscheduler", lambda *a: calls.append(a))
    assert prioritise(GENERATOR_NICE, realtime=True) is None
    assert calls == []


@pytest.mark.parametrize(("generators", "cpus", "fits"), [
    (1, 2, True), (2, 2, False), (1, 1, False), (3, 4, True), (4, 4, False), (0, 2, False)])
def test_realtime_generators_leave_a_core_to_everything_else(generators, cpus, fits):
    assert priority.realtime_fits(generators, cpus) is fits
