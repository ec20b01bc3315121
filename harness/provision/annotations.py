"""The dashboards' annotations: when a load test ran and what happened in it, on every panel.

Two sources: what the run posted to Grafana itself (tagged `harness`, harness.publish), and
PromQL over the series `--remote-write` sends (harness.publish.series) and the HPA's own series
from kube-state-metrics where it exists. Remote-written series get no staleness markers, so a
series that stopped would still answer for Prometheus' 5-minute lookback; each query therefore
keeps only samples younger than FRESH seconds.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FRESH", "annotation_list", "prometheus_annotations"]

FRESH = 15  # seconds; the run pushes once per interval (1 s)
GRAFANA = {"type": "grafana", "uid": "-- Grafana --"}


def _fresh(metric: str) -> str:
    return f"({metric} and (time() - timestamp({metric}) < {FRESH}))"


# name, colour, expr, title, tag keys
PROMETHEUS_ANNOTATIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Load test runs", "purple",
     f"max by (run_id, scenario) ({_fresh('harness_run_info')}"
     " unless on (run_id) harness_run_end_time_seconds)",
     "Load test {{run_id}} ({{scenario}})", "run_id,scenario"),
    ("Load test stages", "blue",
     f"count by (run_id, stage) ({_fresh('harness_stage_index')})",  # index 0 counts too
     "Stage {{stage}}", "run_id,stage"),
    ("Faults injected", "red",
     f"max by (run_id, fault, kind) ({_fresh('harness_fault_active')} > 0)",
     "Fault {{fault}} ({{kind}})", "run_id,kind"),
    ("Scale events", "orange",
     f"max by (run_id) ({_fresh('harness_replicas')} - harness_replicas offset 15s) != 0"
     ' or sum by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_'
     'current_replicas{namespace=~"$namespace"} - kube_horizontalpodautoscaler_status_current_'
     'replicas{namespace=~"$namespace"} offset 1m) != 0',
     "Replicas changed", "run_id,horizontalpodautoscaler"),
)


def prometheus_annotations(datasource: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"datasource": datasource, "enable": True, "expr": expr, "iconColor": colour,
         "name": name, "step": "10s", "tagKeys": tag_keys, "titleFormat": title,
         "useValueForTime": False}
        for name, colour, expr, title, tag_keys in PROMETHEUS_ANNOTATIONS
    ]


def annotation_list(datasource: dict[str, str]) -> list[dict[str, Any]]:
    """Grafana's own annotations and alerts, the runs' posted annotations, then the queries."""
    return [
        {"builtIn": 1, "datasource": GRAFANA, "enable": True, "hide": True,
         "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
        {"datasource": GRAFANA, "enable": True, "iconColor": "purple",
         "name": "Load tests (posted by the harness)",
         "target": {"type": "tags", "tags": ["harness"], "limit": 100, "matchAny": False}},
        *prometheus_annotations(datasource),
    ]
