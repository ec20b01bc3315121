"""Open-model pacing: intended send times for arrival-rate stages.

A closed model (N users, each waiting for its response before the next request) sends less when
the system stalls, so the stall never shows in the latencies: coordinated omission. Here each
request of an arrival-rate stage claims the next slot of a fixed schedule (`rate` per second) and
waits for it; when every user is held up by a slow system, the slots keep coming due, and the
request that finally goes out is charged from its slot, its *intended* send time, not from when
it could be sent. That is wrk2's correction; both the raw and the corrected latency are recorded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["IN_FLIGHT_SECONDS", "MIN_USERS_PER_GENERATOR", "Pacer", "RateSpan", "concurrency_for"]

# An arrival-rate stage gets enough users to hold `rate x IN_FLIGHT_SECONDS` requests in flight:
# at 200 req/s, responses may average a second before sending falls behind the schedule. When it
# does, the corrected latency still counts the wait and the report shows achieved < intended.
IN_FLIGHT_SECONDS = 1.0
MIN_USERS_PER_GENERATOR = 10


def concurrency_for(rate: float, generators: int = 1) -> int:
    """Users (concurrent requests) an arrival-rate stage of `rate` req/s runs with."""
    return max(math.ceil(rate * IN_FLIGHT_SECONDS), MIN_USERS_PER_GENERATOR * max(generators, 1))


@dataclass(frozen=True)
class RateSpan:
    """A stage on the schedule, seconds since the load started; rate None = closed model."""

    start: float
    end: float
    rate: float | None


class Pacer:
    """The send schedule of one generator: `share` of every stage's rate, slots offset by `phase`
    of a slot so that several generators interleave instead of sending in lockstep.

    Clock values are whatever `start(t0)` and `claim(now)` are given (time.monotonic in Locust).
    """

    def __init__(
        self, spans: Sequence[RateSpan], *, share: float = 1.0, phase: float = 0.0
    ) -> None:
        spans = [RateSpan(s.start, s.end, s.rate * share if s.rate else None) for s in spans]
        self.spans = tuple(spans)
        self.phase = phase
        self.t0: float | None = None
        self._next = 0.0  # seconds since t0 of the next unclaimed slot
        self._block = -1  # index of the stage the schedule last started

    @property
    def paces(self) -> bool:
        """Whether any stage is an arrival-rate stage at all."""
        return any(s.rate for s in self.spans)

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._next = 0.0
        self._block = -1

    def _index(self, elapsed: float) -> int | None:
        for index, span in enumerate(self.spans):
            if span.start <= elapsed < span.end:
                return index
        return None

    def active(self, now: float) -> bool:
        """Whether `now` falls in an arrival-rate stage."""
        if self.t0 is None:
            return False
        index = self._index(now - self.t0)
        return index is not None and self.spans[index].rate is not None

    def claim(self, now: float) -> float | None:
        """The next slot's intended send time (same clock as `now`), or None outside any
        arrival-rate stage (the request goes out unpaced). The slot may lie in the past: the
        system held every user up, and the request is late by exactly that much."""
        if self.t0 is None:
            return None
        elapsed = now - self.t0
        index = self._index(elapsed)
        if index is None or self.spans[index].rate is None:
            return None
        if self._block < 0 or self._crosses_closed(self._next, index):
            # The first slot of a block of arrival-rate stages that follows a closed stage
            # (or the run's start); a backlog from an earlier block is not carried over.
            span = self.spans[index]
            self._next = span.start + self.phase / float(span.rate or 1.0)
            self._block = index
        slot = self._next
        at = self._index(slot)
        rate = self.spans[at].rate if at is not None else None
        self._next = slot + 1.0 / float(rate or self.spans[index].rate or 1.0)
        return self.t0 + slot

    def _crosses_closed(self, slot: float, index: int) -> bool:
        at = self._index(slot)
        if at is None:
            return slot < self.spans[index].start
        return at < index and any(self.spans[k].rate is None for k in range(at, index + 1))

    def due_between(self, start: float, end: float) -> float:
        """Slots due between two clock values: the integral of the rate (fractional)."""
        if self.t0 is None or end <= start:
            return 0.0
        a, b = start - self.t0, end - self.t0
        total = 0.0
        for span in self.spans:
            if span.rate:
                overlap = min(b, span.end) - max(a, span.start)
                if overlap > 0:
                    total += overlap * span.rate
        return total
