"""Where each alert's runbook is: `runbook_url` on every Prometheus alert and a link in every
Datadog monitor's message, both into docs/runbooks.md (one section per topic; the SLO spec's
`runbooks:` moves the base, e.g. to the repository's web address or a wiki)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ALERT_TOPICS", "MONITOR_TOPICS", "runbook_url"]

# Prometheus alert name -> section of docs/runbooks.md
ALERT_TOPICS: Mapping[str, str] = {
    "ServiceDeskAvailabilityBudgetBurn": "error-budget-burn",
    "ServiceDeskLatencyP95BudgetBurn": "latency",
    "ServiceDeskLatencyP99BudgetBurn": "latency",
    "ServiceDeskDbPoolSaturated": "db-pool-saturated",
    "ServiceDeskDbPoolAcquireTimeouts": "db-pool-acquire-timeouts",
    "ServiceDeskDbConnectionsOverBudget": "db-connections",
    "ServiceDeskAtMaxReplicas": "at-max-replicas",
    "ServiceDeskCacheErrors": "cache-errors",
}

# Datadog monitor key (harness-id) prefix -> section
MONITOR_TOPICS: Mapping[str, str] = {
    "error-budget-burn": "error-budget-burn",
    "latency-": "latency",
    "db-pool-saturation": "db-pool-saturated",
    "db-pool-acquire-timeouts": "db-pool-acquire-timeouts",
    "postgres-connections": "db-connections",
    "hpa-at-max-replicas": "at-max-replicas",
    "redis-": "redis-memory",
}


def runbook_url(base: str, *, alert: str | None = None, monitor: str | None = None) -> str:
    """The runbook section of a Prometheus alert or a Datadog monitor key; a name without a
    section is a ValueError (a new alert needs its runbook)."""
    if alert is not None:
        topic = ALERT_TOPICS.get(alert)
    else:
        topic = next((t for prefix, t in MONITOR_TOPICS.items()
                      if monitor is not None and monitor.startswith(prefix)), None)
    if topic is None:
        raise ValueError(f"no runbook section for {alert or monitor!r}: add one to "
                         "docs/runbooks.md and harness/provision/runbooks.py")
    return f"{base}#{topic}"
