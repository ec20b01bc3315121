"""Real PostgreSQL and Redis servers as the `local` backend starts them."""

from __future__ import annotations

import psutil
import psycopg
import pytest
import redis

from harness.errors import StackError
from harness.stack.services.conffile import parse_size
from harness.stack.services.postgres import PostgresServer, scaled_settings
from harness.stack.services.redis import RedisServer
from harness.stack.services.redis import scaled_settings as redis_settings

pytestmark = pytest.mark.integration


def test_bundled_settings_scale_memory_and_keep_the_rest():
    half = scaled_settings(factor=0.5)
    assert parse_size(half["shared_buffers"]) == 1024 * 1024**2  # 2GB / 2
    assert parse_size(half["effective_cache_size"]) == 3 * 1024**3
    assert half["max_connections"] == "100"  # the seed's number is not scaled
    assert redis_settings(factor=0.25)["maxmemory"] == "512mb"
    assert redis_settings()["maxmemory-policy"] == "allkeys-lru"
    assert redis_settings()["appendonly"] == "yes"


def test_postgres_starts_with_seed_settings_counts_connections_and_stops(tmp_path):
    server = PostgresServer(log_dir=tmp_path / "logs")
    url = server.start()
    pid = server._process.pid  # type: ignore[union-attr]  # the test looks behind the server
    try:
        with psycopg.connect(url, application_name="servicedesk:replica-1") as conn:
            settings = dict(conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('max_connections', 'superuser_reserved_connections', 'listen_addresses')"
            ).fetchall())
            assert settings["max_connections"] == "100"
            assert settings["listen_addresses"] == "127.0.0.1"
            counts = server.connection_counts()
            assert counts.total == 1
            assert counts.by_application == {"servicedesk:replica-1": 1}
        assert server.password not in str(server.connection_counts())
    finally:
        server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not server.work_dir.exists()


def test_postgres_shuts_down_resumes_on_its_data_and_can_be_lost(tmp_path):
    server = PostgresServer(log_dir=tmp_path / "logs")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        server.shutdown("fast")
        assert not server.running
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2).close()
        server.resume()
        assert server.running
        with psycopg.connect(url) as conn:  # same port, same data directory
            assert conn.execute("SELECT n FROM kept").fetchone() == (7,)
        server.kill()
        assert not server.running
        with pytest.raises(StackError, match="not running"):
            server.shutdown()
    finally:
        server.stop()
    assert not server.work_dir.exists()


def test_redis_starts_with_seed_policy_and_stops(tmp_path):
    server = RedisServer(work_dir=tmp_path, log_dir=tmp_path / "logs")
    url = server.start()
    pid = server._process.pid  # type: ignore[union-attr]  # the test looks behind the server
    try:
        client = redis.Redis.from_url(url)
        client.set("k", "v")
        assert client.get("k") == b"v"
        config = client.config_get("*")
        assert config["maxmemory-policy"] == "allkeys-lru"
        assert config["appendonly"] == "yes" and config["appendfsync"] == "everysec"
        client.close()
    finally:
        server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
