from pathlib import Path

import pytest

from harness.calibrate.session import cpu_target, require_replica_metrics
from harness.config.model import Scenario, Stage
from harness.errors import ConfigError
from harness.stack.backend import Endpoints, Replica
from harness.stack.external import ExternalStack
from harness.status import ExitStatus

SCENARIO = Scenario(
    name="mine", description="a user's own", source=Path("/tmp/mine.yaml"),
    stages=(Stage(duration=10, users=5), Stage(duration=30, utilization_of_target=1.5)),
    autoscaling={"sync_period": "3s", "scale_down_window": "20s"},
)


def test_the_target_comes_from_the_bundled_hpa_and_deployment():
    target = cpu_target(SCENARIO)
    assert (target.target_percent, target.request_cores) == (70, 0.5)
    assert (target.min_replicas, target.max_replicas) == (2, 10)
    assert target.scale_down_window == 20.0  # the scenario's shortened clock


def test_a_stack_without_per_replica_metrics_is_exit_2_naming_file_and_stage_key():
    endpoints = ExternalStack("http://127.0.0.1:9").endpoints()
    with pytest.raises(ConfigError) as raised:
        require_replica_metrics(SCENARIO, endpoints)
    assert raised.value.exit_status is ExitStatus.BAD_CONFIG
    message = str(raised.value)
    assert "/tmp/mine.yaml" in message and "stages -> 1 -> utilization_of_target" in message
    assert "external" in message


def test_replicas_with_their_own_metrics_are_enough():
    endpoints = Endpoints("embedded", "http://127.0.0.1:1", (Replica("r1", "http://x"),))
    require_replica_metrics(SCENARIO, endpoints)
    with pytest.raises(ConfigError):
        require_replica_metrics(SCENARIO, Endpoints("k8s", "http://127.0.0.1:1", ()))
