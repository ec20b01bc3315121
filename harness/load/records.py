"""What the load stage hands on: per-interval counts and encoded histograms per request name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ErrorCount", "Interval", "LoadResult", "NameInterval", "StageWindow"]


@dataclass(frozen=True)
class NameInterval:
    """One request name (e.g. "GET /api/tickets/{id}") within one interval."""

    name: str
    requests: int
    failures: int
    histogram: str  # encoded HdrHistogram of response times in microseconds


@dataclass(frozen=True)
class Interval:
    """A slice of the run; times are seconds since the load started."""

    start: float
    end: float
    users: int
    names: tuple[NameInterval, ...]

    @property
    def requests(self) -> int:
        return sum(n.requests for n in self.names)

    @property
    def failures(self) -> int:
        return sum(n.failures for n in self.names)


@dataclass(frozen=True)
class ErrorCount:
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class StageWindow:
    """Where a scenario stage fell in the run, in seconds since the load started."""

    index: int
    name: str
    start: float
    end: float
    users: int
    steady: bool


@dataclass(frozen=True)
class LoadResult:
    started_at: float  # epoch seconds
    ended_at: float
    intervals: tuple[Interval, ...]
    errors: tuple[ErrorCount, ...]
    stages: tuple[StageWindow, ...]
    interrupted: bool = False
    generator_notes: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        return max(self.ended_at - self.started_at, 0.0)
