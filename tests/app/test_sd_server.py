"""Real ``python -m servicedesk serve`` processes: two replicas share one port via SO_REUSEPORT,
each with its own admin port."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servicedesk.server import ServerError, bind_socket

APP_DIR = Path(__file__).resolve().parents[2] / "stack" / "app"
ADMIN_TOKEN = "server-test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(APP_DIR),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
        "DB_POOL_MIN": "2",
        "DB_POOL_MAX": "5",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SLA_SWEEP_INTERVAL_SECONDS": "0.5",
        "SHUTDOWN_DRAIN_SECONDS": "1",
    }


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"replica exited with {proc.returncode}: {log.read_text()}")
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready after {timeout}s: {log.read_text()}")


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[int, list[int], list[subprocess.Popen], Path]]:
    env = base_env(tmp_path)
    tokens = tmp_path / "tokens.json"
    seeded = subprocess.run(
        [sys.executable, "-m", "servicedesk", "seed", "--tickets", "100", "--agents", "2",
         "--customers", "3", "--tokens-out", str(tokens), "--seed", "1"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    port, admin_ports = free_port(), [free_port(), free_port()]
    procs: list[subprocess.Popen] = []
    try:
        for i, admin_port in enumerate(admin_ports):
            log = (tmp_path / f"replica-{i}.log").open("w")
            replica_env = {
                **env, "PORT": str(port), "REUSE_PORT": "true", "ADMIN_PORT": str(admin_port)
            }  # fmt: skip
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "servicedesk", "serve"],
                    env=replica_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        yield port, admin_ports, procs, tokens
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def test_two_replicas_share_a_port_and_stop_cleanly(replicas, tmp_path: Path) -> None:  # noqa: ANN001
    port, admin_ports, procs, tokens_file = replicas
    pids = []
    for i, admin_port in enumerate(admin_ports):
        ready = wait_ready(
            f"http://127.0.0.1:{admin_port}/api/health/ready",
            procs[i],
            tmp_path / f"replica-{i}.log",
        )
        assert ready["status"] == "ready"
        pids.append(ready["pid"])
    assert sorted(pids) == sorted(p.pid for p in procs)

    # New connections to the shared port are balanced by the kernel across both replicas.
    seen = set()
    for _ in range(200):
        seen.add(httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=5).json()["pid"])
        if len(seen) == 2:
            break
    assert seen == set(pids)

    tokens = json.loads(tokens_file.read_text())
    headers = {"Authorization": f"Bearer {tokens['agents'][0]}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=5) as c:
        assert c.get("/api/tickets/1").status_code == 200
        page = c.get("/api/tickets", params={"per_page": 5}).json()
        assert page["total"] == 100 and len(page["items"]) == 5
        created = c.post("/api/tickets", json={"title": "t", "description": "d", "priority": "low"})
        assert created.status_code == 201
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.get(f"http://127.0.0.1:{port}/api/users/me", headers=admin).status_code == 200

    # Each admin port shows that replica's own metrics.
    served = 0.0
    for admin_port in admin_ports:
        text = httpx.get(f"http://127.0.0.1:{admin_port}/api/metrics").text
        assert "servicedesk_db_pool_max 5.0" in text
        for line in text.splitlines():
            if line.startswith(
                'servicedesk_http_requests_total{method="GET",route="/api/health/live"'
            ):
                served += float(line.rsplit(" ", 1)[1])
    assert served >= 2

    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(timeout=20) == 0
    for i in range(2):
        output = (tmp_path / f"replica-{i}.log").read_text()
        assert ADMIN_TOKEN not in output
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(r["msg"] == "servicedesk listening" for r in records)
        assert any(r["msg"] == "servicedesk stopped" for r in records)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=2)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"cannot bind 127.0.0.1:{port}"):
            bind_socket("127.0.0.1", port, reuse_port=False)
        env = {**base_env(tmp_path), "PORT": str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "servicedesk", "serve"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"servicedesk: error: cannot bind 127.0.0.1:{port}: Address already in use"
    )


def test_an_unreachable_database_stops_serve_with_status_3(tmp_path: Path) -> None:
    env = {
        **base_env(tmp_path),
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/sd.db",
    }
    result = subprocess.run(
        [sys.executable, "-m", "servicedesk", "serve"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    failures = [
        json.loads(line) for line in result.stdout.splitlines() if '"startup failed"' in line
    ]
    assert "unable to open database file" in failures[0]["error"]
