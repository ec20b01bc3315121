"""Provision: Grafana dashboards, Prometheus rules and Datadog monitors, all generated from the
SLO spec and the stack's numbers.

    sources.py      the stack's numbers (HPA, ConfigMap, postgresql.conf, redis.conf)
    objectives.py   the SLO spec as objectives and the burn-rate table
    promql.py       the SLIs in PromQL          rules.py       recording and alerting rules
    panels.py       grafanalib building blocks  dashboards.py  dashboards/*.dashboard.py -> JSON
    ddnames.py      Prometheus -> Datadog names ddquery.py     the monitor query grammar
    monitors.py     Datadog monitor payloads    credentials.py where to push, with what secret
    grafana.py      Grafana HTTP API            datadog.py     Datadog Monitors API
    client.py       what those two clients share (closing, scrubbed errors)
    artifacts.py    the run's provision stage (write_run_artifacts)

May import: config, validate (and harness's base modules).
"""

from harness.provision.artifacts import write_run_artifacts

__all__ = ["write_run_artifacts"]
