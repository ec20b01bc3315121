"""benchmarks.targets as a process: what it measures itself."""

from __future__ import annotations

import os
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest

from benchmarks.tools import PythonTarget

pytestmark = pytest.mark.integration


def _get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return sock.recv(4096)


def _wait_stopped(pid: int) -> None:
    """A signal is delivered when its process next runs: wait until the kernel says stopped."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.001)
    raise AssertionError(f"process {pid} did not stop")


def test_a_reply_is_timed_from_the_requests_arrival_not_from_when_the_server_got_to_it():
    with PythonTarget() as target:
        assert target.process is not None
        address = urlsplit(target.url)
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            for _ in range(2):
                assert _get(sock, "/delay/20").startswith(b"HTTP/1.1 200 OK")
            # The request arrives while the server is stopped: the kernel stamps it then.
            os.kill(target.process.pid, signal.SIGSTOP)
            _wait_stopped(target.process.pid)
            try:
                sock.sendall(b"GET /delay/20 HTTP/1.1\r\nHost: t\r\n\r\n")
                time.sleep(0.15)
            finally:
                os.kill(target.process.pid, signal.SIGCONT)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
        stats = target.stats()
    assert stats["count"] == 3 and stats["served"] == {"/delay/20": 3}
    assert 19.0 <= stats["p50_ms"] <= stats["p99_ms"] < 100.0  # held: the handler's own clock
    assert 19.0 <= stats["replied_p50_ms"] < 100.0  # the first two, served at once
    assert stats["replied_p99_ms"] >= 165.0  # the third: 150 ms waiting, then 20 ms held


def test_the_wait_for_a_core_is_a_share_of_the_span_it_served(tmp_path):
    from benchmarks.targets import Targets

    schedstat = tmp_path / "schedstat"
    schedstat.write_text("5000000000 250000000 900\n")  # 5 s on a core, 0.25 s waiting
    targets = Targets(0.0, 1.0, schedstat=schedstat)
    assert targets.cpu_wait_percent() is None  # no /delay served yet: no span to share it over
    targets.served_delay(100.0, 100.005)
    targets.served_delay(100.5, 110.0)  # served from 100.0 to 110.0
    assert targets.cpu_wait_percent() == 2.5
    schedstat.write_text("")
    assert targets.cpu_wait_percent() is None  # the kernel does not say: not a zero


def test_the_target_reports_its_own_wait_for_a_core():
    with PythonTarget() as target:
        address = urlsplit(target.url)
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            for _ in range(3):
                assert _get(sock, "/delay/5").startswith(b"HTTP/1.1 200 OK")
        stats = target.stats()
    assert stats["cpu_wait_percent"] is not None and 0.0 <= stats["cpu_wait_percent"] < 100.0
