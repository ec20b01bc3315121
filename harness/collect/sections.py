"""What the instruments saw, as the report's extra sections (times in seconds since the load
started): the autoscaler's decisions, the server's connections, and every replica's pool."""

from __future__ import annotations

from typing import Any

from harness.collect.instruments import Evidence
from harness.collect.scrape import Scrape
from harness.collect.traces import ConnectionSample, ConnectionTrace, PoolSample, PoolTrace

__all__ = ["pool_trace", "report_sections"]

_POOL_GAUGES = {
    "servicedesk_db_pool_connections_in_use": "in_use",
    "servicedesk_db_pool_waiting": "waiting",
    "servicedesk_db_pool_connections_idle": "idle",
    "servicedesk_db_pool_size": "size",
    "servicedesk_db_pool_max": "max",
}


def pool_trace(scrapes: tuple[Scrape, ...], origin: float) -> PoolTrace:
    """One sample per successful scrape of a replica that exports its pool gauges."""
    samples = []
    for scrape in scrapes:
        if not scrape.ok:
            continue
        values = {_POOL_GAUGES[m.name]: m.value for m in scrape.samples if m.name in _POOL_GAUGES}
        if "in_use" not in values:
            continue
        count = {key: int(round(value)) for key, value in values.items()}
        samples.append(PoolSample(round(scrape.t - origin, 3), scrape.replica, count["in_use"],
                                  count.get("waiting", 0), count.get("idle"), count.get("size"),
                                  count.get("max")))
    return PoolTrace(tuple(samples))


def report_sections(
    evidence: Evidence, origin: float, *, server_limits: tuple[int, int] | None = None
) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    if evidence.scaling is not None:
        sections["scaling"] = evidence.scaling.section(origin)
    if evidence.connections:
        max_connections, reserved = server_limits or (None, None)
        sections["connections"] = ConnectionTrace(
            tuple(ConnectionSample(round(r.t - origin, 3), r.value.total, r.value.active,
                                   r.value.idle) for r in evidence.connections),
            evidence.connection_failures, max_connections, reserved,
        ).section()
    pools = pool_trace(evidence.scrapes, origin)
    if pools.samples:
        sections["pools"] = pools.section()
    return sections
