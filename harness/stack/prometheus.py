"""What a stack's own Prometheus saw during the run (compose's container, a cluster's server).

At the end of a run, before the stack goes down, a few instant queries are saved next to the
run's logs (`prometheus.json`): the targets Prometheus scraped, the requests each replica
answered, and the server-side p95 over the last minute. They are the stack's view, beside the
harness's own client-side measurements.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

__all__ = ["QUERIES", "Sample", "app_job", "query", "save_snapshot", "wait_for_targets"]

QUERIES: Mapping[str, str] = {
    "targets_up": 'up{job=~".*servicedesk.*"}',
    "requests_by_instance": "sum by (instance) (servicedesk_http_requests_total)",
    "p95_seconds_1m": "histogram_quantile(0.95, sum by (le) "
                      "(rate(servicedesk_http_request_duration_seconds_bucket[1m])))",
}


def app_job(config: Path, metrics_path: str = "/api/metrics") -> str | None:
    """The scrape job of a prometheus.yml that collects the app (the one on `metrics_path`)."""
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    for job in data.get("scrape_configs") or ():
        if isinstance(job, dict) and job.get("metrics_path") == metrics_path:
            return str(job.get("job_name"))
    return None


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    value: float


def query(url: str, expr: str, *, timeout: float = 5.0,
          client: httpx.Client | None = None) -> tuple[Sample, ...]:
    """An instant query; raises httpx.HTTPError or ValueError on a failed answer."""
    owned = client is None
    client = client or httpx.Client(timeout=timeout)
    try:
        response = client.get(f"{url.rstrip('/')}/api/v1/query", params={"query": expr})
        response.raise_for_status()
        body = response.json()
    finally:
        if owned:
            client.close()
    if body.get("status") != "success":
        raise ValueError(f"Prometheus refused {expr!r}: {body.get('error', body)}")
    result = body.get("data", {}).get("result", [])
    return tuple(Sample(dict(item.get("metric", {})), float(item["value"][1])) for item in result)


def wait_for_targets(url: str, expr: str, count: int, *, timeout: float) -> int:
    """Wait until `expr` (e.g. up{job="..."}) has `count` series equal to 1; returns how many
    did. Bounded by `timeout` seconds, one look a second."""
    deadline = time.monotonic() + timeout
    seen = 0
    with httpx.Client(timeout=3.0) as client:
        for _ in range(int(timeout) + 1):
            try:
                seen = sum(1 for s in query(url, expr, client=client) if s.value == 1.0)
            except (httpx.HTTPError, ValueError):
                seen = 0
            if seen >= count or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    return seen


def save_snapshot(url: str, path: Path, queries: Mapping[str, str] = QUERIES) -> dict[str, object]:
    """Run `queries` and write their answers (or errors) as JSON to `path`."""
    answers: dict[str, object] = {"prometheus": url, "at": time.time()}
    with httpx.Client(timeout=5.0) as client:
        for name, expr in queries.items():
            try:
                answers[name] = [{"labels": dict(s.labels), "value": s.value}
                                 for s in query(url, expr, client=client)]
            except (httpx.HTTPError, ValueError) as exc:
                answers[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answers, indent=2, sort_keys=True), encoding="utf-8")
    return answers
