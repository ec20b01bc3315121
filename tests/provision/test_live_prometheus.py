"""Every PromQL expression of every dashboard panel and every rule, evaluated by a real Prometheus
scraping the app's replicas during a short load: each returns data. No panel on a metric the app
does not expose, no typo in a label, no rule Prometheus cannot evaluate.

The stack is the embedded one (two replicas on 127.0.0.1); Prometheus is Debian's, started on a
free loopback port with a temporary storage folder, scraping every second and evaluating the
generated rules every second. The load is bounded in time and in requests.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.config.load import load_slo
from harness.config.model import SeedSpec
from harness.load.latency import encode, new_histogram, record_all
from harness.load.records import GeneratorSample, Interval, NameInterval, StagePlan
from harness.provision.dashboards import DashboardContext, build_dashboards, panel_queries
from harness.provision.ddnames import load_openmetrics_naming
from harness.provision.ddquery import parse_monitor_query
from harness.provision.monitors import build_monitors
from harness.provision.rules import AlertingRule, RecordingRule, build_rules, render_rules
from harness.provision.sources import load_stack_numbers
from harness.publish.remote_write import http_sender, snapshot
from harness.publish.series import FaultWindow, RunLabels, RunSeries, latency_buckets
from harness.stack import processes
from harness.stack.embedded import EmbeddedStack

pytestmark = pytest.mark.integration

LOAD_SECONDS = 12.0
MAX_ITERATIONS = 600
RATE_INTERVAL = "1m"  # what Grafana's $__rate_interval stands for here (1 s scrapes)


# Grafana variables as their All value.
VARIABLES = {"$namespace": ".*", "$job": ".*", "$instance": ".*", "$run_id": ".*"}
CLIENT_SECONDS = 31  # the load test's client-side series, remote-written, this long


@dataclass
class Live:
    prometheus: str
    replicas: tuple[str, ...]
    rules: tuple[RecordingRule | AlertingRule, ...]
    log_dir: Path
    client_at: float = 0.0  # the last remote-written client sample (epoch seconds)

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        params: dict[str, str | float] = {"query": expr}
        if at is not None:
            params["time"] = at
        response = httpx.get(f"{self.prometheus}/api/v1/query", params=params, timeout=10)
        return dict(response.json())

    def problem(self, expr: str, at: float | None = None) -> str | None:
        """Why `expr` does not return data now, or at `at` (None when it does)."""
        answer = self.query(expr, at)
        if answer.get("status") != "success":
            return f"{answer.get('errorType')}: {answer.get('error')}"
        result = answer["data"]["result"]
        if not result:
            return "no data"
        values = [float(r["value"][1]) for r in result] if answer["data"]["resultType"] in (
            "vector",) else [float(answer["data"]["result"][1])]
        if not any(math.isfinite(v) for v in values):
            return f"only NaN/Inf: {values}"
        return None


def _push_client_series(url: str) -> float:
    """What `harness run --remote-write` sends, for CLIENT_SECONDS ending now: a closed stage,
    then an arrival-rate one with a fault, and a scale-up 10 s before the end. Returns the
    last sample's time."""
    slo = load_slo()
    series = RunSeries(
        RunLabels("live-1", "live", "embedded", {"env": "test"}), buckets=latency_buckets(slo),
        stages=(StagePlan(0, "ramp", 0.0, 15.0, 5, False),
                StagePlan(1, "paced", 15.0, 60.0, 5, True, rate=10.0)),
        faults=(FaultWindow("slow-db", "slow-database", 20.0, 60.0),))
    histogram = encode(record_all(new_histogram(), [3_000, 12_000, 80_000, 400_000]))
    origin = time.time() - CLIENT_SECONDS
    sender = http_sender(f"{url}/api/v1/write")
    for k in range(CLIENT_SECONDS):
        interval = Interval(float(k), k + 1.0, 5,
                            (NameInterval("GET /api/tickets", 4, 1, histogram, histogram),),
                            (GeneratorSample("local", 35.0, 1.5, 0.8, cpu_wait_percent=4.0),))
        series.observe(interval, started_at=origin,
                       replicas=2 if k < CLIENT_SECONDS - 10 else 3)
        sender.send(snapshot(series, origin + k + 1))
    return origin + CLIENT_SECONDS


