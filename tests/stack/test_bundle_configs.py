"""The configuration files the stack mounts are accepted by the programs that read them:
`nginx -t`, `promtool check config`, redis-server and postgres (which also confirm the harness's
reading of their sizes)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from harness.validate.confs import parse_postgresql_conf, parse_redis_conf

Require = Callable[[str, str], str]


def test_nginx_accepts_the_config(
    tmp_path: Path, bundled_stack: Path, require_binary: Require
) -> None:
    nginx = require_binary("nginx", "the nginx Debian package")
    openssl = require_binary("openssl", "the openssl Debian package")
    conf = tmp_path / "nginx.conf"
    # As it is: `app` (only on the compose network) is resolved per request, not by `nginx -t`.
    conf.write_text((bundled_stack / "nginx/nginx.conf").read_text())
    mime = Path(nginx).resolve().parent.parent.parent / "etc/nginx/mime.types"
    shutil.copyfile(
        mime if mime.is_file() else Path("/etc/nginx/mime.types"), tmp_path / "mime.types"
    )
    (tmp_path / "certs").mkdir()
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp_path / "certs/tls.key"),
            "-out",
            str(tmp_path / "certs/tls.crt"),
        ],
        check=True,
        capture_output=True,
    )
    proc = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "test is successful" in proc.stderr


def test_promtool_accepts_the_config(bundled_stack: Path, require_binary: Require) -> None:
    promtool = require_binary("promtool", "the prometheus Debian package")
    proc = subprocess.run(
        [promtool, "check", "config", str(bundled_stack / "prometheus/prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["redis.conf", "redis.staging.conf"])
def test_redis_starts_with_the_config(
    name: str, tmp_path: Path, bundled_stack: Path, require_binary: Require
) -> None:
    redis_server = require_binary("redis-server", "the redis-server Debian package")
    conf = tmp_path / name
    # `dir` is applied while the file is read: point it at tmp_path instead of the image's /data.
    text = (bundled_stack / "redis" / name).read_text()
    assert "dir /data\n" in text
    conf.write_text(text.replace("dir /data\n", f"dir {tmp_path}\n"))
    sock = tmp_path / "redis.sock"
    # Overrides after the file: no TCP port.
    proc = subprocess.Popen(
        [redis_server, str(conf), "--port", "0", "--unixsocket", str(sock), "--daemonize", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None and not sock.exists():
            time.sleep(0.05)
        assert sock.exists() and proc.poll() is None, (
            proc.communicate(timeout=5)[0] if proc.poll() is not None else "timeout"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    parsed = parse_redis_conf(conf.read_text(), name)
    assert parsed.maxmemory_policy == "allkeys-lru" and parsed.maxmemory > 0


def _as_postgres_user() -> list[str]:
    """postgres refuses to run as root: drop to nobody when the tests run as root (CI)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("`setpriv` (util-linux) is required to run postgres as a non-root user")
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture(scope="module")
def pg_data(require_binary: Require) -> Iterator[Path]:
    initdb = require_binary("initdb", "PostgreSQL (postgresql Debian package, initdb on PATH)")
    # Outside pytest's tmp tree, whose root-only parents the postgres user could not traverse.
    base = Path(tempfile.mkdtemp(prefix="harness-pg-"))
    try:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(base, nobody.pw_uid, nobody.pw_gid)
        data = base / "data"
        proc = subprocess.run(
            [
                *_as_postgres_user(),
                initdb,
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        yield data
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("name", ["postgresql.conf", "postgresql.staging.conf"])
def test_postgres_reads_the_config_as_the_harness_does(
    name: str, pg_data: Path, bundled_stack: Path, require_binary: Require
) -> None:
    postgres = require_binary(
        "postgres", "PostgreSQL (postgresql Debian package, postgres on PATH)"
    )
    conf = pg_data.parent / name
    shutil.copyfile(bundled_stack / "postgres" / name, conf)
    conf.chmod(0o644)

    def show(param: str) -> int:
        proc = subprocess.run(
            [
                *_as_postgres_user(),
                postgres,
                "-D",
                str(pg_data),
                "-c",
                f"config_file={conf}",
                "-C",
                param,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return int(proc.stdout.strip())

    parsed = parse_postgresql_conf(conf.read_text(), name)
    assert show("max_connections") == parsed.max_connections
    assert show("superuser_reserved_connections") == parsed.superuser_reserved_connections
    assert show("shared_buffers") * 8192 == parsed.shared_buffers
    assert show("effective_cache_size") * 8192 == parsed.effective_cache_size
    assert show("work_mem") * 1024 == parsed.work_mem
    assert show("maintenance_work_mem") * 1024 == parsed.maintenance_work_mem


def test_grafana_and_datadog_files_are_yaml(bundled_stack: Path) -> None:
    for rel in (
        "grafana/provisioning/datasources/prometheus.yml",
        "grafana/provisioning/dashboards/servicedesk.yml",
        "datadog/conf.d/openmetrics.d/conf.yaml",
    ):
        assert isinstance(yaml.safe_load((bundled_stack / rel).read_text()), dict), rel
