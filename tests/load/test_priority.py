"""The generator's scheduling priority: raised where the OS allows, and said when not."""

from __future__ import annotations

import os
import subprocess
import sys

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
