"""A scenario's `faults:` and the SLO spec's `faults:` objectives, parsed and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.faults import FaultObjectives
from harness.config.load import load_scenario, load_slo
from harness.config.model import RunOptions, SloSpec
from harness.errors import ConfigError
from harness.faults.session import check_supported

BASE = """name: f
description: faults
stages:
  - {duration: 60s, users: 5}
  - {duration: 2m, users: 10, steady: true}
"""


def write(tmp_path: Path, faults: str, name: str = "f.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + "faults:\n" + faults, encoding="utf-8")
    return path


def test_every_kind_parses_with_its_parameters(tmp_path):
    scenario = load_scenario(str(write(tmp_path, """
  - {at: 10s, kind: kill-replica, count: 2, respect_pdb: false}
  - {at: 20s, kind: restart-postgres, mode: immediate, down_for: 3s}
  - {at: 40s, kind: stop-redis, duration: 30s}
  - {at: 80s, kind: slow-database, duration: 20s, latency: 200ms}
  - {at: 110s, kind: exhaust-pool, duration: 10s, table: comments, name: lock-storm}
""")))
    kinds = [f.kind for f in scenario.faults]
    assert kinds == ["kill-replica", "restart-postgres", "stop-redis", "slow-database",
                     "exhaust-pool"]
    assert scenario.faults[3].latency == pytest.approx(0.2)
    assert scenario.faults[1].down_for == 3.0
    assert scenario.faults[4].name == "lock-storm"


@pytest.mark.parametrize(("faults", "where"), [
    ("  - {at: 10s, kind: unplug-cable}\n", "faults -> 0"),
    ("  - {at: 10s, kind: stop-redis}\n", "faults -> 0 -> stop-redis -> duration"),
    ("  - {at: 10s, kind: kill-replica, count: 0}\n", "faults -> 0 -> kill-replica -> count"),
    ("  - {at: soon, kind: kill-replica}\n", "faults -> 0 -> kill-replica -> at"),
    ("  - {at: 10s, kind: kill-replica, colour: red}\n", "faults -> 0 -> kill-replica -> colour"),
    ("  - {at: 5m, kind: kill-replica}\n", "faults"),
    ("  - {at: 10s, kind: stop-redis, duration: 30s}\n"
     "  - {at: 20s, kind: stop-redis, duration: 5s}\n", "faults"),
    ("  - {at: 10s, kind: exhaust-pool, duration: 5s, table: pg_class}\n",
     "faults -> 0 -> exhaust-pool -> table"),
    ("  - {at: 10s, kind: rollout, app_settings: {cache_ttl: 1}}\n",
     "faults -> 0 -> rollout -> app_settings"),
    ("  - {at: 10s, kind: rollout, progress_deadline: 0s}\n",
     "faults -> 0 -> rollout -> progress_deadline"),
    ("  - {at: 10s, kind: rollout, failed_requests: -1}\n",
     "faults -> 0 -> rollout -> failed_requests"),
])
def test_a_bad_fault_names_file_and_field(tmp_path, faults, where):
    path = write(tmp_path, faults)
    with pytest.raises(ConfigError) as caught:
        load_scenario(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}"), message
    assert "\n" not in message


def test_squeezing_a_scenario_moves_its_faults_with_it(tmp_path):
    scenario = load_scenario(str(write(tmp_path, """
  - {at: 90s, kind: stop-redis, duration: 30s}
  - {at: 30s, kind: kill-replica}
