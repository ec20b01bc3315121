"""Fixtures for tests that run the real load process against a local target (benchmarks.targets)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class Target:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture
def target() -> Iterator[Callable[..., Target]]:
    """Start benchmarks.targets (bounded lifetime); `target(stall_every=2, stall_for=0.5)`."""
    started: list[subprocess.Popen[str]] = []

    def start(stall_every: float = 0.0, stall_for: float = 1.0) -> Target:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.targets", "--port", "0", "--lifetime", "300",
             "--stall-every", str(stall_every), "--stall-for", str(stall_for)],
            stdout=subprocess.PIPE, text=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        return Target(process, int(line.split()[1]))

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def locustfile(tmp_path: Path) -> Callable[[str], Path]:
    """Write a locustfile from its body; `locustfile(TEXT)` -> its path."""

    def write(text: str) -> Path:
        path = tmp_path / f"locustfile_{abs(hash(text))}.py"
        path.write_text(text, encoding="utf-8")
        return path

    return write


class _Hang:
    """Accepts connections, answers `/api/health/ready`, and never answers anything else."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.received = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        conn.settimeout(60)
        buffer = b""
        with contextlib.suppress(OSError):
            while not self.stopping.is_set():
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    if b" /api/health/ready " in head.split(b"\r\n", 1)[0]:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    else:
                        self.received += 1
                        self.held.append(conn)  # never answered

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()
        for conn in self.held:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def hanging_target() -> Iterator[_Hang]:
    server = _Hang()
    yield server
    server.close()
