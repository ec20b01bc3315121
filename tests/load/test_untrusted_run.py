"""`harness run` with a load generator that saturates: untrusted latency checks, exit 3, and the
run says so (advice, summary, junit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.e2e

BURNS_CPU = """
import time
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class Busy(FastHttpUser):
    wait_time = constant(0)

    @task
    def burn(self):
        until = time.perf_counter() + 0.02  # 20 ms of pure CPU, never yielding
        while time.perf_counter() < until:
            pass
        self.client.get("/fast")
"""


def test_a_saturated_generator_makes_the_run_untrusted_and_exit_3(tmp_path, target):
    server = target()
    (tmp_path / "busy.py").write_text(BURNS_CPU)
    (tmp_path / "busy.yaml").write_text(
        "name: busy\ndescription: a load generator that burns its core\n"
        "locustfile: busy.py\n"
        "stages:\n  - {duration: 8s, users: 20, spawn_rate: 100, steady: true}\n"
        "slo:\n  latency: {p95_ms: 10000, p99_ms: 10000}\n"
        "  windows: {size: 4s, step: 2s, min_requests: 10}\n"
    )
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--scenario", str(tmp_path / "busy.yaml"),
         "--target", server.url, "--no-progress", "--report-dir", str(reports), "--run-id", "busy"],
        capture_output=True, text=True, timeout=180, env={**os.environ},
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    data = json.loads((reports / "busy" / "results.json").read_text())
    assert data["status"] == "untrusted"
    verdicts = {c["id"]: c["verdict"] for c in data["checks"]}
    assert verdicts["slo.latency.p95"] == verdicts["slo.latency.p99"] == "untrusted"
    assert "fail" not in verdicts.values()
    assert data["generator"]["saturated_intervals"] > 0
    assert any("--workers" in note for note in data["notes"])
    assert "--workers" in done.stdout  # the run says so on the terminal too
    summary = (reports / "busy" / "summary.md").read_text()
    assert "UNTRUSTED" in summary and "## Load generator" in summary
    suite = ET.parse(reports / "busy" / "junit.xml").getroot()
    errors = [c for c in suite.iter("testcase") if c.find("error") is not None]
    assert {c.get("name") for c in errors} >= {"slo.latency.p95", "slo.latency.p99"}
