"""Child processes the harness starts: their own sessions, logs, probes, and certain death."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.errors import StackError

__all__ = ["ManagedProcess", "free_port", "start", "stop", "wait_for_probe"]


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        tail = [line for line in text.strip().splitlines() if line.strip()][-lines:]
        return " | ".join(tail)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path | None = None,
) -> ManagedProcess:
    """Start a child in its own session, so Ctrl-C reaches the harness only and the harness
    stops children in order."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"cannot start {name}: {exc}") from None
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def stop(process: ManagedProcess, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after `timeout`."""
    kill_group(process.pid, timeout, process.popen)


def kill_group(
    pid: int, timeout: float = 10.0, popen: subprocess.Popen[bytes] | None = None
) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen is not None:
            if popen.poll() is not None:
                break
        elif not _exists(pid):
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
    # The group leader may be gone while children of it linger: sweep the group once more.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat a zombie as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_probe(
    url: str,
    *,
    attempts: int,
    period: float,
    process: ManagedProcess | None = None,
    timeout: float = 2.0,
) -> int:
    """Poll `url` like a Kubernetes probe: up to `attempts` tries, `period` apart.

    Returns the attempt that succeeded; raises StackError naming the URL otherwise, or as soon
    as the process dies (with the last lines of its log).
    """
    with httpx.Client(timeout=timeout) as client:
        for attempt in range(1, attempts + 1):
            if process is not None and not process.alive():
                raise StackError(
                    f"{process.name} exited with status {process.popen.returncode} while starting: "
                    f"{process.log_tail()}"
                )
            try:
                if client.get(url).status_code == 200:
                    return attempt
            except httpx.HTTPError:
                pass
            time.sleep(period)
    raise StackError(f"{url} did not answer 200 after {attempts} attempts, {period:g} s apart")
