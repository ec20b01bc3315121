"""Reproducibility of a benchmark on a shared machine: what the machine was doing meanwhile,
and how rounds are judged.

Every section states the machine's load average and the CPU time stolen (by the hypervisor)
while it ran; tools are interleaved within a round (each round in a rotated order, so a noisy
minute does not always hit the same tool); the first round is a warm-up and discarded; a goal is
judged on the median of at least three kept rounds, never on one.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

__all__ = ["MIN_ROUNDS", "Machine", "MachineWindow", "kept_rounds", "median_of", "rotated"]

MIN_ROUNDS = 3  # kept rounds a goal needs before it is judged


@dataclass(frozen=True)
class MachineWindow:
    """The machine over one section: 1-minute load average at its start and end, and the share
    of all CPU time stolen by the hypervisor in between."""

    load_start: float
    load_end: float
    steal_percent: float | None  # None where the kernel does not count steal

    def text(self) -> str:
        steal = "—" if self.steal_percent is None else f"{self.steal_percent:.1f} %"
        return f"load {self.load_start:.1f}→{self.load_end:.1f}, steal {steal}"


class Machine:
    """Opened at a section's start, closed at its end."""

    def __init__(self) -> None:
        self._load = os.getloadavg()[0]
        self._times = psutil.cpu_times()

    def close(self) -> MachineWindow:
        times = psutil.cpu_times()
        total = sum(times) - sum(self._times)
        steal = getattr(times, "steal", None)
        before = getattr(self._times, "steal", None)
        share = (100.0 * (steal - before) / total
                 if steal is not None and before is not None and total > 0 else None)
        return MachineWindow(round(self._load, 2), round(os.getloadavg()[0], 2),
                             None if share is None else round(share, 2))


def rotated(tools: Sequence[str], round_: int) -> list[str]:
    """The order the tools run in within round `round_`: rotated by one every round."""
    shift = round_ % len(tools) if tools else 0
    return [*tools[shift:], *tools[:shift]]


def kept_rounds(values: Sequence[float | None], warmup: int) -> list[float]:
    """The rounds that count: the warm-up rounds dropped, missing values left out."""
    return [v for v in values[warmup:] if v is not None]


def median_of(values: Sequence[float | None], warmup: int) -> tuple[float | None, bool]:
    """(median of the kept rounds, whether there are enough of them to judge a goal)."""
    kept = kept_rounds(values, warmup)
    if not kept:
        return None, False
    return statistics.median(kept), len(kept) >= MIN_ROUNDS
