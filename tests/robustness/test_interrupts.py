"""Interrupting a run at every stage, with SIGINT and with SIGTERM: exit 130, a partial report,
and nothing left behind (no process, no listening port, no temporary directory).

A test-only hook (HARNESS_TEST_PAUSE_AT, harness.testhook) holds the run at the stage, and a
marker file says it got there, so the signal lands exactly where the test means it to.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from harness.testhook import STAGES
from tests.signals import sigint_as_at_a_terminal

pytestmark = [pytest.mark.e2e]

SCENARIO = """name: interrupted
description: a short run to interrupt
stages:
  - {duration: 20s, users: 5, spawn_rate: 5, steady: true}
seed: {tickets: 100}
autoscaling: {enabled: false}
"""


def _tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _listening_ports(processes: list[psutil.Process]) -> set[int]:
    ports: set[int] = set()
    for process in processes:
        try:
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    ports.add(conn.laddr.port)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return ports


def _port_free(port: int) -> bool:
    """Nobody listens on it (SO_REUSEADDR: connections in TIME_WAIT do not count)."""
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _interrupt(tmp_path: Path, stage: str, signum: int, stack: str = "embedded") -> None:
    scenario = tmp_path / "interrupted.yaml"
    scenario.write_text(SCENARIO)
    # The run's temporary folders go here, to be found if left behind. World-traversable:
    # PostgreSQL runs as its own user and must reach its folder (pytest's are private).
    temp = Path(tempfile.mkdtemp(prefix="interrupt-test-", dir="/tmp"))
    temp.chmod(0o755)
    try:
        _interrupt_in(tmp_path, stage, signum, stack, scenario, temp)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _interrupt_in(tmp_path: Path, stage: str, signum: int, stack: str, scenario: Path,
                  temp: Path) -> None:
    marker = tmp_path / "paused"
    reports = tmp_path / "reports"
    env = {**os.environ, "TMPDIR": str(temp), "HARNESS_TEST_PAUSE_AT": stage,
           "HARNESS_TEST_PAUSE_MARKER": str(marker), "HARNESS_TEST_PAUSE_SECONDS": "90"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--scenario", str(scenario), "--stack", stack,
         "--replicas", "2", "--no-progress", "--report-dir", str(reports), "--run-id", "cut"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=sigint_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                out, err = process.communicate(timeout=30)
                pytest.fail(f"the run never reached {stage}: {process.returncode} {err[-2000:]}")
            time.sleep(0.2)
        time.sleep(0.5)
        started = _tree(process.pid)
        ports = _listening_ports(started)
        process.send_signal(signum)
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (stage, out[-1000:], err[-2000:])
    assert "Traceback" not in err, err
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]
    assert all(_port_free(port) for port in ports), ports
    assert not list(temp.iterdir()), [p.name for p in temp.iterdir()]
    data = json.loads((reports / "cut" / "results.json").read_text())
    assert data["status"] == "interrupted"
    assert any("interrupted" in note for note in data["notes"])
    assert (reports / "cut" / "summary.md").exists() and (reports / "cut" / "junit.xml").exists()
    if stage in ("collecting", "reporting"):
        assert data["timeline"], "the load's intervals are kept"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("stage", STAGES)
def test_an_interrupt_at_any_stage_leaves_nothing_behind(tmp_path, stage, signum):
    _interrupt(tmp_path, stage, signum)


@pytest.mark.integration
@pytest.mark.parametrize("stage", ["stack", "load"])
def test_the_local_stack_stops_its_servers_when_interrupted(tmp_path, stage):
    _interrupt(tmp_path, stage, signal.SIGTERM, stack="local")
