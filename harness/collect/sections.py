"""What the instruments saw, as the report's extra sections (times in seconds since the load
started): the autoscaler's decisions, the server's connections, and every replica's pool."""

from __future__ import annotations

from typing import Any

from harness.collect.instruments import Evidence
from harness.collect.scrape import Scrape

__all__ = ["pool_samples", "report_sections"]

_POOL_GAUGES = {
    "servicedesk_db_pool_connections_in_use": "in_use",
    "servicedesk_db_pool_waiting": "waiting",
    "servicedesk_db_pool_connections_idle": "idle",
    "servicedesk_db_pool_size": "size",
    "servicedesk_db_pool_max": "max",
}


def pool_samples(scrapes: tuple[Scrape, ...], origin: float) -> list[dict[str, Any]]:
    """One entry per successful scrape of a replica that exports its pool gauges."""
    samples = []
    for scrape in scrapes:
        if not scrape.ok:
            continue
        values = {_POOL_GAUGES[m.name]: m.value for m in scrape.samples if m.name in _POOL_GAUGES}
        if "in_use" in values:
            samples.append({"t": round(scrape.t - origin, 3), "replica": scrape.replica, **values})
    return samples


def report_sections(
    evidence: Evidence, origin: float, *, server_limits: tuple[int, int] | None = None
) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    if evidence.scaling is not None:
        sections["scaling"] = evidence.scaling.section(origin)
    if evidence.connections:
        connections: dict[str, Any] = {
            "samples": [
                {"t": round(r.t - origin, 3), "total": r.value.total,
                 "active": r.value.active, "idle": r.value.idle}
                for r in evidence.connections
            ],
            "failed_samples": evidence.connection_failures,
        }
        if server_limits is not None:
            connections["max_connections"], connections["reserved"] = server_limits
        sections["connections"] = connections
    pools = pool_samples(evidence.scrapes, origin)
    if pools:
        sections["pools"] = {"samples": pools}
    return sections
