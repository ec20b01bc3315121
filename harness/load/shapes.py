"""Scenario stages as a function of time: what Locust's shape ticks and what the checks window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.load.pacing import RateSpan, concurrency_for
from harness.load.records import StageWindow

__all__ = ["StagePlan", "plan_stages", "rate_spans", "stage_at", "target_at", "windows"]


@dataclass(frozen=True)
class StagePlan:
    """A stage flattened for the load process (plain numbers, JSON-friendly).

    A closed-model stage runs `users` users; an arrival-rate stage sends `rate` requests/s and
    `users` is the concurrency that keeps the rate (harness.load.pacing.concurrency_for).
    """

    name: str
    duration: float
    users: int
    spawn_rate: float
    steady: bool
    rate: float | None = None


def plan_stages(
    stages: Sequence[object], steady_indexes: Sequence[int], generators: int = 1
) -> tuple[StagePlan, ...]:
    """From config Stage records to StagePlans; unnamed stages become "stage N".

    `generators` is how many processes make the load (workers, or 1): an arrival-rate stage gets
    enough users that each generator has some.
    """
    plans = []
    for index, stage in enumerate(stages):
        name = getattr(stage, "name", None) or f"stage {index + 1}"
        rate = getattr(stage, "rate", None)
        spawn_rate = float(getattr(stage, "spawn_rate"))  # noqa: B009 - duck-typed record
        if rate:
            users = concurrency_for(float(rate), generators)
            spawn_rate = max(spawn_rate, float(users))  # every user within a second
        else:
            users = int(getattr(stage, "users"))  # noqa: B009
        plans.append(
            StagePlan(
                name=name,
                duration=float(getattr(stage, "duration")),  # noqa: B009
                users=users,
                spawn_rate=spawn_rate,
                steady=index in steady_indexes,
                rate=float(rate) if rate else None,
            )
        )
    return tuple(plans)


def windows(plans: Sequence[StagePlan]) -> tuple[StageWindow, ...]:
    result = []
    start = 0.0
    for index, plan in enumerate(plans):
        end = start + plan.duration
        result.append(
            StageWindow(index, plan.name, start, end, plan.users, plan.steady, plan.rate)
        )
        start = end
    return tuple(result)


def rate_spans(plans: Sequence[StagePlan]) -> tuple[RateSpan, ...]:
    """The stages as the pacer sees them: where each starts and ends, and its rate if any."""
    return tuple(RateSpan(w.start, w.end, w.rate) for w in windows(plans))


def stage_at(plans: Sequence[StagePlan], elapsed: float) -> int | None:
    """The index of the stage running `elapsed` seconds into the load, None once all are done."""
    start = 0.0
    for index, plan in enumerate(plans):
        start += plan.duration
        if elapsed < start:
            return index
    return None


def target_at(plans: Sequence[StagePlan], elapsed: float) -> tuple[int, float] | None:
    """(users, spawn_rate) Locust should aim for at `elapsed`, or None to stop."""
    index = stage_at(plans, elapsed)
    if index is None:
        return None
    return plans[index].users, plans[index].spawn_rate
