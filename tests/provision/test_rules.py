"""The rules as records: every SLO gets SLI recordings for each window, and page and ticket
alerts built from the burn-rate table; the committed rules file is what the sources produce."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from harness.config.load import load_slo
from harness.provision.rules import AlertingRule, RecordingRule, build_rules, render_rules
from harness.provision.sources import load_stack_numbers


def _alerts(groups) -> list[AlertingRule]:  # type: ignore[no-untyped-def]
    return [r for g in groups for r in g.rules if isinstance(r, AlertingRule)]


def test_sli_recordings_cover_every_window_and_the_period(golden_slo, golden_stack) -> None:
    groups = build_rules(golden_slo, golden_stack)
    records = [r for r in groups[0].rules if isinstance(r, RecordingRule)]
    windows = {(r.labels["slo"], r.record.rsplit("rate", 1)[1]) for r in records}
    for slo in ("availability", "latency-p95", "latency-p99"):
        assert {w for s, w in windows if s == slo} == {
            "5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"}


def test_latency_sli_reads_the_bucket_of_the_objective(golden_slo, golden_stack) -> None:
    groups = build_rules(golden_slo, golden_stack)
    by_slo = {r.labels["slo"]: r.expr for r in groups[0].rules
              if isinstance(r, RecordingRule) and r.record.endswith("rate5m")}
    assert 'le="0.5"' in by_slo["latency-p95"]  # p95_ms: 500 in testdata/in-slo.yaml
    assert 'le="1.0"' in by_slo["latency-p99"]  # the Python client writes 1 s as "1.0"
    assert 'status!~"5.."' in by_slo["availability"]
    for expr in by_slo.values():  # probes and scrapes are not users
        assert 'route!~"/api/(metrics|health/.*)"' in expr


def test_burn_alerts_pair_long_and_short_windows(golden_slo, golden_stack) -> None:
    alerts = {(a.alert, a.labels["severity"]): a for a in
              _alerts(build_rules(golden_slo, golden_stack))}
    page = alerts[("ServiceDeskAvailabilityBudgetBurn", "page")]
    # 28 days: 2 % of the budget in 1h is 13.44x, 5 % in 6h is 5.6x; the budget is 0.1 %.
    assert [[(re.search(r"rate(\w+)\{", c.signal).group(1), c.threshold) for c in pair]
            for pair in page.when] == [
        [("1h", "(13.44 * 0.001)"), ("5m", "(13.44 * 0.001)")],
        [("6h", "(5.6 * 0.001)"), ("30m", "(5.6 * 0.001)")],
    ]
    ticket = alerts[("ServiceDeskAvailabilityBudgetBurn", "ticket")]
    assert [c.threshold for pair in ticket.when for c in pair] == [
        "(2.8 * 0.001)", "(2.8 * 0.001)", "(0.933333333 * 0.001)", "(0.933333333 * 0.001)"]
    assert page.expr.count(" and ") == 2 and page.expr.count(" or ") == 1
    assert {k for k, _ in alerts} >= {
        "ServiceDeskLatencyP95BudgetBurn", "ServiceDeskLatencyP99BudgetBurn"}


def test_capacity_alerts_use_the_stack_numbers(golden_slo, golden_stack) -> None:
    alerts = {a.alert: a for a in _alerts(build_rules(golden_slo, golden_stack))}
    assert alerts["ServiceDeskDbConnectionsOverBudget"].expr == \
        "sum(servicedesk_db_pool_size) > 180"  # 200 - 5 reserved - 15 headroom
    assert alerts["ServiceDeskAtMaxReplicas"].expr == "count(servicedesk_build_info) >= 6"
    assert "DB_POOL_MAX=12" in alerts["ServiceDeskDbPoolSaturated"].annotations["description"]
    assert "REDIS_MAX_RETRIES=2" in alerts["ServiceDeskCacheErrors"].annotations["description"]


def test_rendered_rules_are_valid_yaml_with_the_expected_groups(golden_slo, golden_stack) -> None:
    document = yaml.safe_load(render_rules(build_rules(golden_slo, golden_stack)))
    assert [g["name"] for g in document["groups"]] == [
        "servicedesk-slo-sli-recordings", "servicedesk-slo-meta-recordings",
        "servicedesk-slo-alerts", "servicedesk-capacity-alerts"]
    for group in document["groups"]:
        for rule in group["rules"]:
            assert ("record" in rule) != ("alert" in rule)
            assert list(rule) == sorted(rule)


def test_the_committed_rules_file_is_current() -> None:
    """stack/prometheus/rules/servicedesk.rules.yml is what the sources produce now."""
    from harness.commands.rules import default_rules_file

    expected = render_rules(build_rules(load_slo(), load_stack_numbers()))
    assert default_rules_file().read_text(encoding="utf-8") == expected, (
        "stack/prometheus/rules/servicedesk.rules.yml is out of date: run `harness rules build`")


def test_rules_build_check_fails_on_a_stale_file(tmp_path, cli) -> None:
    stale = tmp_path / "rules.yml"
    stale.write_text("groups: []\n")
    result = CliRunner().invoke(cli, ["rules", "build", "--check", "--out", str(stale)])
    assert result.exit_code == 1
    result = CliRunner().invoke(cli, ["rules", "build", "--out", str(stale)])
    assert result.exit_code == 0
    result = CliRunner().invoke(cli, ["rules", "build", "--check", "--out", str(stale)])
    assert result.exit_code == 0, result.output


def test_bundled_latency_objectives_sit_on_the_app_s_bucket_bounds() -> None:
    """The latency SLIs count the bucket at the objective (`le`); an objective between two
    bucket bounds would select no series and its alerts could never fire."""
    import sys
    from pathlib import Path

    from harness.provision.objectives import objectives

    app = str(Path(__file__).resolve().parents[2] / "stack" / "app")
    sys.path.insert(0, app)
    try:
        from servicedesk.metrics import HTTP_BUCKETS
    finally:
        sys.path.remove(app)
    for objective in objectives(load_slo()):
        if objective.kind == "latency":
            assert objective.threshold_seconds in HTTP_BUCKETS, objective
