"""`harness run` end to end: a real stack, real Locust, real reports."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import harness, results
from tests.signals import sigint_as_at_a_terminal

pytestmark = pytest.mark.e2e


def test_smoke_run_passes_and_writes_every_report_file(report_root):
    done = harness("run", "--scenario", "smoke", "--duration", "20s", "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "smoke-e2e")
    assert done.returncode == 0, done.stdout + done.stderr
    folder = report_root / "smoke-e2e"
    data = results(folder)
    assert data["schema_version"] == 1
    assert data["status"] == "passed"
    assert data["totals"]["requests"] > 50
    assert data["totals"]["failures"] == 0
    # Every endpoint the locustfile exercises was reached and recorded exactly.
    assert {"GET /api/tickets", "GET /api/tickets/{id}", "POST /api/tickets"} <= set(
        data["per_request"]
    )
    # The server side was scraped from every replica, and per-replica CPU recorded.
    assert data["server"]["scrapes"] > 0 and data["server"]["failed_scrapes"] == 0
    assert {p["replica"] for p in data["replicas"]} == {"replica-1", "replica-2", "replica-3"}
    ids = {c["id"] for c in data["checks"]}
    assert {"slo.latency.p95", "slo.error-rate", "slo.sliding.p95"} <= ids
    suite = ET.parse(folder / "junit.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == len(data["checks"])
    assert (folder / "summary.md").read_text().strip()
    assert (folder / "report.html").stat().st_size > 100_000  # plotly is inline
    # Provisioning: the run's dashboards, rules and monitors are kept with its report.
    observability = folder / "observability"
    sources = list((Path(__file__).parents[2] / "dashboards").glob("*.dashboard.py"))
    assert len(list((observability / "grafana").glob("*.json"))) == len(sources) == 6
    assert (observability / "prometheus" / "servicedesk.rules.yml").stat().st_size > 0
    assert (observability / "datadog" / "monitors.json").stat().st_size > 0
    assert "PASSED" in done.stdout or "passed" in done.stdout


def test_an_impossible_slo_fails_that_check_and_exits_1(report_root, tmp_path):
    scenario = tmp_path / "impossible.yaml"
    scenario.write_text(
        "name: impossible\n"
        "description: p95 of a microsecond cannot be met\n"
        "stages:\n  - {duration: 12s, users: 5, spawn_rate: 5, steady: true}\n"
        "seed: {tickets: 300}\n"
        "slo:\n  latency: {p95_ms: 0.001}\n"
    )
    done = harness("run", "--scenario", str(scenario), "--replicas", "1", "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "impossible")
    assert done.returncode == 1, done.stdout + done.stderr
    data = results(report_root / "impossible")
    assert data["status"] == "failed"
    failed = {c["id"] for c in data["checks"] if c["verdict"] == "fail"}
    assert "slo.latency.p95" in failed
    junit = (report_root / "impossible" / "junit.xml").read_text()
    assert "slo.latency.p95" in junit and "<failure" in junit


def test_an_unreachable_target_exits_3_with_one_line(report_root):
    done = harness("run", "--target", "http://127.0.0.1:9", "--no-progress",
                   "--report-dir", str(report_root), timeout=120)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:9" in lines[0]
    assert "Traceback" not in done.stderr


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_sigint_during_load_stops_everything_and_keeps_a_partial_report(report_root):
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--scenario", "smoke", "--duration", "60s",
         "--no-progress", "--report-dir", str(report_root), "--run-id", "interrupted"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_as_at_a_terminal,
    )
    folder = report_root / "interrupted"
    deadline = time.monotonic() + 120
    # Wait until load is flowing: the generator's log exists and replicas are up.
    while time.monotonic() < deadline:
        children = _descendants(process.pid)
        if (folder / "logs" / "load-plan.json").exists() and len(children) >= 4:
            break
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the run never started its load")
    time.sleep(6)
    started = _descendants(process.pid)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=90)
    assert process.returncode == 130, out + err
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]
    data = results(folder)
    assert data["status"] == "interrupted"
    assert data["timeline"], "the intervals recorded before Ctrl-C are kept"
    assert any("interrupted" in note for note in data["notes"])
    assert "Traceback" not in err
