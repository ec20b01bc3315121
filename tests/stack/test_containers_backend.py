"""`--stack local --services containers`: PostgreSQL and Redis through testcontainers, without Ryuk.

The images are the local ones scripts/images builds. The servers must be the bundled settings
(scaled as the local backend scales them), reachable on 127.0.0.1 only, and gone afterwards:
no container and no volume of the run, and no reaper ever started.
"""

from __future__ import annotations

import psycopg
import pytest
import redis

from harness.config.model import SeedSpec
from harness.stack.containers import RUN_LABEL, ContainerServices, leftovers
from harness.stack.embedded import EmbeddedStack
from harness.stack.local import LocalStack
from harness.stack.services import redis as bundled_redis
from tests.stack.engine_support import (  # noqa: F401 - local_images is a fixture
    inspect,
    labelled,
    local_images,
    with_images,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


@pytest.fixture
def services(local_images, tmp_path):  # noqa: F811
    local = LocalStack(EmbeddedStack(replicas=1, log_dir=tmp_path,
                                     seed=SeedSpec(tickets=100, agents=3, customers=10)))
    backend = ContainerServices(local, log_dir=tmp_path, environ=with_images(local_images))
    try:
        yield backend
    finally:
        backend.down()


def test_postgres_and_redis_start_as_containers_and_the_app_runs_on_them(services, local_images):  # noqa: F811
    before = set(labelled("org.testcontainers")["container"])
    endpoints = services.up()
    assert services.postgres_image == local_images["POSTGRES_IMAGE"]
    assert services.redis_image == local_images["REDIS_IMAGE"]
    assert services.ready()
    assert endpoints.database.startswith("postgresql://servicedesk:***@127.0.0.1:")
    assert "(container servicedesk-postgres:" in endpoints.database

    with psycopg.connect(services.local.database_url, connect_timeout=5) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 150000
        assert conn.execute("SHOW max_connections").fetchone()[0] == "100"
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        assert tickets == 100  # seeded by the local backend through the container
    client = redis.Redis.from_url(services.local.redis_url, socket_timeout=5)
    try:
        assert client.ping()
        bundled = bundled_redis.scaled_settings()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert client.config_get("appendonly")["appendonly"] == "yes"
        maxmemory = int(client.config_get("maxmemory")["maxmemory"])
        assert maxmemory == int(bundled["maxmemory"].removesuffix("mb")) * 1024**2
    finally:
        client.close()

    database = services.capabilities().database
    assert database is not None
    counts = database.connection_counts()
    assert counts.total >= 1  # the replica's pool, seen server-side
    assert services.postgres.max_connections == 100

    ours = labelled(f"{RUN_LABEL}={services.run}")
    assert len(ours["container"]) == 2 and len(ours["volume"]) == 2
    for item in inspect(*ours["container"]):
        bindings = [b for bs in item["NetworkSettings"]["Ports"].values() for b in bs or ()]
        assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    # No reaper: every testcontainers container that appeared is one of this run's two.
    new = set(labelled("org.testcontainers")["container"]) - before
    assert new == set(ours["container"])


def test_down_leaves_no_container_and_no_volume(services):
    services.up()
    run = services.run
    assert any(leftovers(run).values())
    assert not services.down()  # nothing left behind, said by down itself
    assert leftovers(run) == {"container": [], "volume": []}
    assert labelled(f"{RUN_LABEL}={run}") == {"container": [], "network": [], "volume": []}
    assert (services.log_dir / "postgres.log").stat().st_size > 0
    assert (services.log_dir / "redis.log").stat().st_size > 0


def test_a_missing_image_is_a_dependency_error_and_leaves_nothing(tmp_path):
    from harness.errors import DependencyError

    local = LocalStack(EmbeddedStack(replicas=1, log_dir=tmp_path))
    backend = ContainerServices(local, log_dir=tmp_path, environ={
        "POSTGRES_IMAGE": "servicedesk-postgres:does-not-exist", "REDIS_IMAGE": "x:none"})
    try:
        with pytest.raises(DependencyError, match="does-not-exist.*scripts/images"):
            backend.up()
    finally:
        backend.down()
    assert leftovers(backend.run) == {"container": [], "volume": []}
