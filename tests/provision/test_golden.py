"""Golden files: testdata/in-slo.yaml + in-stack.json -> out-* (dashboards, rules, monitors).

The goldens pin the whole output; a generator change shows up as a reviewed diff of them.
"""

from __future__ import annotations

import json

from harness.provision.dashboards import DashboardContext, build_dashboards
from harness.provision.ddnames import OpenMetricsNaming
from harness.provision.monitors import build_monitors, render_monitors
from harness.provision.rules import build_rules, render_rules

NAMING = OpenMetricsNaming(namespace="servicedesk", raw_metric_prefix="servicedesk_")


def test_rules_match_golden(golden_slo, golden_stack, golden) -> None:
    golden("out-rules.yml", render_rules(build_rules(golden_slo, golden_stack)))


def test_monitors_match_golden(golden_slo, golden_stack, golden) -> None:
    golden("out-monitors.json", render_monitors(build_monitors(golden_slo, golden_stack, NAMING)))


def test_dashboards_match_golden(golden_slo, golden_stack, golden) -> None:
    rendered = build_dashboards(DashboardContext(golden_slo, golden_stack))
    assert [d.name for d in rendered] == [
        "api-performance", "application-overview", "cache-performance",
        "database-performance", "load-test", "sla-metrics",
    ]
    for item in rendered:
        golden(f"out-dashboards/{item.filename}", item.text)


def test_generation_is_deterministic(golden_slo, golden_stack) -> None:
    ctx = DashboardContext(golden_slo, golden_stack)
    first = [d.text for d in build_dashboards(ctx)]
    second = [d.text for d in build_dashboards(ctx)]
    assert first == second
    assert render_rules(build_rules(golden_slo, golden_stack)) == render_rules(
        build_rules(golden_slo, golden_stack))
    assert render_monitors(build_monitors(golden_slo, golden_stack, NAMING)) == render_monitors(
        build_monitors(golden_slo, golden_stack, NAMING))


def test_json_keys_are_sorted(golden_slo, golden_stack) -> None:
    for item in build_dashboards(DashboardContext(golden_slo, golden_stack)):
        assert item.text == json.dumps(json.loads(item.text), sort_keys=True, indent=2,
                                       ensure_ascii=False) + "\n"
    text = render_monitors(build_monitors(golden_slo, golden_stack, NAMING))
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2,
                              ensure_ascii=False) + "\n"
