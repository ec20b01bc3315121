"""Contract tests of `push` against local servers standing in for the Datadog Monitors API and
Grafana's HTTP API: request shape, authentication headers, idempotency (a second push updates,
never duplicates)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.config.load import load_slo
from harness.errors import DependencyError
from harness.provision import datadog as datadog_module
from harness.provision.credentials import DatadogCredentials, GrafanaCredentials
from harness.provision.dashboards import DashboardContext, build_dashboards
from harness.provision.datadog import DatadogClient, push_monitors
from harness.provision.ddnames import load_openmetrics_naming
from harness.provision.grafana import GrafanaClient
from harness.provision.monitors import MANAGED_TAG, build_monitors, composite_parts, harness_id
from harness.provision.sources import load_stack_numbers
from tests.provision.conftest import DD_API_KEY, DD_APP_KEY, GRAFANA_TOKEN


def _monitors(availability: float = 99.5) -> tuple[dict, ...]:
    slo = load_slo().model_copy(update={"availability_percent": availability})
    return build_monitors(slo, load_stack_numbers(), load_openmetrics_naming())


def _datadog(fake) -> DatadogClient:  # type: ignore[no-untyped-def]
    return DatadogClient(DatadogCredentials(fake.url, DD_API_KEY, DD_APP_KEY))


# ---------------------------------------------------------------------------------- Datadog


def test_contract_datadog_first_push_creates_each_monitor_once(fake_datadog) -> None:
    desired = _monitors()
    with _datadog(fake_datadog) as client:
        changes = push_monitors(client, desired)
    assert [c.action for c in changes] == ["create"] * len(desired)
    listing, *writes = fake_datadog.requests
    assert (listing.method, listing.path) == ("GET", "/api/v1/monitor")
    assert listing.query == {"monitor_tags": [MANAGED_TAG], "page": ["0"], "page_size": ["1000"]}
    assert [(w.method, w.path) for w in writes] == [("POST", "/api/v1/monitor")] * len(desired)
    # the plain monitors first, then the composites over them, with their parts' new ids
    plain = [m for m in desired if m["type"] != "composite"]
    composites = [m for m in desired if m["type"] == "composite"]
    assert composites and [w.body for w in writes[:len(plain)]] == plain
    ids = {harness_id(m): i for i, m in fake_datadog.monitors.items()}
    assert [w.body for w in writes[len(plain):]] == [
        {**c, "query": " && ".join(str(ids[k]) for k in composite_parts(c))} for c in composites]
    for request in fake_datadog.requests:
        assert request.headers["dd-api-key"] == DD_API_KEY
        assert request.headers["dd-application-key"] == DD_APP_KEY
        assert request.headers["accept"] == "application/json"
    for write in writes:
        assert write.headers["content-type"] == "application/json"
    assert sorted(harness_id(m) for m in fake_datadog.monitors.values()) == sorted(
        harness_id(m) for m in desired)
    assert {c.monitor_id for c in changes} == set(fake_datadog.monitors)


def test_contract_datadog_second_push_changes_nothing(fake_datadog) -> None:
    desired = _monitors()
    with _datadog(fake_datadog) as client:
        push_monitors(client, desired)
        fake_datadog.requests.clear()
        changes = push_monitors(client, desired)
    assert {c.action for c in changes} == {"unchanged"}
    assert fake_datadog.writes() == []
    assert len(fake_datadog.monitors) == len(desired)


def test_contract_datadog_push_after_a_change_updates_in_place(fake_datadog) -> None:
    with _datadog(fake_datadog) as client:
        push_monitors(client, _monitors(99.5))
        ids = {harness_id(m): i for i, m in fake_datadog.monitors.items()}
        fake_datadog.requests.clear()
        changes = push_monitors(client, _monitors(99.9))
    updated = {c.key for c in changes if c.action == "update"}
    burns = {f"error-budget-burn-{w}" for w in ("1h", "6h", "1d", "3d")}
    parts = {f"{b}-{which}-window" for b in burns for which in ("long", "short")}
    assert updated == burns | parts
    assert {c.fields for c in changes if c.key in parts} == {("query", "options.thresholds")}
    assert {c.fields for c in changes if c.key in burns} == {("message",)}  # same parts
    writes = fake_datadog.writes()
    assert {w.method for w in writes} == {"PUT"}
    assert sorted(w.path for w in writes) == sorted(f"/api/v1/monitor/{ids[k]}" for k in updated)
    assert len(fake_datadog.monitors) == len(ids)  # updated, not duplicated
    burn = fake_datadog.monitors[ids["error-budget-burn-1h-short-window"]]
    assert burn["query"].endswith("> 0.0144") and burn["options"]["thresholds"]["critical"] == \
        0.0144


def test_contract_datadog_dry_run_writes_nothing(fake_datadog) -> None:
    with _datadog(fake_datadog) as client:
        changes = push_monitors(client, _monitors(), dry_run=True)
    assert {c.action for c in changes} == {"create"}
    assert fake_datadog.writes() == []
    assert fake_datadog.monitors == {}


def test_contract_datadog_leaves_foreign_stale_and_duplicate_monitors_alone(fake_datadog) -> None:
    desired = _monitors()
    foreign = {"name": "someone else's", "type": "query alert",
               "query": "avg(last_5m):avg:system.load.1{*} > 4", "tags": ["team:other"],
               "options": {"thresholds": {"critical": 4}}}
    stale = {**desired[0], "tags": [MANAGED_TAG, "harness-id:retired-monitor"]}
    fake_datadog.monitors = {1: {**foreign, "id": 1}, 2: {**stale, "id": 2},
                             3: {**desired[0], "id": 3}, 4: {**desired[0], "id": 4}}
    with _datadog(fake_datadog) as client:
        changes = push_monitors(client, desired)
    by_id = {c.monitor_id: c.action for c in changes if c.monitor_id in (1, 2, 3, 4)}
    assert by_id == {2: "stale", 3: "unchanged", 4: "duplicate"}
    assert not [w for w in fake_datadog.writes() if w.path.endswith(("/1", "/2", "/4"))]
    assert all(w.method != "DELETE" for w in fake_datadog.requests)
    assert fake_datadog.monitors[1] == {**foreign, "id": 1}


def test_contract_datadog_lists_every_page(fake_datadog, monkeypatch) -> None:
    monkeypatch.setattr(datadog_module, "PAGE_SIZE", 5)
    with _datadog(fake_datadog) as client:
        push_monitors(client, _monitors())
        fake_datadog.requests.clear()
        assert len(client.list_managed()) == 20
    assert [r.query["page"] for r in fake_datadog.requests] == [["0"], ["1"], ["2"], ["3"],
                                                                ["4"]]


def test_contract_datadog_rate_limits_and_passing_faults_are_retried(fake_datadog) -> None:
    fake_datadog.refusals = [429]  # the first retry goes at once (urllib3's backoff)
    with _datadog(fake_datadog) as client:
        changes = push_monitors(client, _monitors())
    assert [r.method for r in fake_datadog.requests[:2]] == ["GET", "GET"]
    assert len(fake_datadog.monitors) == len(changes) == len(_monitors())


def test_contract_datadog_gives_up_after_its_retries(fake_datadog) -> None:
    fake_datadog.refusals = [503] * 10
    credentials = DatadogCredentials(fake_datadog.url, DD_API_KEY, DD_APP_KEY)
    with DatadogClient(credentials, max_retries=1) as client, \
            pytest.raises(DependencyError, match="503"):
        push_monitors(client, _monitors())
    assert len(fake_datadog.requests) == 2  # the first try and one retry


def test_contract_datadog_wrong_keys_fail_without_showing_them(fake_datadog) -> None:
    wrong = DatadogCredentials(fake_datadog.url, "wrong-api-key-123456", "wrong-app-key-7890")
    with DatadogClient(wrong) as client, pytest.raises(DependencyError) as caught:
        push_monitors(client, _monitors())
    assert "HTTP 403" in str(caught.value)
    assert "wrong-api-key" not in str(caught.value) and "wrong-app-key" not in str(caught.value)


def test_contract_datadog_push_command(fake_datadog, cli) -> None:
    env = {"DD_API_KEY": DD_API_KEY, "DD_APP_KEY": DD_APP_KEY}
    runner = CliRunner()
    dry = runner.invoke(cli, ["monitors", "push", "--dry-run", "--api-url", fake_datadog.url],
                        env=env)
    assert dry.exit_code == 0, dry.output
    assert "would write 20 of 20" in dry.output and fake_datadog.monitors == {}
    first = runner.invoke(cli, ["monitors", "push", "--api-url", fake_datadog.url], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["monitors", "push", "--api-url", fake_datadog.url], env=env)
    assert "did write 0 of 20" in second.output
    assert len(fake_datadog.monitors) == 20


# ---------------------------------------------------------------------------------- Grafana


def _dashboards():  # type: ignore[no-untyped-def]
    return build_dashboards(DashboardContext(load_slo(), load_stack_numbers()))


def test_contract_grafana_first_push_creates_folder_and_dashboards(fake_grafana) -> None:
    rendered = _dashboards()
    with GrafanaClient(GrafanaCredentials(fake_grafana.url, GRAFANA_TOKEN)) as client:
        pushed = client.push(rendered)
    assert [(p.action, p.version) for p in pushed] == [("created", 1)] * 6
    calls = [(r.method, r.path) for r in fake_grafana.requests]
    assert calls[:2] == [("GET", "/api/folders/servicedesk"), ("POST", "/api/folders")]
    assert fake_grafana.requests[1].body == {"uid": "servicedesk", "title": "ServiceDesk"}
    posts = [r for r in fake_grafana.requests if r.path == "/api/dashboards/db"]
    assert len(posts) == 6
    for post, item in zip(posts, rendered, strict=True):
        assert post.headers["content-type"] == "application/json"
        assert post.body["overwrite"] is True
        assert post.body["folderUid"] == "servicedesk"
        assert post.body["dashboard"]["uid"] == item.uid
        assert post.body["dashboard"]["id"] is None
        assert post.body["dashboard"]["panels"] == item.data()["panels"]
    for request in fake_grafana.requests:
        assert request.headers["authorization"] == f"Bearer {GRAFANA_TOKEN}"


def test_contract_grafana_second_push_updates_the_same_dashboards(fake_grafana) -> None:
    rendered = _dashboards()
    with GrafanaClient(GrafanaCredentials(fake_grafana.url, GRAFANA_TOKEN)) as client:
        client.push(rendered)
        fake_grafana.requests.clear()
        pushed = client.push(rendered)
    assert [(p.action, p.version) for p in pushed] == [("updated", 2)] * 6
    assert ("POST", "/api/folders") not in [(r.method, r.path) for r in fake_grafana.requests]
    assert sorted(fake_grafana.dashboards) == sorted(d.uid for d in rendered)


def test_contract_grafana_wrong_token_fails_without_showing_it(fake_grafana) -> None:
    credentials = GrafanaCredentials(fake_grafana.url, "glsa_wrong_token_value_42")
    with GrafanaClient(credentials) as client, pytest.raises(DependencyError) as caught:
        client.push(_dashboards())
    assert "HTTP 401" in str(caught.value) and "GRAFANA_TOKEN" in str(caught.value)
    assert "glsa_wrong_token_value_42" not in str(caught.value)


def test_contract_grafana_push_command(fake_grafana, cli) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["dashboards", "push", "--grafana-url", fake_grafana.url],
                           env={"GRAFANA_TOKEN": GRAFANA_TOKEN})
    assert result.exit_code == 0, result.output
    assert result.output.count("created") == 6
    again = runner.invoke(cli, ["dashboards", "push", "--grafana-url", fake_grafana.url],
                          env={"GRAFANA_TOKEN": GRAFANA_TOKEN})
    assert again.output.count("updated") == 6 and len(fake_grafana.dashboards) == 6
