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
