"""`harness run --remote-write` against a real Prometheus (Debian's `prometheus`, started with
its remote-write receiver): the run's latency quantile read back with histogram_quantile equals
results.json within a bucket's width; a Prometheus that goes away mid-run costs a notice only.

About 55 s together on the 2-core machine (two short smoke runs)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.config.load import load_slo
from harness.publish.series import latency_buckets
from harness.stack import processes
from tests.e2e.conftest import harness, results

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


class Prometheus:
    def __init__(self, work: Path) -> None:
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        if not Path(binary).exists():
            pytest.fail("prometheus is required (Debian package `prometheus`)")
        config = work / "prometheus.yml"
        work.mkdir(parents=True, exist_ok=True)
        config.write_text("global:\n  scrape_interval: 15s\n")  # nothing scraped: only pushed
        port = processes.free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = processes.start(
            "prometheus",
            [binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
             "--log.level=warn"],
            env=dict(os.environ), log_path=work / "prometheus.log")
        processes.wait_for_probe(f"{self.url}/-/ready", attempts=120, period=0.5,
                                 process=self.process)

    def query(self, expr: str) -> list[dict]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        answer.raise_for_status()
        return list(answer.json()["data"]["result"])

    def value(self, expr: str) -> float:
        found = self.query(expr)
        assert len(found) == 1, (expr, found)
        return float(found[0]["value"][1])

    def stop(self) -> None:
        processes.stop(self.process)


@pytest.fixture
def report_root(tmp_path: Path) -> Path:
    return tmp_path / "reports"


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path / "prometheus")
    try:
        yield server
    finally:
        server.stop()


def _bucket_width(seconds: float) -> float:
    bounds = (0.0, *latency_buckets(load_slo()))
    for low, high in zip(bounds, bounds[1:], strict=False):
        if seconds <= high:
            return high - low
    pytest.fail(f"{seconds} s is beyond the last bucket")


def test_the_runs_quantiles_read_back_from_prometheus(prometheus: Prometheus,
                                                      report_root: Path) -> None:
    done = harness("run", "--scenario", "smoke", "--duration", "15s", "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "rw-e2e", "--tag", "env=ci",
                   "--remote-write", f"{prometheus.url}/api/v1/write")
    assert done.returncode == 0, done.stdout + done.stderr
    data = results(report_root / "rw-e2e")
    assert data["tags"] == {"env": "ci"}
    props = {p.get("name"): p.get("value")
             for p in ET.parse(report_root / "rw-e2e" / "junit.xml").iter("property")}
    assert props["tag.env"] == "ci"
    assert not [n for n in data["notes"] if "Remote write" in n], data["notes"]
    run = 'run_id="rw-e2e",scenario="smoke",env="ci"'
    assert prometheus.value(f"sum(harness_requests_total{{{run}}})") == data["totals"]["requests"]
    for q, key in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        read = prometheus.value(f"histogram_quantile({q}, sum by (le) "
                                f"(harness_request_duration_seconds_bucket{{{run}}}))")
        exact = data["totals"]["latency"][key] / 1000.0
        # HdrHistogram keeps 3 significant digits: a value at a bound may count one bucket up
        width = max(_bucket_width(exact), _bucket_width(read))
        assert abs(read - exact) <= width * 1.001, (q, read, exact)
    start = prometheus.value(f"harness_run_start_time_seconds{{{run}}}")
    end = prometheus.value(f"harness_run_end_time_seconds{{{run}}}")
    assert data["started_at"] <= start < end <= data["ended_at"]
    assert prometheus.value(f"harness_run_info{{{run},stack=\"embedded\"}}") == 1
    stages = {r["metric"]["stage"] for r in prometheus.query(
        f"count_over_time(harness_stage_index{{{run}}}[10m])")}
    assert stages == {s["name"] for s in data["stages"]}


def test_a_prometheus_that_goes_away_mid_run_costs_a_notice(prometheus: Prometheus,
                                                            report_root: Path) -> None:
    def stop_once_data_arrives() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if prometheus.query('harness_run_info{run_id="rw-gone"}'):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        prometheus.stop()

    stopper = threading.Thread(target=stop_once_data_arrives, daemon=True)
    stopper.start()
    done = harness("run", "--scenario", "smoke", "--duration", "10s", "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "rw-gone",
                   "--remote-write", f"{prometheus.url}/api/v1/write")
    stopper.join(10)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((report_root / "rw-gone" / "results.json").read_text())
    assert data["status"] == "passed"
    [note] = [n for n in data["notes"] if n.startswith("Remote write")]
    assert "pushes failed" in note and "unaffected" in note
