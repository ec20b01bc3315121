"""How long this machine takes a core away from a loop that wants it: the floor under any
event-loop lag a generator can report.

On every core at once, a loop pinned to it (realtime, SCHED_FIFO 1, where permitted) spins in
0.4 s bursts 0.6 s apart (under the kernel's realtime throttling, which would otherwise take 50
ms a second) and notes every gap longer than 0.5 ms between two reads of the clock: time the
core ran something else — interrupts, kernel threads, or the hypervisor running another guest.
A generator's lag probe, woken late by the same gaps, can never read below them.

Run alone as `python -m benchmarks.pauses CPU SECONDS [--normal]` (one core, JSON on stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["Pauses", "measure", "summarize"]

BURST = 0.4  # seconds spinning, then 0.6 s asleep
NOTED = 0.0005  # seconds: a shorter gap between two clock reads is the loop's own


@dataclass(frozen=True)
class Pauses:
    """What one core's spinning loop lost."""

    cpu: int
    realtime: bool
    spun_seconds: float
    over_1ms: int
    over_2ms: int
    longest_ms: float

    def over_2ms_per_second(self) -> float:
        return self.over_2ms / self.spun_seconds if self.spun_seconds > 0 else 0.0


def summarize(cpu: int, realtime: bool, spun: float, gaps: Sequence[float]) -> Pauses:
    """Gaps (seconds) a loop noted while it spun for `spun` seconds."""
    return Pauses(cpu, realtime, round(spun, 2), sum(g > 0.001 for g in gaps),
                  sum(g > 0.002 for g in gaps), round(max(gaps, default=0.0) * 1000.0, 2))


def _spin(cpu: int, seconds: float, realtime: bool) -> Pauses:
    os.sched_setaffinity(0, {cpu})
    if realtime:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except OSError:  # no CAP_SYS_NICE: say so in the record
            realtime = False
    clock = time.perf_counter
    gaps: list[float] = []
    spun = 0.0
    until = clock() + seconds
    while clock() < until:
        last = began = clock()
        end = began + BURST
        while last < end:
            now = clock()
            if now - last > NOTED:
                gaps.append(now - last)
            last = now
        spun += last - began
        time.sleep(1.0 - BURST)
    return summarize(cpu, realtime, spun, gaps)


def measure(seconds: float, realtime: bool = True) -> list[Pauses]:
    """Every core at once, for `seconds` each (about 40 % of it spinning)."""
    cpus = sorted(os.sched_getaffinity(0))
    extra = [] if realtime else ["--normal"]
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.pauses", str(cpu),
                               str(seconds), *extra], stdout=subprocess.PIPE, text=True)
             for cpu in cpus]
    found = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 30)
        found.append(Pauses(**json.loads(out)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pauses")
    parser.add_argument("cpu", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--normal", action="store_true", help="not realtime")
    args = parser.parse_args(argv)
    print(json.dumps(asdict(_spin(args.cpu, args.seconds, not args.normal))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
