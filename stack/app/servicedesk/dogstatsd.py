"""Business metrics sent to the Datadog agent through DogStatsD, alongside Prometheus.

Active only when DD_AGENT_HOST is set (DD_DOGSTATSD_PORT, default 8125); the `datadog` package
sends them over UDP and adds the unified service tags from DD_ENV, DD_SERVICE and DD_VERSION.
Without DD_AGENT_HOST, :func:`from_environ` returns a sink that does nothing, so callers never
check. Sending never raises into a request: a lost datagram is a lost data point.

    servicedesk.tickets.created   count  priority   a ticket was created
    servicedesk.sla.breaches      count  priority   tickets newly past their SLA due time
    servicedesk.tickets.open      gauge  priority   unresolved tickets (same on every replica)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = [
    "BusinessMetrics",
    "DogStatsdBusinessMetrics",
    "NoBusinessMetrics",
    "from_environ",
]

log = logging.getLogger(__name__)

NAMESPACE = "servicedesk"
DEFAULT_PORT = 8125


class BusinessMetrics(Protocol):
    def ticket_created(self, priority: str) -> None: ...

    def sla_breached(self, priority: str, count: int) -> None: ...

    def tickets_open(self, priority: str, count: int) -> None: ...

    def close(self) -> None: ...


class NoBusinessMetrics:
    """DD_AGENT_HOST is not set: nothing is sent."""

    def ticket_created(self, priority: str) -> None:
        pass

    def sla_breached(self, priority: str, count: int) -> None:
        pass

    def tickets_open(self, priority: str, count: int) -> None:
        pass

    def close(self) -> None:
        pass


class DogStatsdBusinessMetrics:
    """Sends through a `datadog.dogstatsd.DogStatsd` client (unbuffered: one datagram each)."""

    def __init__(self, statsd: Any) -> None:
        self._statsd = statsd
        self._warned = False

    def _send(self, method: str, name: str, value: float, priority: str) -> None:
        try:
            getattr(self._statsd, method)(name, value, tags=[f"priority:{priority}"])
        except Exception as exc:  # a metric must never fail a request or the SLA sweep
            if not self._warned:
                self._warned = True
                log.warning("dogstatsd send failed", extra={"fields": {"error": repr(exc)}})

    def ticket_created(self, priority: str) -> None:
        self._send("increment", "tickets.created", 1, priority)

    def sla_breached(self, priority: str, count: int) -> None:
        if count > 0:
            self._send("increment", "sla.breaches", count, priority)

    def tickets_open(self, priority: str, count: int) -> None:
        self._send("gauge", "tickets.open", count, priority)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a UDP socket cannot matter to the app
            self._statsd.close_socket()


def from_environ(environ: Mapping[str, str]) -> BusinessMetrics:
    """The sink the environment asks for: DogStatsD when DD_AGENT_HOST is set, else none.

    A bad DD_DOGSTATSD_PORT raises ValueError (a configuration error, reported at startup);
    without the `datadog` package it warns once and sends nothing.
    """
    host = environ.get("DD_AGENT_HOST", "").strip()
    if not host:
        return NoBusinessMetrics()
    raw_port = environ.get("DD_DOGSTATSD_PORT", "").strip() or str(DEFAULT_PORT)
    try:
        port = int(raw_port)
    except ValueError:
        raise ValueError(f"DD_DOGSTATSD_PORT={raw_port!r} is invalid: expected a port") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"DD_DOGSTATSD_PORT={raw_port!r} is invalid: expected 1-65535")
    try:
        from datadog.dogstatsd.base import DogStatsd
    except ImportError:
        log.warning(
            "DD_AGENT_HOST is set but the datadog package is not installed: business metrics "
            "go to Prometheus only"
        )
        return NoBusinessMetrics()
    statsd = DogStatsd(
        host=host,
        port=port,
        namespace=NAMESPACE,
        disable_telemetry=True,
        disable_buffering=True,
    )
    return DogStatsdBusinessMetrics(statsd)