""")))
    squeezed = scenario.scaled_to(60)  # a third
    assert [f.at for f in squeezed.faults] == pytest.approx([30, 10])
    assert squeezed.faults[0].duration == pytest.approx(10)


def test_fault_objectives_default_to_the_error_budget_and_a_minute():
    spec = SloSpec()
    assert spec.faults is None
    objectives = spec.fault_objectives
    assert objectives.budget_for("kill-replica", spec.availability_percent) == pytest.approx(0.5)
    assert objectives.recovery_for("stop-redis") == 60.0


def test_per_kind_objectives_override_the_general_ones(tmp_path):
    path = tmp_path / "slo.yaml"
    path.write_text("availability_percent: 99.9\nfaults:\n  budget_percent: 1\n  recovery: 20s\n"
                    "  kinds:\n    restart-postgres: {budget_percent: 10, recovery: 45s}\n")
    objectives = load_slo(path).fault_objectives
    assert objectives.budget_for("restart-postgres", 99.9) == 10
    assert objectives.budget_for("kill-replica", 99.9) == 1
    assert objectives.recovery_for("restart-postgres") == 45
    assert objectives.recovery_for("stop-redis") == 20


def test_an_unknown_kind_in_the_objectives_is_a_config_error(tmp_path):
    path = tmp_path / "slo.yaml"
    path.write_text("faults:\n  kinds:\n    meteor: {budget_percent: 10}\n")
    with pytest.raises(ConfigError, match=r"slo.yaml: faults -> kinds -> meteor"):
        load_slo(path)


def test_scenario_overrides_replace_the_fault_objectives(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "slo:\n  faults: {window: 10s, kinds: {stop-redis: {recovery: 5s}}}\n")
    spec = load_scenario(str(path)).slo.apply(SloSpec())
    assert spec.fault_objectives.window == 10
    expected = FaultObjectives(window=10, kinds={"stop-redis": {"recovery": 5}})
    assert spec.fault_objectives == expected


def _options(stack: str, **extra: object) -> RunOptions:
    return RunOptions(stack=stack, report_dir=Path("/tmp"), run_id="x", **extra)


def test_server_faults_need_the_local_stack_with_its_own_servers(tmp_path):
    redis = "  - {at: 10s, kind: stop-redis, duration: 5s}\n"
    scenario = load_scenario(str(write(tmp_path, redis)))
    with pytest.raises(ConfigError, match=r"faults -> 0 -> kind: stop-redis .*--stack local"):
        check_supported(scenario, _options("embedded"))
    with pytest.raises(ConfigError, match="--redis-url"):
        check_supported(scenario, _options("local", redis_url="redis://127.0.0.1:1/0"))
    check_supported(scenario, _options("local"))
    kill = load_scenario(str(write(tmp_path, "  - {at: 10s, kind: kill-replica}\n", "k.yaml")))
    check_supported(kill, _options("embedded"))
    with pytest.raises(ConfigError, match="needs a stack the harness runs"):
        check_supported(kill, _options("external", target="http://127.0.0.1:9"))


def test_on_k8s_only_a_rollout_runs(tmp_path):
    k8s = _options("k8s", context="fake")
    rollout = load_scenario(str(write(
        tmp_path, "  - {at: 10s, kind: rollout, bad: true, progress_deadline: 30s}\n")))
    check_supported(rollout, k8s)
    kill = load_scenario(str(write(tmp_path, "  - {at: 10s, kind: kill-replica}\n", "k.yaml")))
    with pytest.raises(ConfigError, match="needs a stack the harness runs"):
        check_supported(kill, k8s)
    image = load_scenario(str(write(
        tmp_path, "  - {at: 10s, kind: rollout, image: 'servicedesk:v2'}\n"
        "autoscaling: {enabled: false}\n", "i.yaml")))
    check_supported(image, k8s)
    with pytest.raises(ConfigError, match=r"faults -> 0 -> image: .*--stack k8s"):
        check_supported(image, _options("embedded"))


def test_a_rollout_parses_and_needs_a_fixed_replica_count(tmp_path):
    text = ("  - {at: 10s, kind: rollout, app_settings: {CACHE_TTL_SECONDS: '60'}}\n"
            "  - {at: 40s, kind: rollout, bad: true, progress_deadline: 30s, "
            "failed_requests: 2}\n")
    scenario = load_scenario(str(write(tmp_path, text)))
    good, bad = scenario.faults
    assert (good.app_settings, good.bad, good.progress_deadline, good.failed_requests) == (
        {"CACHE_TTL_SECONDS": "60"}, False, None, 0)
    assert (bad.bad, bad.progress_deadline, bad.failed_requests) == (True, 30.0, 2)
    squeezed = scenario.scaled_to(90)  # half: the deadline shrinks with the schedule
    assert [(f.at, f.progress_deadline) for f in squeezed.faults] == [(5.0, None), (20.0, 15.0)]
    with pytest.raises(ConfigError, match=r"autoscaling -> enabled: .*not emulated"):
        check_supported(scenario, _options("embedded"))
    fixed = scenario.model_copy(update={"autoscaling": scenario.autoscaling.model_copy(
        update={"enabled": False})})
    check_supported(fixed, _options("local"))
    check_supported(fixed, _options("compose"))  # the harness starts and stops its containers
    with pytest.raises(ConfigError, match=r"autoscaling -> enabled: .*not emulated"):
        check_supported(scenario, _options("compose"))
    with pytest.raises(ConfigError, match="needs a stack the harness runs"):
        check_supported(fixed, _options("external"))
