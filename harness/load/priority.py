"""The load generator runs ahead of the stack for CPU, where the OS allows it.

On one machine the stack and the generator share cores. Time the generator spends waiting for a
core is added to every latency it records (a response that has arrived waits until the
generator runs to notice it), so the generator asks the scheduler to run first: a nice value of
-10 gives it about nine times the CPU share of a process at the default 0 when both want a core
(the kernel's weights: 9,548 against 1,024). The generator is one event loop, so it can never
take more than one core from the stack. Lowering a nice value needs root or CAP_SYS_NICE; without
it the generator runs at the priority it was given, and every interval says which it had
(`GeneratorSample.nice`), so a report never claims an isolation it did not get.
"""

from __future__ import annotations

import os

__all__ = ["GENERATOR_NICE", "current_nice", "prioritise"]

GENERATOR_NICE = -10


def current_nice() -> int:
    """This process's nice value (-20 runs first, 19 last)."""
    return os.getpriority(os.PRIO_PROCESS, 0)


def prioritise(nice: int) -> str | None:
    """Run this process (and the threads it starts later) at `nice`, unless it already runs at
    a higher priority. Returns why it could not, or None."""
    if current_nice() <= nice:
        return None
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as exc:  # PermissionError without CAP_SYS_NICE
        return f"cannot set nice {nice} ({exc.strerror or exc}); running at {current_nice()}"
    return None
