"""The stack's numbers come from the stack's files, and follow them when they change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.provision.sources import load_stack_numbers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "stack"
    shutil.copytree(REPO / "stack", target, ignore=shutil.ignore_patterns("app", "__pycache__"))
    return target


def test_bundled_numbers() -> None:
    numbers = load_stack_numbers()
    assert (numbers.hpa_name, numbers.min_replicas, numbers.max_replicas) == (
        "servicedesk-app", 2, 10)
    assert (numbers.cpu_target_percent, numbers.memory_target_percent) == (70, 80)
    assert numbers.db_pool_max == 7
    assert numbers.db_pool_acquire_timeout_seconds == 5
    assert (numbers.pg_max_connections, numbers.pg_superuser_reserved, numbers.pg_headroom) == (
        100, 3, 10)
    assert (numbers.pg_usable_connections, numbers.pg_app_budget) == (97, 87)
    assert numbers.redis_maxmemory_bytes == 2 * 2**30


def test_numbers_follow_the_files(stack_copy: Path) -> None:
    configmap = stack_copy / "k8s/base/configmap.yaml"
    configmap.write_text(configmap.read_text().replace('DB_POOL_MAX: "7"', 'DB_POOL_MAX: "9"'))
    hpa = stack_copy / "k8s/base/hpa.yaml"
    hpa.write_text(hpa.read_text().replace("maxReplicas: 10", "maxReplicas: 8"))
    conf = stack_copy / "postgres/postgresql.conf"
    conf.write_text(re.sub(r"(?m)^max_connections = 100", "max_connections = 150",
                           conf.read_text()))
    numbers = load_stack_numbers(stack_copy)
    assert (numbers.db_pool_max, numbers.max_replicas, numbers.pg_max_connections) == (9, 8, 150)
    assert numbers.pg_app_budget == 150 - 3 - 10


def test_a_missing_setting_names_the_file_and_key(stack_copy: Path) -> None:
    configmap = stack_copy / "k8s/base/configmap.yaml"
    configmap.write_text(configmap.read_text().replace('  DB_POOL_MAX: "7"\n', ""))
    with pytest.raises(ConfigError) as caught:
        load_stack_numbers(stack_copy)
    assert "configmap.yaml" in str(caught.value)
    assert "DB_POOL_MAX" in str(caught.value)


def test_a_bad_setting_says_what_is_allowed(stack_copy: Path) -> None:
    configmap = stack_copy / "k8s/base/configmap.yaml"
    configmap.write_text(configmap.read_text().replace('DB_POOL_MAX: "7"', 'DB_POOL_MAX: "lots"'))
    with pytest.raises(ConfigError, match="DB_POOL_MAX.*'lots'.*a number"):
        load_stack_numbers(stack_copy)
