"""The compose backend on a real Docker engine, with the images scripts/images builds locally.

One stack (two app replicas) is brought up for the module; each test reads one promise of the
seed back from it: hardening as `docker inspect` and the kernel report it, TLS 1.3 only, the
static-asset cache headers, compression, loopback-only ports, Prometheus scraping every replica.
The last tests bring it down and find nothing of the project left, also after a failed start.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import time
from pathlib import Path

import httpx
import pytest

from harness.config.model import SeedSpec
from harness.errors import StackError
from harness.stack import prometheus
from harness.stack.compose import ComposeStack
from harness.stack.engine import find_compose
from tests.stack.engine_support import (  # noqa: F401 - local_images is a fixture
    docker,
    inspect,
    local_images,
    project_resources,
    with_images,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def stack(local_images, tmp_path_factory):  # noqa: F811
    backend = ComposeStack(
        log_dir=tmp_path_factory.mktemp("compose-logs"),
        replicas=2,
        seed=SeedSpec(tickets=300, agents=5, customers=20),
        environ=with_images(local_images),
    )
    try:
        backend.up()
        yield backend
    finally:
        backend.down()


@pytest.fixture(scope="module")
def project(stack) -> str:
    return stack.endpoints().extra["project"]


def _containers(stack, service: str) -> list[dict]:
    ids = [c.id for c in stack.container_states() if c.service == service]
    assert ids, f"no {service} container"
    return inspect(*ids)


def _agent_token(stack) -> str:
    tokens = json.loads(Path(stack.endpoints().tokens_file).read_text())
    return tokens["agents"][0]


def _client() -> httpx.Client:
    return httpx.Client(verify=False, timeout=10.0)  # noqa: S501 - the run's self-signed cert


def test_every_service_is_healthy_and_the_stack_says_where_it_is(stack):
    endpoints = stack.endpoints()
    assert stack.ready()
    assert endpoints.service_url.startswith("https://127.0.0.1:")
    assert endpoints.prometheus_url.startswith("http://127.0.0.1:")
    assert [r.name for r in endpoints.replicas] == ["app-1", "app-2"]
    services = {c.service for c in stack.container_states()}
    assert services == {"postgres", "redis", "app", "nginx", "prometheus"}  # no profile asked
    assert all(c.health == "healthy" for c in stack.container_states())
    assert set(stack.timings) >= {"build", "up", "seed"}


def test_ports_are_published_on_loopback_only(stack):
    items = inspect(*(c.id for c in stack.container_states()))
    published = [(item["Name"], binding) for item in items
                 for bindings in (item["NetworkSettings"]["Ports"] or {}).values()
                 for binding in bindings or ()]
    assert published, "nothing is published"
    assert {binding["HostIp"] for _, binding in published} == {"127.0.0.1"}, published
    # PostgreSQL and Redis are on the internal network only: not published at all.
    for item in items:
        service = item["Config"]["Labels"]["com.docker.compose.service"]
        if service in ("postgres", "redis"):
            assert not any(item["NetworkSettings"]["Ports"].values())


def test_app_containers_are_hardened_as_the_seed_says(stack):
    for item in _containers(stack, "app"):
        host = item["HostConfig"]
        assert item["Config"]["User"] == "1001:1001"
        assert host["ReadonlyRootfs"] is True
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["CapDrop"] == ["ALL"]
        assert {cap.removeprefix("CAP_") for cap in host["CapAdd"] or ()} <= {"NET_BIND_SERVICE"}
        # What the kernel says about the running process, not only what was asked for.
        status = docker("exec", item["Id"], "cat", "/proc/1/status").stdout
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        assert fields["Uid"].split()[0] == "1001"
        assert fields["NoNewPrivs"].strip() == "1"
        assert int(fields["CapEff"], 16) == 0
        assert int(fields["CapBnd"], 16) == 1 << 10  # CAP_NET_BIND_SERVICE only
        touch = docker("exec", item["Id"], "touch", "/probe")
        assert touch.returncode != 0 and "Read-only file system" in touch.stderr
        assert docker("exec", item["Id"], "touch", "/tmp/probe").returncode == 0  # tmpfs


def test_every_other_container_has_no_new_privileges_and_nginx_is_unprivileged(stack):
    for service in ("postgres", "redis", "prometheus", "nginx"):
        for item in _containers(stack, service):
            assert "no-new-privileges:true" in item["HostConfig"]["SecurityOpt"], service
    nginx = _containers(stack, "nginx")[0]
    assert nginx["HostConfig"]["ReadonlyRootfs"] is True
    assert nginx["HostConfig"]["CapDrop"] == ["ALL"]
    status = docker("exec", nginx["Id"], "cat", "/proc/1/status").stdout
    assert "\nUid:\t101\t" in status


def _handshake(port: int, version: ssl.TLSVersion) -> str | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
            context.wrap_socket(sock, server_hostname="localhost") as tls:
        return tls.version()


def test_nginx_answers_tls_1_3_and_refuses_tls_1_2(stack):
    port = int(stack.endpoints().service_url.rsplit(":", 1)[1])
    assert _handshake(port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    with pytest.raises(ssl.SSLError):
        _handshake(port, ssl.TLSVersion.TLSv1_2)


def test_static_assets_are_cached_for_a_year_by_nginx(stack):
    service = stack.endpoints().service_url
    replica = stack.endpoints().replicas[0].url
    with _client() as client:
        for path in ("/static/css/servicedesk.css", "/_next/static/chunks/main.js"):
            through_nginx = client.get(f"{service}{path}")
            assert through_nginx.status_code == 200, path
            assert through_nginx.headers["cache-control"] == IMMUTABLE, path
            assert through_nginx.headers.get_list("cache-control") == [IMMUTABLE]
        # /static/ is short-lived at the app itself: the year comes from nginx.
        direct = client.get(f"{replica}/static/css/servicedesk.css")
        assert direct.status_code == 200 and direct.headers["cache-control"] != IMMUTABLE


def test_responses_are_compressed(stack):
    service = stack.endpoints().service_url
    with _client() as client:
        response = client.get(f"{service}/api/tickets", params={"limit": 50},
                              headers={"Authorization": f"Bearer {_agent_token(stack)}",
                                       "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers.get("vary", "")
    assert response.json()  # decoded by the client


def test_plain_http_redirects_to_https(stack, project):
    nginx = _containers(stack, "nginx")[0]
    http_port = int(nginx["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"])
    response = httpx.get(f"http://127.0.0.1:{http_port}/api/tickets", timeout=5.0)
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")


def test_the_database_is_seeded_and_the_tokens_work(stack):
    with _client() as client:
        response = client.get(f"{stack.endpoints().service_url}/api/tickets",
                              headers={"Authorization": f"Bearer {_agent_token(stack)}"})
    assert response.status_code == 200


def test_each_replica_is_scraped_by_the_harness_and_by_prometheus(stack):
    endpoints = stack.endpoints()
    with httpx.Client(timeout=5.0) as client:
        for replica in endpoints.replicas:
            metrics = client.get(f"{replica.url}/api/metrics")
            assert metrics.status_code == 200
            assert "servicedesk_http_requests_total" in metrics.text
    up = prometheus.query(endpoints.prometheus_url, 'up{job="servicedesk-app"}')
    assert len(up) == 2 and all(sample.value == 1.0 for sample in up)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the next 5 s scrape brings the app's own series
        if prometheus.query(endpoints.prometheus_url, "servicedesk_http_requests_total"):
            break
        time.sleep(1)
    else:
        pytest.fail("Prometheus has no servicedesk_http_requests_total after 30 s")


def test_down_removes_every_container_network_and_volume(stack, project):
    assert any(project_resources(project).values())  # it was there
    stack.down()
    assert stack.leftovers == {}
    assert project_resources(project) == {"container": [], "network": [], "volume": []}
    logs = stack.log_dir
    assert (logs / "app-1.log").stat().st_size > 0 and (logs / "nginx-1.log").exists()
    snapshot = json.loads((logs / "prometheus.json").read_text())
    assert len(snapshot["targets_up"]) >= 2
    stack.down()  # twice is harmless


def test_a_failing_app_stops_the_start_at_once_and_leaves_nothing(local_images, tmp_path):  # noqa: F811
    backend = ComposeStack(log_dir=tmp_path, settings={"DB_POOL_MAX": "0"},
                           environ=with_images(local_images))
    started = time.monotonic()
    with pytest.raises(StackError, match=r"app failed .*DB_POOL_MAX"):
        backend.up()
    assert time.monotonic() - started < 120  # not the healthcheck budget (about 6 min)
    project = backend.project.name
    backend.down()
    assert project_resources(project) == {"container": [], "network": [], "volume": []}


def test_compose_v1_brings_the_same_stack_up_and_down(local_images, tmp_path):  # noqa: F811
    """Debian's docker-compose 1.29 (scripts/setup --system installs it): the harness gives it
    the file without the top-level `name` it refuses, and uses only commands both versions share."""
    v1 = "/usr/bin/docker-compose"
    if not os.path.exists(v1):
        pytest.fail("docker-compose v1 is not installed (scripts/setup --system installs it)")
    env = {**with_images(local_images), "HARNESS_COMPOSE": v1}
    assert find_compose(env).major == 1
    backend = ComposeStack(log_dir=tmp_path, seed=SeedSpec(tickets=50, agents=2, customers=5),
                           environ=env)
    try:
        endpoints = backend.up()
        assert endpoints.extra["compose"].startswith("docker-compose 1.")
        with _client() as client:
            assert client.get(f"{endpoints.service_url}/api/health/ready").status_code == 200
        project = endpoints.extra["project"]
    finally:
        backend.down()
    assert project_resources(project) == {"container": [], "network": [], "volume": []}
