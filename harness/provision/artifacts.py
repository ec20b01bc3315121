"""The provision stage for a run: write every generated artefact into the run's report folder and,
when the credentials are in the environment, push the dashboards and the monitors.

    <folder>/observability/grafana/<name>.json            the six dashboards
    <folder>/observability/prometheus/servicedesk.rules.yml
    <folder>/observability/datadog/monitors.json
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.model import SloSpec
from harness.errors import HarnessError
from harness.provision.dashboards import DashboardContext, RenderedDashboard, build_dashboards
from harness.provision.ddnames import load_openmetrics_naming
from harness.provision.monitors import build_monitors, render_monitors
from harness.provision.rules import build_rules, render_rules
from harness.provision.sources import load_stack_numbers
from harness.redact import redact

__all__ = ["Generated", "RULES_FILE", "generate", "write_run_artifacts"]

RULES_FILE = "servicedesk.rules.yml"
FOLDER = "observability"


@dataclass(frozen=True)
class Generated:
    dashboards: tuple[RenderedDashboard, ...]
    rules: str
    monitors: tuple[dict[str, Any], ...]


def generate(slo: SloSpec, *, stack_dir: Path | None = None,
             dashboards_dir: Path | None = None) -> Generated:
    """Dashboards, rules and monitors for `slo` and the stack in `stack_dir` (default: bundled)."""
    stack = load_stack_numbers(stack_dir)
    return Generated(
        dashboards=build_dashboards(DashboardContext(slo, stack), dashboards_dir),
        rules=render_rules(build_rules(slo, stack)),
        monitors=build_monitors(slo, stack, load_openmetrics_naming(stack_dir)),
    )


def _write(generated: Generated, out: Path) -> None:
    grafana, prometheus, datadog = out / "grafana", out / "prometheus", out / "datadog"
    for folder in (grafana, prometheus, datadog):
        folder.mkdir(parents=True, exist_ok=True)
    for item in generated.dashboards:
        (grafana / item.filename).write_text(item.text, encoding="utf-8")
    (prometheus / RULES_FILE).write_text(generated.rules, encoding="utf-8")
    (datadog / "monitors.json").write_text(render_monitors(generated.monitors), encoding="utf-8")


def _push_grafana(generated: Generated, environ: Mapping[str, str]) -> str:
    from harness.provision.credentials import GrafanaCredentials
    from harness.provision.grafana import GrafanaClient

    credentials = GrafanaCredentials.from_environ(environ)
    if credentials is None:
        return "Grafana: dashboards not provisioned (GRAFANA_URL and GRAFANA_TOKEN not set)."
    with GrafanaClient(credentials) as client:
        pushed = client.push(generated.dashboards)
    made = sum(1 for p in pushed if p.action == "created")
    return (f"Grafana: {len(pushed)} dashboards provisioned at {credentials.url} "
            f"({made} created, {len(pushed) - made} updated).")


def _push_datadog(generated: Generated, environ: Mapping[str, str]) -> str:
    from harness.provision.credentials import DatadogCredentials
    from harness.provision.datadog import DatadogClient, push_monitors

    credentials = DatadogCredentials.from_environ(environ)
    if credentials is None:
        return "Datadog: monitors not provisioned (DD_API_KEY and DD_APP_KEY not set)."
    with DatadogClient(credentials) as client:
        changes = push_monitors(client, generated.monitors)
    counts = {a: sum(1 for c in changes if c.action == a)
              for a in ("create", "update", "unchanged", "stale")}
    return (f"Datadog: {len(generated.monitors)} monitors provisioned at {credentials.api_url} "
            f"({counts['create']} created, {counts['update']} updated, "
            f"{counts['unchanged']} unchanged, {counts['stale']} stale left alone).")


def write_run_artifacts(slo: SloSpec, folder: Path, *, push: bool,
                        environ: Mapping[str, str] | None = None) -> list[str]:
    """Write the artefacts for `slo` (the run's, overrides applied) under `folder`/observability
    and, with `push`, provision Grafana and Datadog where their credentials are set.

    Never raises for a generation or provisioning failure: the run's verdict does not depend on
    it. Returns notes for the report (secrets masked).
    """
    env = os.environ if environ is None else environ
    out = folder / FOLDER
    notes: list[str] = []
    try:
        generated = generate(slo)
        _write(generated, out)
    except (HarnessError, ValueError, OSError) as exc:
        return [redact(f"Observability artefacts not written: {exc}", env)]
    notes.append(
        f"Observability: {len(generated.dashboards)} Grafana dashboards, Prometheus rules and "
        f"{len(generated.monitors)} Datadog monitors written to {out}."
    )
    if push:
        for pusher in (_push_grafana, _push_datadog):
            try:
                notes.append(pusher(generated, env))
            except HarnessError as exc:
                notes.append(f"Provisioning failed: {exc}")
    return [redact(note, env) for note in notes]
