"""The monitors: official Monitor model, Datadog's query grammar, thresholds that agree with the
queries, and metric names the agent really produces from the app's /api/metrics."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_type import MonitorType

from harness.config.load import load_slo
from harness.provision.ddnames import OpenMetricsNaming, load_openmetrics_naming
from harness.provision.ddquery import parse_monitor_query
from harness.provision.monitors import (
    MANAGED_TAG,
    build_monitors,
    check_payload,
    composite_parts,
    harness_id,
    strict_monitor,
)
from harness.provision.sources import load_stack_numbers

REPO = Path(__file__).resolve().parents[2]
NAMING = OpenMetricsNaming(namespace="servicedesk", raw_metric_prefix="servicedesk_")
BURN = [f"error-budget-burn-{w}{part}" for w in ("1d", "1h", "3d", "6h")
        for part in ("", "-long-window", "-short-window")]
KEYS = [
    "db-pool-acquire-timeouts", "db-pool-saturation", *BURN,
    "hpa-at-max-replicas", "latency-p95", "latency-p99", "postgres-connections",
    "redis-evictions", "redis-memory",
]


def _plain(monitors):  # type: ignore[no-untyped-def]
    return [m for m in monitors if m["type"] != "composite"]


@pytest.fixture
def bundled() -> tuple[dict, ...]:
    return build_monitors(load_slo(), load_stack_numbers(), load_openmetrics_naming())


def test_the_issue_s_monitors_are_all_there(bundled) -> None:
    assert [harness_id(m) for m in bundled] == KEYS


def test_payloads_deserialize_into_the_official_monitor_model(bundled) -> None:
    for payload in bundled:
        model = strict_monitor(payload)
        assert isinstance(model, Monitor)
        if payload["type"] == "composite":
            assert model.type == MonitorType.COMPOSITE
            continue
        assert model.type == MonitorType.QUERY_ALERT
        assert model.query == payload["query"]
        assert model.options.thresholds.critical == payload["options"]["thresholds"]["critical"]
        assert MANAGED_TAG in model.tags


def test_the_strict_check_refuses_what_the_client_would_keep_unparsed() -> None:
    good = {"name": "x", "type": "query alert", "query": "avg(last_5m):avg:a{*} > 1",
            "options": {"thresholds": {"critical": 1}}}
    strict_monitor(good)
    with pytest.raises(ValueError, match="not understood"):
        strict_monitor({**good, "type": "metric alerts"})
    with pytest.raises(ValueError, match="unknown field"):
        strict_monitor({**good, "options": {"treshold": {"critical": 1}}})
    with pytest.raises(Exception, match="critical"):
        strict_monitor({**good, "options": {"thresholds": {"critical": "high"}}})


def test_queries_follow_the_grammar_and_agree_with_the_thresholds(bundled) -> None:
    for payload in _plain(bundled):
        parsed = parse_monitor_query(payload["query"])
        thresholds = payload["options"]["thresholds"]
        assert parsed.threshold == thresholds["critical"], payload["name"]
        if "warning" in thresholds:
            assert thresholds["warning"] < thresholds["critical"], payload["name"]
        assert parsed.operator in (">", ">=")


def test_check_payload_catches_a_threshold_mismatch(bundled) -> None:
    payload = {**bundled[0], "options": {**bundled[0]["options"],
                                         "thresholds": {"critical": 3}}}
    with pytest.raises(ValueError, match="not the critical threshold"):
        check_payload(payload)
    flipped = {**bundled[1], "options": {**bundled[1]["options"],
                                         "thresholds": {"critical": 1, "warning": 2}}}
    with pytest.raises(ValueError, match="past critical"):
        check_payload(flipped)


def test_thresholds_follow_the_spec_and_the_stack(golden_slo, golden_stack) -> None:
    monitors = {harness_id(m): m for m in build_monitors(golden_slo, golden_stack, NAMING)}
    critical = {k: m["options"]["thresholds"]["critical"] for k, m in monitors.items()
                if m["type"] != "composite"}
    assert critical["latency-p95"] == 0.05 and 'upper_bound:0.5' in monitors["latency-p95"][
        "query"]
    assert critical["latency-p99"] == 0.01 and "upper_bound:1.0" in monitors["latency-p99"][
        "query"]
    assert critical["error-budget-burn-1h-long-window"] == pytest.approx(13.44 * 0.001)
    assert critical["error-budget-burn-1h-short-window"] == pytest.approx(13.44 * 0.001)
    assert "sum(last_1h):" in monitors["error-budget-burn-1h-long-window"]["query"]
    assert "sum(last_5m):" in monitors["error-budget-burn-1h-short-window"]["query"]
    assert "sum(last_72h):" in monitors["error-budget-burn-3d-long-window"]["query"]
    assert "sum(last_6h):" in monitors["error-budget-burn-3d-short-window"]["query"]
    assert critical["postgres-connections"] == 0.975  # (200 - 5) / 200
    assert monitors["postgres-connections"]["options"]["thresholds"]["warning"] == 0.9  # 180/200
    assert critical["redis-evictions"] == 500  # CACHE_MAX_ENTRIES 5000 / 10
    assert "DB_POOL_MAX=12" in monitors["db-pool-saturation"]["message"]
    assert "3-6 replicas" in monitors["hpa-at-max-replicas"]["message"]
    severities = {k: next(t for t in m["tags"] if t.startswith("severity:")) for k, m in
                  monitors.items()}
    assert severities["error-budget-burn-1h"] == "severity:page"
    assert severities["error-budget-burn-3d"] == "severity:ticket"


def _app_exposition() -> str:
    """The app's /api/metrics after a request, from its own Metrics class (fresh registry)."""
    sys.path.insert(0, str(REPO / "stack" / "app"))
    try:
        from prometheus_client import CollectorRegistry
        from servicedesk.metrics import Metrics
    finally:
        sys.path.remove(str(REPO / "stack" / "app"))
    metrics = Metrics(CollectorRegistry())
    metrics.observe_request("GET", "/api/tickets", 200, 0.1)
    metrics.observe_query("get_ticket", 0.001)
    return metrics.render().decode()


