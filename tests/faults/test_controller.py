"""The replica controller: a killed replica replaced, gated by its probes, on a real embedded
stack (the PodDisruptionBudget arithmetic is tested in tests/config/test_k8s.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness.config.model import SeedSpec
from harness.stack.embedded import EmbeddedStack, ProbeSpec


@pytest.fixture
def stack(tmp_path: Path):
    stack = EmbeddedStack(replicas=2, log_dir=tmp_path / "logs", seed=SeedSpec(tickets=50),
                          probe=ProbeSpec(attempts=30, period=0.5))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
def test_a_killed_replica_is_replaced_and_counted_as_a_crash(stack):
    controller = stack.controller
    assert controller is not None and controller.ready_count() == 2
    assert controller.disruptions_allowed() == 1
    victim = stack.current_replicas()[0]
    os.killpg(victim.pid, signal.SIGKILL)
    assert _wait(lambda: any(e.event == "ready" for e in controller.snapshot())), \
        controller.snapshot()
    events = controller.snapshot()
    exited = next(e for e in events if e.event == "exited")
    assert exited.replica == victim.name and not exited.expected
    assert "SIGKILL" in exited.detail
    started = next(e for e in events if e.event == "started")
    assert started.replica not in {victim.name} and started.t >= exited.t
    names = {r.name for r in stack.current_replicas()}
    assert victim.name not in names and len(names) == 2
    assert controller.disruptions_allowed() == 1


@pytest.mark.integration
def test_an_expected_exit_is_not_a_crash_and_the_budget_waits_for_readiness(stack):
    controller = stack.controller
    victim = stack.processes()[0]
    controller.expect_exit(victim, "fault test")
    os.killpg(victim.pid, signal.SIGKILL)
    # Until the replacement is ready, the budget (maxUnavailable 1) allows no other eviction.
    assert _wait(lambda: controller.disruptions_allowed() == 0, 10)
    assert _wait(lambda: controller.disruptions_allowed() == 1, 30)
    exited = next(e for e in controller.snapshot() if e.event == "exited")
    assert exited.expected and "fault test" in exited.detail


@pytest.mark.integration
def test_scaling_down_is_not_mistaken_for_a_crash(stack):
    stack.scale(1)
    time.sleep(1.5)
    assert stack.replica_count() == 1
    assert not [e for e in stack.controller.snapshot() if e.event in ("exited", "started")]


@pytest.mark.integration
def test_a_drain_of_two_waits_for_the_first_replacement_to_be_ready(tmp_path):
    from harness.config.faults import KillReplica
    from harness.faults.injector import FaultInjector, FaultTarget

    stack = EmbeddedStack(replicas=2, log_dir=tmp_path / "logs", seed=SeedSpec(tickets=50),
                          probe=ProbeSpec(attempts=30, period=0.5))
    try:
        stack.up()
        drain = KillReplica(at=0, kind="kill-replica", count=2, name="drain")
        injector = FaultInjector([drain], FaultTarget.of(stack.capabilities()))
        injector.start()
        assert _wait(lambda: "drain" in injector.events, 60)
        event = injector.stop()[0]
        assert event.outcome == "injected", event.detail
        first, second = event.facts["killed"]
        ready = [e for e in stack.controller.snapshot() if e.event == "ready"]
        assert ready and ready[0].t <= second["t"], (ready, second)  # maxUnavailable 1
        assert event.facts["pdb_wait_seconds"] > 0.5
        assert "waiting for the disruption budget" in event.detail
    finally:
        stack.down()


@pytest.mark.integration
def test_a_scale_up_returns_at_once_and_the_replicas_start_together(stack):
    controller = stack.controller
    began = time.monotonic()
    stack.scale(4)
    assert time.monotonic() - began < 1.0  # the count is written; nobody waits for probes
    assert stack.desired_replicas() == 4
    assert _wait(lambda: len(stack.current_replicas()) == 4, 10)
    new = [r for r in stack.current_replicas() if r.name not in {"replica-1", "replica-2"}]
    # Until their probes pass, new replicas are reported not ready, with when they started.
    assert all(r.started_at is not None and r.ready_changed_at is not None for r in new)
    assert _wait(lambda: controller.ready_count() == 4, 60), controller.snapshot()
    ready = {r.name: r for r in stack.current_replicas()}
    assert all(ready[r.name].ready and ready[r.name].ready_changed_at > r.started_at
               for r in new)
    events = controller.snapshot()
    starts = [e.t for e in events if e.event == "started"]
    readies = [e.t for e in events if e.event == "ready"]
    assert len(starts) == 2 and len(readies) == 2
    assert max(starts) <= min(readies)  # both started before either was ready: not one by one
    stack.scale(2)
    assert stack.desired_replicas() == 2 and stack.replica_count() == 2
    assert {r.name for r in stack.current_replicas()} == {"replica-1", "replica-2"}
