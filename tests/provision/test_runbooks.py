"""Every generated alert and monitor links to a runbook section that exists."""

from __future__ import annotations

import re

import pytest

from harness import paths
from harness.provision.ddnames import OpenMetricsNaming
from harness.provision.monitors import build_monitors, harness_id
from harness.provision.rules import AlertingRule, build_rules
from harness.provision.runbooks import runbook_url

NAMING = OpenMetricsNaming(namespace="servicedesk", raw_metric_prefix="servicedesk_")


def _sections() -> set[str]:
    text = (paths.project_root() / "docs" / "runbooks.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## ([a-z0-9-]+)$", text, flags=re.MULTILINE))


def test_every_alert_has_a_runbook_url_to_a_section(golden_slo, golden_stack) -> None:
    alerts = [r for g in build_rules(golden_slo, golden_stack) for r in g.rules
              if isinstance(r, AlertingRule)]
    assert alerts
    for alert in alerts:
        base, _, section = alert.annotations["runbook_url"].partition("#")
        assert base == golden_slo.runbooks and section in _sections(), alert.alert


def test_every_monitor_links_its_runbook_section(golden_slo, golden_stack) -> None:
    for monitor in build_monitors(golden_slo, golden_stack, NAMING):
        found = re.search(r"Runbook: (\S+)#([a-z0-9-]+)$", monitor["message"])
        assert found and found.group(2) in _sections(), harness_id(monitor)


def test_the_base_comes_from_the_slo_spec(golden_slo, golden_stack) -> None:
    spec = golden_slo.model_copy(update={"runbooks": "https://wiki.example/servicedesk"})
    urls = {r.annotations["runbook_url"] for g in build_rules(spec, golden_stack)
            for r in g.rules if isinstance(r, AlertingRule)}
    assert all(u.startswith("https://wiki.example/servicedesk#") for u in urls)


def test_an_alert_without_a_section_is_refused() -> None:
    with pytest.raises(ValueError, match="no runbook section for 'NewAlert'"):
        runbook_url("docs/runbooks.md", alert="NewAlert")
