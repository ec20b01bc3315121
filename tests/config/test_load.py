from pathlib import Path

import pytest

from harness.config.load import bundled_scenarios, load_scenario, load_slo, read_yaml
from harness.errors import ConfigError
from harness.status import ExitStatus


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
name: quick
description: a quick one
stages:
  - {duration: 10s, users: 5, spawn_rate: 5}
  - {duration: 20s, users: 10, steady: true}
"""


def test_every_bundled_scenario_loads():
    names = set(bundled_scenarios())
    assert {"smoke", "baseline", "peak", "spike", "soak", "stress"} <= names
    for name in names:
        scenario = load_scenario(name)
        assert scenario.name == name
        assert scenario.duration > 0


def test_peak_runs_at_most_ten_minutes():
    assert load_scenario("peak").duration <= 600


def test_loads_a_scenario_file_by_path(tmp_path):
    scenario = load_scenario(str(write(tmp_path, GOOD)))
    assert scenario.duration == 30
    assert scenario.steady_stage_indexes() == (1,)
    assert scenario.source == tmp_path / "scenario.yaml"


def test_unknown_scenario_names_the_bundled_ones():
    with pytest.raises(ConfigError) as info:
        load_scenario("nope")
    assert "smoke" in str(info.value)
    assert info.value.exit_status is ExitStatus.BAD_CONFIG


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (GOOD.replace("users: 5", "users: many"), "stages -> 0 -> users", "integer"),
        (GOOD.replace("duration: 10s", "duration: soon"), "stages -> 0 -> duration", "duration"),
        (GOOD.replace("spawn_rate: 5", "spawn_rat: 5"), "stages -> 0 -> spawn_rat", "unknown"),
        (GOOD.replace("users: 5,", "users: 5, utilization_of_target: 1.4,"), "stages -> 0",
         "not users and utilization_of_target"),
        (GOOD.replace("users: 5,", "utilization_of_target: 0,"),
         "stages -> 0 -> utilization_of_target", "greater"),
        (GOOD + "replicas: 0\n", "replicas", "greater"),
        (GOOD.replace("description: a quick one\n", ""), "description", "missing"),
        (GOOD + "slo:\n  latency:\n    p95_ms: -1\n", "slo -> latency -> p95_ms", "greater"),
        ("name: x\ndescription: y\nstages: []\n", "stages", "at least 1"),
        ("name: [unclosed\n", "line 2", "invalid YAML"),
        ("- just\n- a list\n", "", "mapping"),
    ],
)
def test_malformed_scenarios_name_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert message.startswith(str(path))
    assert field in message
    assert words.lower() in message.lower()
    assert "\n" not in message


def test_unknown_field_lists_the_allowed_ones(tmp_path):
    path = write(tmp_path, GOOD.replace("spawn_rate: 5", "spawn_rat: 5"))
    with pytest.raises(ConfigError) as info:
        load_scenario(str(path))
    assert "allowed: " in str(info.value) and "spawn_rate" in str(info.value)


def test_a_missing_locustfile_is_named(tmp_path):
    path = write(tmp_path, GOOD + "locustfile: nothing_here.py\n")
    with pytest.raises(ConfigError, match="locustfile"):
        load_scenario(str(path))


def test_locustfile_resolves_against_the_scenario_folder(tmp_path):
    (tmp_path / "mine.py").write_text("", encoding="utf-8")
    scenario = load_scenario(str(write(tmp_path, GOOD + "locustfile: mine.py\n")))
    assert scenario.locustfile == tmp_path / "mine.py"


def test_bundled_slo_spec_loads_with_groups():
    slo = load_slo()
    assert slo.latency.p95_ms == 250
    assert slo.max_error_percent == pytest.approx(0.5)
    assert {"read", "search", "write"} <= set(slo.groups)


def test_yaml_merge_keys_merge_and_repeated_keys_are_refused(tmp_path):
    merged = write(tmp_path, "base: &base {a: 1, b: 2}\nsvc:\n  <<: *base\n  b: 3\n", "m.yaml")
    assert read_yaml(merged)["svc"] == {"a": 1, "b": 3}
    repeated = write(tmp_path, "svc:\n  b: 1\n  b: 2\n", "r.yaml")
    with pytest.raises(ConfigError, match="duplicate key 'b'"):
        read_yaml(repeated)
    with pytest.raises(ConfigError, match="the reason it matters"):
        read_yaml(tmp_path / "absent.yaml", missing="the reason it matters")
