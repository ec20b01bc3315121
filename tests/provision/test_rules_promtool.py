"""The generated rules under Prometheus' own tools: `promtool check rules`, and
`promtool test rules` cases in which the burn-rate alerts fire and resolve on synthetic series
(one sample a minute).

The cases are written against the bundled SLO (99.5 %, p95 250 ms, p99 500 ms over 30 days):
- a fast burn (9 % errors for an hour) pages within minutes, stops paging once the 30-minute
  window is clean, and keeps the ticket until the 6-hour window is clean;
- a slow burn (2 % errors) never pages but opens a ticket;
- 80 % of requests over 250 ms burns the p95 budget (page and ticket), not the p99 one;
- scrapes and probes are not users: 1000 fast /api/metrics hits a minute do not hide the errors;
- the capacity alerts fire on the stack's numbers.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.config.load import load_slo
from harness.provision.rules import AlertingRule, build_rules, render_rules
from harness.provision.sources import load_stack_numbers

pytestmark = pytest.mark.integration

APP = 'instance="app-1:3000",job="servicedesk-app"'
OK = f'servicedesk_http_requests_total{{{APP},method="GET",route="/api/tickets",status="200"}}'
ERR = f'servicedesk_http_requests_total{{{APP},method="GET",route="/api/tickets",status="500"}}'
PROBES = f'servicedesk_http_requests_total{{{APP},method="GET",route="/api/metrics",status="200"}}'


def _duration(part: str, le: str | None = None) -> str:
    bound = f',le="{le}"' if le is not None else ""
    return (f"servicedesk_http_request_duration_seconds_{part}"
            f'{{{APP},method="GET",route="/api/tickets",status="200"{bound}}}')


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required (Debian package `prometheus`; scripts/setup --system)")
    return path


@pytest.fixture(scope="module")
def rules() -> dict[tuple[str, str], AlertingRule]:
    groups = build_rules(load_slo(), load_stack_numbers())
    return {(r.alert, r.labels.get("severity", "")): r for g in groups for r in g.rules
            if isinstance(r, AlertingRule)}


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "servicedesk.rules.yml"
    path.write_text(render_rules(build_rules(load_slo(), load_stack_numbers())))
    return path


def _bucket(le: str, values: str) -> dict[str, str]:
    return {"series": _duration("bucket", le), "values": values}


def _expected(rule: AlertingRule, **labels: str) -> dict[str, Any]:
    return {"exp_labels": {**rule.labels, **labels}, "exp_annotations": dict(rule.annotations)}


def _burn(rules, name: str, *severities: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [_expected(rules[(name, s)]) for s in severities]


def _cases(rules) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    availability = "ServiceDeskAvailabilityBudgetBurn"
    p95, p99 = "ServiceDeskLatencyP95BudgetBurn", "ServiceDeskLatencyP99BudgetBurn"
    saturated = rules[("ServiceDeskDbPoolSaturated", "ticket")]
    over_budget = rules[("ServiceDeskDbConnectionsOverBudget", "ticket")]
    timeouts = rules[("ServiceDeskDbPoolAcquireTimeouts", "ticket")]
    at_max = rules[("ServiceDeskAtMaxReplicas", "ticket")]
    cache = rules[("ServiceDeskCacheErrors", "ticket")]

    def alert(name: str, at: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
        return {"eval_time": at, "alertname": name, "exp_alerts": expected}

    def rendered(rule: AlertingRule, value: str, **labels: str) -> dict[str, Any]:
        annotations = {k: v.replace("{{ $value }}", value)
                       .replace('{{ printf "%.2f" $value }}', value)
                       .replace("{{ $labels.instance }}", labels.get("instance", ""))
                       for k, v in rule.annotations.items()}
        return {"exp_labels": {**rule.labels, **labels}, "exp_annotations": annotations}

    return [
        {
            "name": "fast burn: 9 % errors for an hour pages, then resolves; the ticket stays",
            "interval": "1m",
            "input_series": [
                {"series": OK, "values": "0+100x500"},
                {"series": ERR, "values": "0+10x60 600+0x440"},
                {"series": PROBES, "values": "0+1000x500"},
            ],
            "alert_rule_test": [
                alert(availability, "10m", _burn(rules, availability, "page")),
                alert(availability, "30m", _burn(rules, availability, "page", "ticket")),
                alert(availability, "100m", _burn(rules, availability, "ticket")),
                alert(availability, "480m", []),
                alert(p95, "30m", []),
            ],
        },
        {
            "name": "slow burn: 2 % errors opens a ticket and never pages",
            "interval": "1m",
            "input_series": [
                {"series": OK, "values": "0+100x300"},
                {"series": ERR, "values": "0+2x300"},
            ],
            "alert_rule_test": [
                alert(availability, "10m", []),
                alert(availability, "60m", _burn(rules, availability, "ticket")),
                alert(availability, "300m", _burn(rules, availability, "ticket")),
            ],
        },
        {
            "name": "latency: 80 % over 250 ms burns the p95 budget, not the p99 one",
            "interval": "1m",
            "input_series": [
                {"series": OK, "values": "0+100x120"},
                _bucket("0.25", "0+20x120"),
                _bucket("0.5", "0+100x120"),
                _bucket("+Inf", "0+100x120"),
                {"series": _duration("count"), "values": "0+100x120"},
            ],
            "alert_rule_test": [
                alert(p95, "10m", _burn(rules, p95, "page")),
                alert(p95, "20m", _burn(rules, p95, "page", "ticket")),
                alert(p99, "20m", []),
                alert(availability, "20m", []),
            ],
        },
        {
            "name": "capacity: saturated pool, connections over budget, timeouts, max replicas",
            "interval": "1m",
            "input_series": [
                {"series": 'servicedesk_db_pool_connections_in_use{instance="a:1"}',
                 "values": "7+0x30"},
                {"series": 'servicedesk_db_pool_max{instance="a:1"}', "values": "7+0x30"},
                {"series": 'servicedesk_db_pool_connections_in_use{instance="b:1"}',
                 "values": "3+0x30"},
                {"series": 'servicedesk_db_pool_max{instance="b:1"}', "values": "7+0x30"},
                {"series": 'servicedesk_db_pool_size{instance="a:1"}', "values": "45+0x30"},
                {"series": 'servicedesk_db_pool_size{instance="b:1"}', "values": "45+0x30"},
                {"series": 'servicedesk_db_pool_acquire_timeouts_total{instance="a:1"}',
                 "values": "0+0x10 3+3x20"},
                {"series": "servicedesk_cache_errors_total", "values": "0+6x30"},
                *({"series": f'servicedesk_build_info{{instance="r{i}:1",version="1"}}',
                   "values": "1+0x30"} for i in range(10)),
            ],
            "alert_rule_test": [
                alert("ServiceDeskDbPoolSaturated", "4m", []),
                alert("ServiceDeskDbPoolSaturated", "10m",
                      [rendered(saturated, "", instance="a:1")]),
                alert("ServiceDeskDbConnectionsOverBudget", "10m",
                      [rendered(over_budget, "90")]),
                alert("ServiceDeskDbPoolAcquireTimeouts", "10m", []),
                alert("ServiceDeskDbPoolAcquireTimeouts", "15m",
                      [rendered(timeouts, "15", instance="a:1")]),
                alert("ServiceDeskAtMaxReplicas", "10m", []),
                alert("ServiceDeskAtMaxReplicas", "20m", [rendered(at_max, "10")]),
                alert("ServiceDeskCacheErrors", "10m", [rendered(cache, "0.10")]),
            ],
        },
    ]


def _run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_generated_rules(promtool: str, rules_file: Path) -> None:
    result = _run(promtool, "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 50 rules found" in result.stdout


def test_promtool_checks_the_committed_rules(promtool: str) -> None:
    from harness.commands.rules import default_rules_file

    result = _run(promtool, "check", "rules", str(default_rules_file()))
    assert result.returncode == 0, result.stdout + result.stderr


def _write_tests(folder: Path, rules_file: Path, cases: list[dict[str, Any]]) -> Path:
    path = folder / "servicedesk.rules.test.yml"
    path.write_text(yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m",
                                    "tests": cases}, sort_keys=False, width=10_000))
    return path


def test_burn_rate_alerts_fire_and_resolve(promtool: str, rules_file: Path, rules,
                                           tmp_path: Path) -> None:
    tests = _write_tests(tmp_path, rules_file, _cases(rules))
    result = _run(promtool, "test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails(promtool: str, rules_file: Path, rules,
                                   tmp_path: Path) -> None:
    """The cases above can fail: claim the fast burn still pages after the errors stopped."""
    cases = _cases(rules)[:1]
    cases[0]["alert_rule_test"] = [{
        "eval_time": "100m", "alertname": "ServiceDeskAvailabilityBudgetBurn",
        "exp_alerts": _burn(rules, "ServiceDeskAvailabilityBudgetBurn", "page", "ticket"),
    }]
    result = _run(promtool, "test", "rules", str(_write_tests(tmp_path, rules_file, cases)))
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
