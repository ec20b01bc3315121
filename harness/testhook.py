"""A test-only pause at a named stage of a run, so a test can interrupt the run exactly there.

`HARNESS_TEST_PAUSE_AT=load` makes the run stop at that stage and wait (at most
HARNESS_TEST_PAUSE_SECONDS, default 60) after touching the file named by
HARNESS_TEST_PAUSE_MARKER, if set. Stages: stack (replicas starting), provisioning (the stack is
up, load not yet started), load (the first interval of load has been recorded), collecting,
reporting. Unset, this does nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["ENV_PAUSE_AT", "ENV_PAUSE_MARKER", "ENV_PAUSE_SECONDS", "STAGES", "pause_at"]

ENV_PAUSE_AT = "HARNESS_TEST_PAUSE_AT"
ENV_PAUSE_MARKER = "HARNESS_TEST_PAUSE_MARKER"
ENV_PAUSE_SECONDS = "HARNESS_TEST_PAUSE_SECONDS"
STAGES = ("stack", "provisioning", "load", "collecting", "reporting")


def pause_at(stage: str, until: Callable[[], object] | None = None) -> None:
    """Wait here if the test asked to; end early once `until()` is true (a signal that was
    deferred meanwhile)."""
    if os.environ.get(ENV_PAUSE_AT) != stage:
        return
    marker = os.environ.get(ENV_PAUSE_MARKER)
    if marker:
        Path(marker).write_text(f"{stage} {os.getpid()}\n", encoding="utf-8")
    try:
        seconds = min(float(os.environ.get(ENV_PAUSE_SECONDS, "60")), 600.0)
    except ValueError:
        seconds = 60.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # in short sleeps, so a signal's handler runs at once
        if until is not None and until():
            return
        time.sleep(0.1)
