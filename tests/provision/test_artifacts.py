"""The run's provision stage: write_run_artifacts writes everything into the report folder and
pushes only when asked and when the credentials are set; it never fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from harness.config.load import load_slo
from harness.provision import write_run_artifacts
from harness.provision.artifacts import generate
from harness.provision.monitors import render_monitors
from tests.provision.conftest import DD_API_KEY, DD_APP_KEY, GRAFANA_TOKEN


def _environ(fake_grafana, fake_datadog) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"GRAFANA_URL": fake_grafana.url, "GRAFANA_TOKEN": GRAFANA_TOKEN,
            "DD_API_KEY": DD_API_KEY, "DD_APP_KEY": DD_APP_KEY,
            "DATADOG_HOST": fake_datadog.url}


def test_writes_every_artefact_into_the_report_folder(tmp_path: Path, fake_grafana,
                                                      fake_datadog) -> None:
    slo = load_slo()
    notes = write_run_artifacts(slo, tmp_path, push=False,
                                environ=_environ(fake_grafana, fake_datadog))
    out = tmp_path / "observability"
    generated = generate(slo)
    assert sorted(p.name for p in (out / "grafana").iterdir()) == sorted(
        d.filename for d in generated.dashboards)
    for item in generated.dashboards:
        assert (out / "grafana" / item.filename).read_text() == item.text
    assert (out / "prometheus/servicedesk.rules.yml").read_text() == generated.rules
    assert (out / "datadog/monitors.json").read_text() == render_monitors(generated.monitors)
    assert len(notes) == 1 and "6 Grafana dashboards" in notes[0]
    assert fake_grafana.requests == [] and fake_datadog.requests == []  # push=False


def test_artefacts_follow_the_run_s_slo(tmp_path: Path) -> None:
    strict = load_slo().model_copy(update={"availability_percent": 99.9})
    write_run_artifacts(strict, tmp_path, push=False, environ={})
    rules = yaml.safe_load((tmp_path / "observability/prometheus/servicedesk.rules.yml")
                           .read_text())
    budgets = [r["expr"] for g in rules["groups"] for r in g["rules"]
               if r.get("record") == "slo:error_budget:ratio"]
    assert "vector(0.001)" in budgets
    monitors = json.loads((tmp_path / "observability/datadog/monitors.json").read_text())
    assert any(m["query"].endswith("> 0.0144") for m in monitors)


def test_without_credentials_nothing_is_pushed_and_the_notes_say_so(tmp_path: Path) -> None:
    notes = write_run_artifacts(load_slo(), tmp_path, push=True, environ={})
    assert notes[1] == ("Grafana: dashboards not provisioned (GRAFANA_URL and GRAFANA_TOKEN "
                        "not set).")
    assert notes[2] == "Datadog: monitors not provisioned (DD_API_KEY and DD_APP_KEY not set)."


def test_with_credentials_both_are_provisioned(tmp_path: Path, fake_grafana,
                                               fake_datadog) -> None:
    env = _environ(fake_grafana, fake_datadog)
    notes = write_run_artifacts(load_slo(), tmp_path, push=True, environ=env)
    assert "6 dashboards provisioned" in notes[1] and "6 created" in notes[1]
    assert "20 monitors provisioned" in notes[2] and "20 created" in notes[2]
    assert len(fake_grafana.dashboards) == 6 and len(fake_datadog.monitors) == 20
    again = write_run_artifacts(load_slo(), tmp_path, push=True, environ=env)
    assert "6 updated" in again[1] and "20 unchanged" in again[2]
    assert len(fake_grafana.dashboards) == 6 and len(fake_datadog.monitors) == 20


def test_a_failed_push_is_a_note_not_an_error(tmp_path: Path, fake_grafana,
                                              fake_datadog) -> None:
    fake_datadog.fail_with = 422  # not retried (a 5xx is: tests/provision/test_push_contract.py)
    notes = write_run_artifacts(load_slo(), tmp_path, push=True,
                                environ=_environ(fake_grafana, fake_datadog))
    assert "provisioned" in notes[1]
    assert notes[2].startswith("Provisioning failed: Datadog API at")
    assert "HTTP 422" in notes[2]


def test_a_generation_failure_is_a_note_not_an_error(tmp_path: Path) -> None:
    short = load_slo().model_copy(update={"compliance_period": 86400.0})
    notes = write_run_artifacts(short, tmp_path, push=True, environ={})
    assert len(notes) == 1 and notes[0].startswith("Observability artefacts not written:")
    assert "compliance_period" in notes[0]
