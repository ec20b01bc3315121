"""The `external` backend: a ServiceDesk already running elsewhere (`--target URL`)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx

from harness.errors import StackError, UsageError
from harness.stack.backend import Endpoints, Leftovers, Replica
from harness.stack.capabilities import Capabilities

__all__ = ["ExternalStack"]


class ExternalStack:
    """Starts nothing and stops nothing; checks the target answers its readiness probe.

    Metrics are scraped through the target's own /api/metrics (behind a Service that reaches one
    replica per scrape); `--prometheus` names the cluster's Prometheus for the rest.
    """

    name = "external"

    def __init__(
        self, target: str, *, prometheus_url: str | None = None, attempts: int = 3
    ) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--target: {target!r} is not an http(s) URL")
        self.target = target.rstrip("/")
        self.prometheus_url = prometheus_url
        self.attempts = attempts

    def up(self) -> Endpoints:
        last_error = ""
        with httpx.Client(timeout=5.0, verify=False) as client:  # noqa: S501 - self-signed stacks
            for _ in range(self.attempts):
                try:
                    response = client.get(f"{self.target}/api/health/ready")
                except httpx.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code == 200:
                    return self.endpoints()
                last_error = f"readiness probe answered {response.status_code}"
        raise StackError(f"target {self.target} is not reachable: {last_error}")

    def ready(self) -> bool:
        try:
            response = httpx.get(f"{self.target}/api/health/ready", timeout=5.0, verify=False)  # noqa: S501
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def endpoints(self) -> Endpoints:
        token = os.environ.get("SERVICEDESK_API_TOKEN")
        return Endpoints(
            backend=self.name,
            service_url=self.target,
            replicas=(Replica(name="target", url=self.target),),
            prometheus_url=self.prometheus_url,
            extra={"auth": "SERVICEDESK_API_TOKEN" if token else "none"},
            replica_metrics=False,  # a scrape reaches whichever replica the Service picks
        )

    def capabilities(self) -> Capabilities:
        """None: a stack running elsewhere: nothing is started, stopped or scaled."""
        return Capabilities()

    def down(self) -> Leftovers:
        """Nothing to stop: the harness did not start this stack."""
        return Leftovers()
