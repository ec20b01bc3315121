"""Things that go wrong on their own during a run — a replica that dies, a replica whose
metrics stop answering, a load worker that crashes — end in a report that says what happened
and a clear verdict, within a bounded time, instead of a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.e2e]

SCENARIO = """name: trouble
description: something breaks on its own
stages:
  - {duration: 40s, users: 15, spawn_rate: 15, steady: true}
seed: {tickets: 200}
autoscaling: {enabled: false}
"""


def _children(pid: int, needle: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if needle in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _run_and_break(tmp_path: Path, act: Callable[[subprocess.Popen[str]], None],
                   *args: str) -> tuple[int, dict, float]:
    scenario = tmp_path / "trouble.yaml"
    scenario.write_text(SCENARIO)
    reports = tmp_path / "reports"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--scenario", str(scenario), "--no-progress",
         "--report-dir", str(reports), "--run-id", "trouble", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (reports / "trouble" / "logs" / "load-plan.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, "no load started"
            time.sleep(0.2)
        time.sleep(10)  # load is flowing
        act(process)
        _out, err = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in err, err
    data = json.loads((reports / "trouble" / "results.json").read_text())
    return process.returncode, data, time.monotonic() - started


def test_a_replica_that_dies_is_replaced_and_fails_the_run_with_its_story(tmp_path):
    def crash(process: subprocess.Popen[str]) -> None:
        replica = _children(process.pid, "servicedesk serve")[0]
        os.kill(replica.pid, signal.SIGKILL)

    code, data, _took = _run_and_break(tmp_path, crash, "--replicas", "2")
    checks = {c["id"]: c for c in data["checks"]}
    assert code == 1
    exits = checks["stack.replica-exits"]
    assert exits["verdict"] == "fail" and "killed by SIGKILL" in exits["evidence"]
    assert "started" in exits["evidence"]  # what replaced it
    events = [e["event"] for e in data["extra"]["faults"]["replica_events"]]
    assert "exited" in events and "ready" in events


def test_a_frozen_replica_whose_metrics_do_not_answer_is_named(tmp_path):
    def freeze(process: subprocess.Popen[str]) -> None:
        replica = _children(process.pid, "servicedesk serve")[0]
        os.kill(replica.pid, signal.SIGSTOP)
        try:
            time.sleep(12)
        finally:
            os.kill(replica.pid, signal.SIGCONT)

    code, data, took = _run_and_break(tmp_path, freeze, "--replicas", "2")
    checks = {c["id"]: c for c in data["checks"]}
    reachable = checks["collect.metrics-reachable"]
    assert code == 1 and reachable["verdict"] == "fail", reachable
    assert "did not answer" in reachable["evidence"]
    assert took < 150  # bounded: 40 s of load, no hang


def test_a_crashed_load_worker_leaves_an_untrusted_run(tmp_path):
    def kill_worker(process: subprocess.Popen[str]) -> None:
        worker = _children(process.pid, "locust_process worker")[0]
        os.kill(worker.pid, signal.SIGKILL)

    code, data, took = _run_and_break(tmp_path, kill_worker, "--replicas", "2", "--workers", "2")
    checks = {c["id"]: c for c in data["checks"]}
    generators = checks["load.generators"]
    assert generators["verdict"] == "untrusted", generators
    assert "exited with status -9" in generators["evidence"]
    assert code == 3 and data["status"] == "untrusted"
    assert took < 180