def test_app_metrics_the_monitors_read_exist_with_their_tags(bundled) -> None:
    """Every `servicedesk.*` metric of every query is one the agent makes of the app's
    exposition with this repository's OpenMetrics configuration, and every tag filter on it
    names a tag the metric carries (or the check's own `service` tag)."""
    naming = load_openmetrics_naming()
    exposed = naming.exposed(_app_exposition())
    checked = 0
    for payload in _plain(bundled):
        for query in parse_monitor_query(payload["query"]).metrics:
            if not query.metric.startswith(naming.namespace + "."):
                continue  # an integration's metric (kubernetes_state, redis, postgresql)
            assert query.metric in exposed, f"{payload['name']}: {query.metric} is not exposed"
            keys = {t.split(":", 1)[0] for t in exposed[query.metric]} | {"service", "env"}
            for tag in query.tags:
                key, _, value = tag.lstrip("!").partition(":")
                assert key in keys, f"{query.metric} has no tag {key}"
                if key == "upper_bound":
                    assert tag in exposed[query.metric], f"no bucket {value} on {query.metric}"
            checked += 1
    assert checked >= 15


def test_the_naming_follows_the_agent_configuration(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(REPO / "stack" / "datadog", stack / "datadog")
    conf = stack / "datadog/conf.d/openmetrics.d/conf.yaml"
    conf.write_text(conf.read_text().replace("    raw_metric_prefix: servicedesk_\n", ""))
    naming = load_openmetrics_naming(stack)
    assert naming.counter("servicedesk_http_requests_total") == \
        "servicedesk.servicedesk_http_requests.count"
    assert load_openmetrics_naming().counter("servicedesk_http_requests_total") == \
        "servicedesk.http_requests.count"


def test_integration_metrics_are_scoped_by_the_agent_check_tags(bundled) -> None:
    """PostgreSQL and Redis monitors read the tags the bundled agent checks set."""
    import yaml

    monitors = {harness_id(m): m for m in bundled}
    for check, key in (("postgres.d", "postgres-connections"), ("redisdb.d", "redis-memory")):
        conf = yaml.safe_load((REPO / "stack/datadog/conf.d" / check / "conf.yaml").read_text())
        tags = set(conf["instances"][0]["tags"])
        scope = parse_monitor_query(monitors[key]["query"]).metrics[0].tags
        assert set(scope) <= tags, f"{key} filters on {scope}, {check} tags with {tags}"


def test_burn_rate_monitors_pair_a_long_and_a_short_window_as_the_rules_do(bundled) -> None:
    """Each composite alerts only when both its windows burn (the rules' `and`); the windows
    are the Prometheus rules' pairs: 1h/5m, 6h/30m, 1d/2h, 3d/6h."""
    monitors = {harness_id(m): m for m in bundled}
    pairs = {"1h": ("1h", "5m"), "6h": ("6h", "30m"), "1d": ("1d", "2h"), "3d": ("72h", "6h")}
    for long, (long_window, short_window) in pairs.items():
        composite = monitors[f"error-budget-burn-{long}"]
        assert composite["type"] == "composite"
        assert composite_parts(composite) == (f"error-budget-burn-{long}-long-window",
                                              f"error-budget-burn-{long}-short-window")
        assert composite["query"].count(" && ") == 1
        long_part, short_part = (monitors[k] for k in composite_parts(composite))
        assert f"sum(last_{long_window}):" in long_part["query"]
        assert f"sum(last_{short_window}):" in short_part["query"]
        assert (long_part["options"]["thresholds"]["critical"]
                == short_part["options"]["thresholds"]["critical"])
        assert "severity:page" in composite["tags"] or "severity:ticket" in composite["tags"]


def test_a_composite_of_something_else_is_refused(bundled) -> None:
    composite = next(m for m in bundled if m["type"] == "composite")
    with pytest.raises(ValueError, match="not a composite of harness-ids"):
        check_payload({**composite, "query": "123 || 456"})