def _drive_load(service_url: str, tokens_file: str) -> int:
    """Every route the panels and SLO groups look at, with hits, misses, 4xx; bounded."""
    tokens = json.loads(Path(tokens_file).read_text())
    agent = {"Authorization": f"Bearer {tokens['agents'][0]}"}
    customer = {"Authorization": f"Bearer {tokens['customers'][0]}"}
    sent = 0
    deadline = time.monotonic() + LOAD_SECONDS
    with httpx.Client(base_url=service_url, timeout=5) as client:
        for iteration in range(MAX_ITERATIONS):
            if time.monotonic() > deadline:
                break
            listed = client.get("/api/tickets?per_page=10", headers=agent).json()
            ticket = listed["items"][iteration % len(listed["items"])]["id"]
            client.get(f"/api/tickets/{ticket}", headers=agent)  # a miss, then a hit
            client.get(f"/api/tickets/{ticket}", headers=agent)
            client.get("/api/search?q=printer&per_page=20", headers=agent)
            client.get("/api/sla/summary", headers=agent)
            created = client.post("/api/tickets", headers=customer, json={
                "title": f"Load {iteration}", "description": "Printer on fire", "priority":
                ("critical", "high", "medium", "low")[iteration % 4]}).json()
            client.patch(f"/api/tickets/{created['id']}", headers=agent,
                         json={"status": "in_progress"})
            client.post(f"/api/tickets/{created['id']}/comments", headers=agent,
                        json={"body": "Looking into it."})
            client.get("/api/tickets/999999999", headers=agent)  # 404
            client.get("/api/tickets")  # 401
            sent += 10
            time.sleep(0.02)
    return sent


def _wait(live: Live, expr: str, want: float, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = live.query(expr)
        result = last.get("data", {}).get("result") or []
        if result and float(result[0]["value"][1]) >= want:
            return
        time.sleep(0.5)
    pytest.fail(f"Prometheus never had {expr} >= {want}: {last}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        pytest.fail("prometheus is required (Debian package `prometheus`; scripts/setup --system)")
    work = tmp_path_factory.mktemp("live-prometheus")
    stack = EmbeddedStack(replicas=2, log_dir=work / "logs",
                          seed=SeedSpec(tickets=200, agents=5, customers=20),
                          settings={"SLA_SWEEP_INTERVAL_SECONDS": "2"})
    prometheus: processes.ManagedProcess | None = None
    try:
        endpoints = stack.up()
        groups = build_rules(load_slo(), load_stack_numbers())
        rules_file = work / "servicedesk.rules.yml"
        rules_file.write_text(render_rules(groups))
        targets = [r.url.removeprefix("http://") for r in endpoints.replicas]
        config = work / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules_file)],
            "scrape_configs": [{"job_name": "servicedesk-app", "metrics_path": "/api/metrics",
                                "static_configs": [{"targets": targets}]}],
        }))
        port = processes.free_port()
        prometheus = processes.start(
            "prometheus",
            [binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
             "--web.enable-remote-write-receiver"],
            env=dict(os.environ), log_path=work / "logs" / "prometheus.log",
        )
        url = f"http://127.0.0.1:{port}"
        processes.wait_for_probe(f"{url}/-/ready", attempts=60, period=0.5, process=prometheus)
        live = Live(url, tuple(targets), tuple(r for g in groups for r in g.rules),
                    work / "logs")
        _wait(live, "count(up == 1)", len(targets))
        assert _drive_load(endpoints.service_url, endpoints.tokens_file or "") > 0
        time.sleep(3)  # a few more scrapes and rule evaluations after the load
        _wait(live, "count(slo:sli_error:ratio_rate5m)", 3)
        _wait(live, "count(slo:period_error_budget_remaining:ratio)", 3)
        live.client_at = _push_client_series(url)
        yield live
    finally:
        if prometheus is not None:
            processes.stop(prometheus)
        stack.down()


def test_prometheus_scrapes_every_replica(live: Live) -> None:
    assert live.problem("count(up == 1) == 2") is None


def test_every_dashboard_panel_returns_data(live: Live) -> None:
    rendered = build_dashboards(DashboardContext(load_slo(), load_stack_numbers()))
    queries = [q for d in rendered for q in panel_queries(d.data())]
    assert len(queries) >= 60
    failures = []
    for item in queries:
        expr = item.expr.replace("$__rate_interval", RATE_INTERVAL)
        for variable, value in VARIABLES.items():
            expr = expr.replace(variable, value)
        problem = live.problem(expr, at=live.client_at)  # when the client series were fresh
        if problem:
            failures.append(f"{item.dashboard} / {item.panel} [{item.ref}]: {problem}\n  {expr}")
    assert not failures, "\n".join(failures)


