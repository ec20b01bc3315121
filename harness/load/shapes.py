"""Scenario stages as a function of time: what Locust's shape ticks and what the checks window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from harness.load.pacing import RateSpan, concurrency_for
from harness.load.records import StagePlan

if TYPE_CHECKING:  # the load process imports this module; it needs no pydantic
    from harness.config.model import Stage

__all__ = ["StagePlan", "plan_stages", "rate_spans", "stage_at", "target_at"]


def plan_stages(
    stages: Sequence[Stage],
    steady_indexes: Sequence[int],
    generators: int = 1,
    rates: Mapping[int, float] | None = None,
) -> tuple[StagePlan, ...]:
    """From the scenario's stages to StagePlans laid end to end; unnamed stages become
    "stage N".

    `generators` is how many processes make the load (workers, or 1): an arrival-rate stage gets
    enough users that each generator has some. `rates` gives the requests/s of each stage sized
    by the calibration (utilization_of_target), by index; such a stage without one is an error
    of the caller.
    """
    plans = []
    start = 0.0
    for index, stage in enumerate(stages):
        rate = stage.rate
        if stage.utilization_of_target is not None:
            if rates is None or index not in rates:
                raise ValueError(f"stage {index + 1}: utilization_of_target needs a calibrated "
                                 "rate")
            rate = rates[index]
        spawn_rate = stage.spawn_rate
        if rate:
            users = concurrency_for(rate, generators)
            spawn_rate = max(spawn_rate, float(users))  # every user within a second
        else:
            users = stage.users
        plans.append(
            StagePlan(
                index=index,
                name=stage.name or f"stage {index + 1}",
                start=start,
                end=start + stage.duration,
                users=users,
                steady=index in steady_indexes,
                rate=rate or None,
                spawn_rate=spawn_rate,
                utilization_of_target=stage.utilization_of_target,
            )
        )
        start += stage.duration
    return tuple(plans)


def rate_spans(plans: Sequence[StagePlan]) -> tuple[RateSpan, ...]:
    """The stages as the pacer sees them: where each starts and ends, and its rate if any."""
    return tuple(RateSpan(p.start, p.end, p.rate) for p in plans)


def stage_at(plans: Sequence[StagePlan], elapsed: float) -> int | None:
    """The index of the stage running `elapsed` seconds into the load, None once all are done."""
    for index, plan in enumerate(plans):
        if elapsed < plan.end:
            return index
    return None


def target_at(plans: Sequence[StagePlan], elapsed: float) -> tuple[int, float] | None:
    """(users, spawn_rate) Locust should aim for at `elapsed`, or None to stop."""
    index = stage_at(plans, elapsed)
    if index is None:
        return None
    return plans[index].users, plans[index].spawn_rate
