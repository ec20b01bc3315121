"""The rolling update's arithmetic against Kubernetes' deployment controller (rolling.go)."""

from __future__ import annotations

import pytest

from harness.stack.rollout import RevisionCount, RolloutPlan, Step, next_step, resolve_fenceposts


def plan(replicas: int = 3, surge: int = 1, unavailable: int = 0) -> RolloutPlan:
    return RolloutPlan(replicas, surge, unavailable, 0.0, 600.0, 30.0, 0.0)


@pytest.mark.parametrize(("surge", "unavailable", "replicas", "expected"), [
    (1, 0, 3, (1, 0)),
    ("25%", "25%", 3, (1, 0)),  # surge rounds up, unavailable down (ResolveFenceposts)
    ("25%", "25%", 10, (3, 2)),
    (0, 0, 3, (0, 1)),  # both 0: one may be unavailable, or the rollout could never move
    ("0%", "50%", 5, (0, 2)),
    (2, "100%", 4, (2, 4)),
])
def test_fenceposts(surge, unavailable, replicas, expected):
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


@pytest.mark.parametrize(("new", "old", "expected", "why"), [
    ((0, 0), (3, 3), Step(1, 3), "grow by the surge first"),
    ((1, 0), (3, 3), Step(1, 3), "at the ceiling, nothing available to trade"),
    ((1, 1), (3, 3), Step(1, 2), "one new available: one old may go"),
    ((1, 1), (2, 2), Step(2, 2), "room again: grow"),
    ((3, 3), (1, 1), Step(3, 0), "the last old one goes"),
    ((3, 3), (0, 0), Step(3, 0), "done"),
    ((1, 1), (3, 2), Step(1, 2), "the unready old one is cleaned up first"),
])
def test_surge_one_unavailable_zero(new, old, expected, why):
    assert next_step(plan(), RevisionCount(*new), RevisionCount(*old)) == expected, why


def test_max_unavailable_lets_old_replicas_go_before_new_ones_are_ready():
    # maxSurge 0, maxUnavailable 1 (as a tight cluster would): shrink first, then grow.
    p = plan(replicas=3, surge=0, unavailable=1)
    assert next_step(p, RevisionCount(0, 0), RevisionCount(3, 3)) == Step(0, 2)
    assert next_step(p, RevisionCount(0, 0), RevisionCount(2, 2)) == Step(1, 2)
    assert next_step(p, RevisionCount(1, 0), RevisionCount(2, 2)) == Step(1, 2)


def test_a_version_that_never_turns_ready_never_takes_an_old_replica():
    p = plan()
    step = next_step(p, RevisionCount(0, 0), RevisionCount(3, 3))
    for _ in range(5):
        step = next_step(p, RevisionCount(step.new, 0), RevisionCount(step.old, 3))
    assert step == Step(1, 3)
    assert not step.done


def test_a_whole_rollout_stays_within_the_ceiling_and_the_floor():
    """Each new replica turns available one round after it was created."""
    p = plan(replicas=5, surge=2, unavailable=1)
    new, new_ready, old = 0, 0, 5
    for _ in range(40):
        step = next_step(p, RevisionCount(new, new_ready), RevisionCount(old, old))
        assert step.new + step.old <= p.max_total
        assert new_ready + step.old >= p.min_available  # what is available once old ones went
        new_ready, new, old = new, step.new, step.old  # last round's new ones are ready now
        if step.done and new_ready == p.replicas:
            break
    assert (new, old) == (5, 0)
