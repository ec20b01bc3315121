"""Scenario stages as a function of time: what Locust's shape ticks and what the checks window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.load.records import StageWindow

__all__ = ["StagePlan", "plan_stages", "stage_at", "target_at"]


@dataclass(frozen=True)
class StagePlan:
    """A stage flattened for the load process (plain numbers, JSON-friendly)."""

    name: str
    duration: float
    users: int
    spawn_rate: float
    steady: bool


def plan_stages(stages: Sequence[object], steady_indexes: Sequence[int]) -> tuple[StagePlan, ...]:
    """From config Stage records to StagePlans; unnamed stages become "stage N"."""
    plans = []
    for index, stage in enumerate(stages):
        name = getattr(stage, "name", None) or f"stage {index + 1}"
        plans.append(
            StagePlan(
                name=name,
                duration=float(getattr(stage, "duration")),  # noqa: B009 - duck-typed record
                users=int(getattr(stage, "users")),  # noqa: B009
                spawn_rate=float(getattr(stage, "spawn_rate")),  # noqa: B009
                steady=index in steady_indexes,
            )
        )
    return tuple(plans)


def windows(plans: Sequence[StagePlan]) -> tuple[StageWindow, ...]:
    result = []
    start = 0.0
    for index, plan in enumerate(plans):
        end = start + plan.duration
        result.append(StageWindow(index, plan.name, start, end, plan.users, plan.steady))
        start = end
    return tuple(result)


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
