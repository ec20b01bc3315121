"""DD_API_KEY, DD_APP_KEY and GRAFANA_TOKEN never reach output, logs or files: not on success,
not on failure, not when the server echoes them back in an error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.config.load import load_slo
from harness.provision import write_run_artifacts
from harness.provision.credentials import DatadogCredentials, GrafanaCredentials
from tests.provision.conftest import DD_API_KEY, DD_APP_KEY, GRAFANA_TOKEN

SECRETS = (DD_API_KEY, DD_APP_KEY, GRAFANA_TOKEN)


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def secret_env(monkeypatch, fake_grafana, fake_datadog) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {"DD_API_KEY": DD_API_KEY, "DD_APP_KEY": DD_APP_KEY, "GRAFANA_TOKEN": GRAFANA_TOKEN,
           "GRAFANA_URL": fake_grafana.url, "DATADOG_HOST": fake_datadog.url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_reprs_hide_the_secrets() -> None:
    _clean(repr(DatadogCredentials("https://api.datadoghq.com", DD_API_KEY, DD_APP_KEY)))
    _clean(repr(GrafanaCredentials("https://grafana.example", GRAFANA_TOKEN)))


def test_commands_keep_secrets_out_of_output_and_logs(secret_env, cli, caplog,
                                                      fake_grafana, fake_datadog) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    outputs = []
    for args in (["monitors", "push", "--dry-run"], ["monitors", "push"],
                 ["dashboards", "push"], ["monitors", "build"], ["dashboards", "build",
                                                                  "--check"]):
        result = runner.invoke(cli, args, env=secret_env)
        outputs.append(result.output + (str(result.exception) if result.exception else ""))
    # The servers below fail and echo the request headers (secrets included) in their errors.
    # Datadog's answer is one its client does not retry (a 5xx is retried, with backoff).
    fake_grafana.fail_with = 500
    fake_datadog.fail_with = 422
    for args in (["monitors", "push"], ["dashboards", "push"]):
        result = runner.invoke(cli, args, env=secret_env)
        assert result.exit_code != 0
        assert "HTTP 500" in str(result.exception) or "HTTP 422" in str(result.exception)
        outputs.append(result.output + str(result.exception))
    assert len(fake_datadog.monitors) == 20  # the successful pushes did happen
    for text in outputs:
        _clean(text)
    _clean(caplog.text)
    assert not any(DD_API_KEY in r.raw.decode() for r in fake_datadog.requests)


def test_the_echoed_secret_is_masked_not_just_absent(secret_env, cli, fake_datadog) -> None:
    fake_datadog.fail_with = 422
    result = CliRunner().invoke(cli, ["monitors", "push"], env=secret_env)
    assert "dd-api-key" in str(result.exception).lower()  # the echo made it into the message
    assert "***" in str(result.exception)
    _clean(str(result.exception))


def test_run_artifacts_keep_secrets_out_of_notes_and_files(secret_env, tmp_path: Path,
                                                           fake_datadog, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fake_datadog.fail_with = 422
    notes = write_run_artifacts(load_slo(), tmp_path, push=True)
    assert any(n.startswith("Provisioning failed") for n in notes)
    for note in notes:
        _clean(note)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 8
    for path in files:
        _clean(path.read_text(encoding="utf-8"))
    _clean(caplog.text)
