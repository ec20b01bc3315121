"""The dashboards: built from their sources with the spec's and the stack's numbers, laid out
cleanly, reading the templated Prometheus data source; the committed JSON is current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.config.load import load_slo
from harness.config.model import LatencyObjective
from harness.errors import ConfigError
from harness.provision.dashboards import (
    DashboardContext,
    build_dashboards,
    dashboards_dir,
    panel_queries,
    stale_files,
)
from harness.provision.panels import SCOPE, scoped
from harness.provision.sources import load_stack_numbers

TITLES = {
    "servicedesk-overview": "ServiceDesk / Application Overview",
    "servicedesk-sla": "ServiceDesk / SLA Metrics",
    "servicedesk-database": "ServiceDesk / Database Performance",
    "servicedesk-cache": "ServiceDesk / Cache Performance",
    "servicedesk-api": "ServiceDesk / API Performance",
    "servicedesk-load-test": "ServiceDesk / Load test",
}


def _panels(data):  # type: ignore[no-untyped-def]
    for panel in data["panels"]:
        yield panel
        yield from panel.get("panels") or []


def _by_title(data, title):  # type: ignore[no-untyped-def]
    return next(p for p in _panels(data) if p["title"] == title)


def _steps(panel) -> list[float]:  # type: ignore[no-untyped-def]
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            if s["value"] is not None]


def test_the_seed_s_five_dashboards_and_the_load_test(golden_slo, golden_stack) -> None:
    rendered = build_dashboards(DashboardContext(golden_slo, golden_stack))
    assert {d.uid: d.title for d in rendered} == TITLES


def test_every_panel_queries_the_templated_prometheus(golden_slo, golden_stack) -> None:
    for item in build_dashboards(DashboardContext(golden_slo, golden_stack)):
        data = item.data()
        assert data["templating"]["list"][0]["name"] == "datasource"
        assert data["templating"]["list"][0]["query"] == "prometheus"
        for panel in _panels(data):
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], f"{item.name}: {panel['title']} has no query"
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
            assert panel["description"], f"{item.name}: {panel['title']} is not explained"


def test_panels_do_not_overlap_and_fit_the_grid(golden_slo, golden_stack) -> None:
    for item in build_dashboards(DashboardContext(golden_slo, golden_stack)):
        taken: set[tuple[int, int]] = set()
        ids = []
        for panel in _panels(item.data()):
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24
            cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                     for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not cells & taken, f"{item.name}: {panel['title']} overlaps another panel"
            taken |= cells
            ids.append(panel["id"])
        assert len(set(ids)) == len(ids)


def test_thresholds_come_from_the_spec_and_the_stack(golden_slo, golden_stack) -> None:
    rendered = {d.uid: d.data() for d in
                build_dashboards(DashboardContext(golden_slo, golden_stack))}
    overview = rendered["servicedesk-overview"]
    assert _steps(_by_title(overview, "p95 latency")) == [0.5]  # p95_ms 500
    assert _steps(_by_title(overview, "Latency p50 / p95 / p99")) == [0.5, 1.0]
    assert _steps(_by_title(overview, "Replicas")) == [6]  # maxReplicas
    assert _steps(_by_title(overview, "CPU per replica (share of the request)")) == [0.6]
    cpu = _by_title(overview, "CPU per replica (share of the request)")["targets"][0]["expr"]
    assert cpu.endswith("/ 0.25")  # the Deployment's cpu request
    database = rendered["servicedesk-database"]
    assert _steps(_by_title(database, "Client connections against max_connections")) == [180, 195]
    assert _steps(_by_title(database, "Pool connections per replica")) == [12]
    assert _steps(_by_title(database, "Acquire wait p95 / p99")) == [2.5]
    sla = rendered["servicedesk-sla"]
    assert _steps(_by_title(sla, "availability (28d)")) == [0.999]
    assert _steps(_by_title(sla, "availability burn rate")) == [0.933333333, 2.8, 5.6, 13.44]
    api = rendered["servicedesk-api"]
    assert _steps(_by_title(api, "Group read: latency p95 / p99")) == [0.25]
    assert _steps(_by_title(api, "Group write: latency p95 / p99")) == [0.5, 1.0]


def test_a_changed_objective_moves_the_panels(golden_slo, golden_stack) -> None:
    faster = golden_slo.model_copy(update={"latency": LatencyObjective(p95_ms=100, p99_ms=250)})
    overview = next(d.data() for d in build_dashboards(DashboardContext(faster, golden_stack))
                    if d.uid == "servicedesk-overview")
    assert _steps(_by_title(overview, "p95 latency")) == [0.1]


def test_panel_queries_lists_every_target(golden_slo, golden_stack) -> None:
    rendered = build_dashboards(DashboardContext(golden_slo, golden_stack))
    queries = [q for d in rendered for q in panel_queries(d.data())]
    total = sum(len(p.get("targets") or []) for d in rendered for p in _panels(d.data()))
    assert len(queries) == total
    assert all(q.expr.strip() for q in queries)


def test_the_committed_json_is_current() -> None:
    """dashboards/*.json is what dashboards/*.dashboard.py produce from the bundled spec and
    stack; this fails until `harness dashboards build` is run after a change to either."""
    rendered = build_dashboards(DashboardContext(load_slo(), load_stack_numbers()))
    assert stale_files(rendered, dashboards_dir()) == []


def test_a_stale_or_orphaned_json_file_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "dashboards"
    shutil.copytree(dashboards_dir(), folder)
    rendered = build_dashboards(DashboardContext(load_slo(), load_stack_numbers()), folder)
    assert stale_files(rendered, folder) == []
    source = folder / "cache-performance.dashboard.py"
    source.write_text(source.read_text().replace('"Hit ratio"', '"Cache hit ratio"', 1))
    (folder / "old-dashboard.json").write_text("{}")
    rendered = build_dashboards(DashboardContext(load_slo(), load_stack_numbers()), folder)
    assert stale_files(rendered, folder) == ["cache-performance.json", "old-dashboard.json"]


def test_a_source_without_build_is_a_config_error(tmp_path: Path, golden_slo,
                                                  golden_stack) -> None:
    (tmp_path / "broken.dashboard.py").write_text("dashboard = None\n")
    with pytest.raises(ConfigError, match="broken.dashboard.py: build: missing"):
        build_dashboards(DashboardContext(golden_slo, golden_stack), tmp_path)


def test_dashboards_build_and_check(tmp_path: Path, cli) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["dashboards", "build", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "out of date" in result.output
    result = runner.invoke(cli, ["dashboards", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "api-performance.json", "application-overview.json", "cache-performance.json",
        "database-performance.json", "load-test.json", "sla-metrics.json"]
    result = runner.invoke(cli, ["dashboards", "build", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_every_app_series_is_scoped_to_namespace_job_and_instance(golden_slo,
                                                                  golden_stack) -> None:
    import re

    for item in build_dashboards(DashboardContext(golden_slo, golden_stack)):
        data = item.data()
        names = [v["name"] for v in data["templating"]["list"]]
        assert names[:4] == ["datasource", "namespace", "job", "instance"], item.name
        for variable in data["templating"]["list"][1:4]:
            assert variable["includeAll"] and variable["allValue"] == ".*"
            assert variable["current"]["value"] == ["$__all"]
        for query in panel_queries(data):
            for match in re.finditer(r"\b(servicedesk|process)_[a-z_]+(\{[^}]*\})?", query.expr):
                assert match.group(2) and SCOPE in match.group(2), (item.name, query.expr)


def test_scoped_adds_the_matchers_to_the_app_s_selectors_only() -> None:
    assert scoped('sum(rate(servicedesk_http_requests_total{route="/x"}[1m]))') == (
        f'sum(rate(servicedesk_http_requests_total{{{SCOPE},route="/x"}}[1m]))')
    assert scoped("process_cpu_seconds_total / servicedesk_db_pool_max") == (
        f"process_cpu_seconds_total{{{SCOPE}}} / servicedesk_db_pool_max{{{SCOPE}}}")
    for untouched in ("harness_users{run_id=~\"$run_id\"}", "slo:sli_error:ratio_rate5m",
                      "histogram_quantile(0.5, x)"):
        assert scoped(untouched) == untouched


def test_every_dashboard_marks_the_load_tests(golden_slo, golden_stack) -> None:
    for item in build_dashboards(DashboardContext(golden_slo, golden_stack)):
        annotations = item.data()["annotations"]["list"]
        names = [a["name"] for a in annotations]
        assert names == ["Annotations & Alerts", "Load tests (posted by the harness)",
                         "Load test runs", "Load test stages", "Faults injected",
                         "Scale events"], item.name
        assert annotations[1]["target"]["tags"] == ["harness"]
        for query in annotations[2:]:
            assert query["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert "harness_" in query["expr"]


def test_the_load_test_dashboard_puts_client_beside_server(golden_slo, golden_stack) -> None:
    [item] = [d for d in build_dashboards(DashboardContext(golden_slo, golden_stack))
              if d.name == "load-test"]
    data = item.data()
    assert [v["name"] for v in data["templating"]["list"]][-1] == "run_id"
    rows = [p for p in data["panels"] if p["type"] == "row"]
    for section in rows[:3]:
        y = section["gridPos"]["y"] + 1
        left, right = sorted((p for p in data["panels"] if p["gridPos"]["y"] == y),
                             key=lambda p: p["gridPos"]["x"])
        assert all("harness_" in t["expr"] and 'run_id=~"$run_id"' in t["expr"]
                   for t in left["targets"]), left["title"]
        assert all("servicedesk_" in t["expr"] for t in right["targets"]), right["title"]
    client_p95 = _by_title(data, "Client latency p50 / p95 / p99")
    assert _steps(client_p95) == [golden_slo.latency.p95_ms / 1000,
                                  golden_slo.latency.p99_ms / 1000]