def test_every_annotation_query_marks_the_pushed_run(live: Live) -> None:
    """The dashboards' annotation queries over the remote-written series: the run, its stage,
    the fault and the scale-up are marked while fresh, and nothing is marked a minute later
    (the series stopped: no 5-minute lookback ghosts)."""
    [item] = [d for d in build_dashboards(DashboardContext(load_slo(), load_stack_numbers()))
              if d.name == "load-test"]
    queries = {a["name"]: a["expr"] for a in item.data()["annotations"]["list"] if "expr" in a}
    expected = {"Load test runs": {"run_id": "live-1", "scenario": "live"},
                "Load test stages": {"run_id": "live-1", "stage": "paced"},
                "Faults injected": {"fault": "slow-db", "kind": "slow-database"},
                "Scale events": {"run_id": "live-1"}}
    assert set(queries) == set(expected)
    for name, labels in expected.items():
        expr = queries[name].replace("$namespace", ".*")
        answer = live.query(expr, at=live.client_at - 1)
        found = answer["data"]["result"]
        assert len(found) == 1, (name, answer)
        assert labels.items() <= found[0]["metric"].items(), (name, found)
        assert float(found[0]["value"][1]) != 0, (name, found)
        later = live.query(expr, at=live.client_at + 60)["data"]["result"]
        assert later == [], (name, later)


def test_every_recording_rule_returns_data(live: Live) -> None:
    failures = []
    recordings = [r for r in live.rules if isinstance(r, RecordingRule)]
    assert len(recordings) == 39
    for rule in recordings:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(rule.labels.items()))
        for expr in (rule.expr, f"{rule.record}{{{labels}}}"):
            problem = live.problem(expr)
            if problem:
                failures.append(f"{rule.record} {labels}: {problem}\n  {expr}")
    assert not failures, "\n".join(failures)


def test_every_alert_signal_returns_data_and_every_alert_evaluates(live: Live) -> None:
    failures = []
    alerts = [r for r in live.rules if isinstance(r, AlertingRule)]
    assert len(alerts) == 11
    for rule in alerts:
        for signal in rule.signals:
            problem = live.problem(signal)
            if problem:
                failures.append(f"{rule.alert} ({rule.labels.get('severity')}): {problem}\n"
                                f"  {signal}")
        answer = live.query(rule.expr)
        if answer.get("status") != "success":
            failures.append(f"{rule.alert}: {answer.get('error')}")
    assert not failures, "\n".join(failures)


def test_prometheus_evaluates_every_rule_without_error(live: Live) -> None:
    groups = httpx.get(f"{live.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == len(live.rules) == 50
    bad = [(r.get("name"), r.get("lastError")) for r in rules if r.get("health") != "ok"]
    assert not bad, bad
    firing = [r["name"] for r in rules if r["type"] == "alerting" and r.get("alerts")]
    assert firing == [], f"a healthy short load should not raise alerts: {firing}"


def test_a_typo_or_a_missing_metric_is_caught(live: Live) -> None:
    """The checks above can fail: what they would say about broken panels."""
    assert live.problem('sum(rate(servicedesk_http_requests_total{stauts="200"}[1m]))') == \
        "no data"
    assert live.problem("sum(servicedesk_db_pool_connections_busy)") == "no data"
    assert live.problem("sum(rate(servicedesk_http_requests_total[1m])") is not None  # syntax
    assert live.problem(
        'histogram_quantile(0.95, sum by (le) (rate(servicedesk_http_request_duration_seconds_'
        'bucket{route="/api/nothing"}[1m])))') == "no data"


def test_monitor_metrics_exist_on_the_running_app(live: Live) -> None:
    """What the Datadog agent would make of a replica's real /api/metrics (same parser, this
    repository's OpenMetrics configuration) has every app metric and bucket the monitors read."""
    naming = load_openmetrics_naming()
    exposed = naming.exposed(httpx.get(f"http://{live.replicas[0]}/api/metrics",
                                       timeout=10).text)
    monitors = build_monitors(load_slo(), load_stack_numbers(), naming)
    for payload in monitors:
        if payload["type"] == "composite":  # joins the others; reads no metric itself
            continue
        for query in parse_monitor_query(payload["query"]).metrics:
            if not query.metric.startswith("servicedesk."):
                continue
            assert query.metric in exposed, query.metric
            for tag in query.tags:
                if tag.startswith(("upper_bound:", "status:", "route:")):
                    key = tag.split(":", 1)[0]
                    assert any(t.startswith(key + ":") for t in exposed[query.metric]), tag
                if tag.startswith("upper_bound:"):
                    assert tag in exposed[query.metric], tag
