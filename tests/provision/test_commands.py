"""The provision commands as harness.cli registers them (one thin module each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.errors import UsageError
from harness.provision.monitors import harness_id


def test_monitors_build_prints_or_writes_the_payloads(tmp_path: Path, cli) -> None:
    runner = CliRunner()
    printed = runner.invoke(cli, ["monitors", "build"])
    assert printed.exit_code == 0, printed.output
    monitors = json.loads(printed.output)
    assert len(monitors) == 20 and all(harness_id(m) for m in monitors)
    out = tmp_path / "monitors.json"
    written = runner.invoke(cli, ["monitors", "build", "--out", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text()) == monitors


def test_rules_build_prints_with_a_dash(cli) -> None:
    result = CliRunner().invoke(cli, ["rules", "build", "--out", "-"])
    assert result.exit_code == 0
    assert len(yaml.safe_load(result.output)["groups"]) == 4


def test_an_slo_file_can_be_given(tmp_path: Path, cli) -> None:
    spec = tmp_path / "slo.yaml"
    spec.write_text("version: 1\navailability_percent: 99.9\n")
    result = CliRunner().invoke(cli, ["rules", "build", "--out", "-", "--slo", str(spec)])
    assert "vector(0.999)" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\navailability: 99.9\n")
    result = CliRunner().invoke(cli, ["monitors", "build", "--slo", str(bad)])
    assert result.exit_code != 0
    assert "availability" in str(result.exception) and "unknown field" in str(result.exception)


@pytest.mark.parametrize("args", [["monitors", "push"], ["monitors", "push", "--dry-run"]])
def test_monitors_push_needs_both_keys(args: list[str], cli) -> None:
    result = CliRunner().invoke(cli, args, env={"DD_API_KEY": "only-the-api-key-123",
                                                "DD_APP_KEY": ""})
    assert isinstance(result.exception, UsageError)
    assert "DD_API_KEY and DD_APP_KEY" in str(result.exception)


def test_dashboards_push_needs_the_token(cli) -> None:
    result = CliRunner().invoke(cli, ["dashboards", "push", "--grafana-url",
                                      "http://127.0.0.1:9"], env={"GRAFANA_TOKEN": ""})
    assert isinstance(result.exception, UsageError)
    assert "GRAFANA_TOKEN" in str(result.exception)


def test_a_bad_datadog_site_is_a_usage_error(cli) -> None:
    result = CliRunner().invoke(cli, ["monitors", "push"], env={
        "DD_API_KEY": "k" * 32, "DD_APP_KEY": "a" * 40, "DD_SITE": "not a site!"})
    assert isinstance(result.exception, UsageError)
    assert "DD_SITE" in str(result.exception)


def test_the_compose_grafana_provisions_the_committed_dashboards() -> None:
    """The compose file mounts dashboards/ where the file provider reads, and the provisioned
    Prometheus data source is the dashboards' default."""
    repo = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((repo / "stack/compose/docker-compose.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    target = mounts["../../dashboards"]
    assert (repo / "stack/compose/../../dashboards").resolve() == repo / "dashboards"
    provider = yaml.safe_load(
        (repo / "stack/grafana/provisioning/dashboards/servicedesk.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == target
    sources = yaml.safe_load(
        (repo / "stack/grafana/provisioning/datasources/prometheus.yml").read_text())
    prometheus = [d for d in sources["datasources"] if d["type"] == "prometheus"]
    for path in (repo / "dashboards").glob("*.json"):
        variable = json.loads(path.read_text())["templating"]["list"][0]
        assert variable["type"] == "datasource" and variable["query"] == "prometheus"
        assert variable["current"]["text"] in {d["name"] for d in prometheus}
