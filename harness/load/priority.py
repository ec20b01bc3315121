"""The load generator runs ahead of the stack for CPU, where the OS allows it.

On one machine the stack and the generator share cores. Time the generator spends waiting for a
core is added to every latency it records (a response that has arrived waits until the
generator runs to notice it), so the generator asks the scheduler to run first.

- **Nice -10**: about nine times the CPU share of a process at the default 0 when both want a
  core (the kernel's weights: 9,548 against 1,024).
- **Realtime** on top, when asked (`harness run --generator-realtime`) and where it fits: a
  generator process that sends load runs under SCHED_FIFO at the lowest realtime priority, so it
  takes a core the moment it is ready to run instead of waiting its turn among the stack's
  processes. It is one event loop and so can hold at most one core; it is asked only while the
  generators that send load leave at least one core to everything else (one local generator on
  two cores; not two workers on two), and the kernel's realtime throttling
  (`kernel.sched_rt_runtime_us`, 95 % of each second by default) still leaves the rest of its
  core to others should a generator spin. A master sends nothing and stays at nice -10.
  Not by default: a realtime generator preempts the stack it shares the cores with the moment a
  response wakes it, mid-request, while the replica holds a pooled connection. Measured in
  `scale` on `--stack local` (1.6 of 2 cores busy in the surge): realtime, request p95 22.5 and
  26.0 ms and pool acquire-wait p95 7.7 ms (a request held its connection 2.8 ms on average);
  at nice -10, p95 9.5 and 9.6 ms, acquire-wait p95 0.1 ms, held 2.0 ms (two runs each). The
  wait for a core it spares the generator is mostly out of the latency it records anyway:
  responses are timed by the kernel's receive stamps (`harness.load.wire`).

Both need root or CAP_SYS_NICE; without it the generator runs at the priority it was given, its
log says why, and every interval says which it had (`GeneratorSample.nice`, `.realtime`), so a
report never claims an isolation it did not get.

What the priority leaves is measured, not assumed: the kernel counts the time a task was ready
to run and waited on a run queue (`/proc/<pid>/schedstat`, its second field), and every interval
records that wait for the generator's event loop (`GeneratorSample.cpu_wait_percent`). Measured
on 2 shared cores (`harness run --scenario peak`, the stack on the same cores): at nice -10 the
loop waited 36-71 ms a second for a core; realtime, 0.2 ms.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "GENERATOR_NICE",
    "REALTIME_PRIORITY",
    "SCHEDSTAT",
    "cpu_wait_seconds",
    "current_nice",
    "is_realtime",
    "prioritise",
    "realtime_fits",
]

GENERATOR_NICE = -10
REALTIME_PRIORITY = 1  # SCHED_FIFO's lowest: ahead of every ordinary process, behind the kernel's
# The calling thread's scheduler statistics: CPU time, time waiting on a run queue, timeslices
# (nanoseconds). Read from the event loop's own thread, so the wait is the loop's.
SCHEDSTAT = Path("/proc/thread-self/schedstat")


def current_nice() -> int:
    """This process's nice value (-20 runs first, 19 last)."""
    return os.getpriority(os.PRIO_PROCESS, 0)


def is_realtime() -> bool:
    """Whether the calling thread runs under a realtime policy (SCHED_FIFO or SCHED_RR)."""
    try:
        return os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)
    except (AttributeError, OSError):  # not Linux
        return False


def realtime_fits(generators: int, cpus: int | None = None) -> bool:
    """Whether `generators` realtime load processes still leave a core to everything else."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return 1 <= generators <= cpus - 1


def prioritise(nice: int, realtime: bool = False) -> str | None:
    """Run this process (and the threads it starts later) at `nice` unless it already runs
    ahead of that, and realtime on top if asked. Returns what it could not do, or None."""
    problems = [p for p in (_lower_nice(nice), _go_realtime() if realtime else None) if p]
    return "; ".join(problems) or None


def _go_realtime() -> str | None:
    if is_realtime():
        return None
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
    except OSError as exc:  # PermissionError without CAP_SYS_NICE
        return f"cannot run realtime (SCHED_FIFO {REALTIME_PRIORITY}: {exc.strerror or exc})"
    return None


def _lower_nice(nice: int) -> str | None:
    if current_nice() <= nice:
        return None
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as exc:
        return f"cannot set nice {nice} ({exc.strerror or exc}); running at {current_nice()}"
    return None


def cpu_wait_seconds(source: Path = SCHEDSTAT) -> float | None:
    """How long the calling thread has waited for a core since it started (ready to run, not
    running), or None where the kernel does not say (not Linux, or schedstat unreadable)."""
    try:
        fields = source.read_text(encoding="ascii").split()
        return int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
