"""The database server's connections and every replica's pool over the run, as frozen records.

``ConnectionTrace.section()`` and ``PoolTrace.section()`` write results.json's
``extra["connections"]`` and ``extra["pools"]``; ``read_connections`` and ``read_pools`` read
those sections back into the same records. Both edges are here, so each shape has one owner
(as harness.stack.trace owns ``extra["scaling"]``). Times are seconds since the load started.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConnectionSample",
    "ConnectionTrace",
    "PoolSample",
    "PoolTrace",
    "SectionError",
    "read_connections",
    "read_pools",
]


class SectionError(ValueError):
    """A connections or pools section that is not in the shape its ``section()`` writes."""


@dataclass(frozen=True)
class ConnectionSample:
    """PostgreSQL's client connections at one poll (pg_stat_activity)."""

    t: float
    total: int
    active: int
    idle: int


@dataclass(frozen=True)
class ConnectionTrace:
    samples: tuple[ConnectionSample, ...]
    failed_samples: int = 0
    max_connections: int | None = None
    reserved: int | None = None  # superuser_reserved_connections

    def section(self) -> dict[str, Any]:
        section: dict[str, Any] = {
            "samples": [{"t": s.t, "total": s.total, "active": s.active, "idle": s.idle}
                        for s in self.samples],
            "failed_samples": self.failed_samples,
        }
        if self.max_connections is not None:
            section["max_connections"] = self.max_connections
            section["reserved"] = self.reserved
        return section


@dataclass(frozen=True)
class PoolSample:
    """One replica's database pool at one scrape (the app's servicedesk_db_pool_* gauges)."""

    t: float
    replica: str
    in_use: int
    waiting: int = 0
    idle: int | None = None
    size: int | None = None
    max: int | None = None


    def optional(self) -> dict[str, int]:
        """The gauges the replica exported beyond in use and waiting."""
        found = {"idle": self.idle, "size": self.size, "max": self.max}
        return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class PoolTrace:
    samples: tuple[PoolSample, ...]

    def section(self) -> dict[str, Any]:
        return {"samples": [
            {"t": s.t, "replica": s.replica, "in_use": s.in_use, "waiting": s.waiting,
             **s.optional()}
            for s in self.samples
        ]}


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SectionError(f"{what} is not a mapping")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SectionError(f"{what} is {value!r}, not a count")
    return int(round(value))


def _optional_count(value: Any, what: str) -> int | None:
    return None if value is None else _count(value, what)


def _time(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SectionError(f"{what} is {value!r}, not a time")
    return float(value)


def _samples(section: Mapping[str, Any], what: str) -> list[Mapping[str, Any]]:
    samples = section.get("samples") or []
    if not isinstance(samples, list):
        raise SectionError(f"{what} samples are not a list")
    return [_mapping(s, f"a {what} sample") for s in samples]


def read_connections(section: Any) -> ConnectionTrace:
    """``extra["connections"]`` back into its record, samples in time order."""
    section = _mapping(section, "the connections section")
    samples = tuple(sorted(
        (ConnectionSample(_time(s.get("t"), "a connections sample's t"),
                          _count(s.get("total"), "a connections sample's total"),
                          _count(s.get("active") or 0, "a connections sample's active"),
                          _count(s.get("idle") or 0, "a connections sample's idle"))
         for s in _samples(section, "connections")),
        key=lambda s: s.t,
    ))
    return ConnectionTrace(
        samples,
        _count(section.get("failed_samples") or 0, "failed_samples"),
        _optional_count(section.get("max_connections"), "max_connections"),
        _optional_count(section.get("reserved"), "reserved"),
    )


def read_pools(section: Any) -> PoolTrace:
    """``extra["pools"]`` back into its record, samples in time (then replica) order."""
    section = _mapping(section, "the pools section")
    samples = []
    for s in _samples(section, "pools"):
        replica = s.get("replica")
        if not isinstance(replica, str):
            raise SectionError(f"a pools sample's replica is {replica!r}")
        samples.append(PoolSample(
            _time(s.get("t"), "a pools sample's t"), replica,
            _count(s.get("in_use"), "a pools sample's in_use"),
            _count(s.get("waiting") or 0, "a pools sample's waiting"),
            _optional_count(s.get("idle"), "a pools sample's idle"),
            _optional_count(s.get("size"), "a pools sample's size"),
            _optional_count(s.get("max"), "a pools sample's max"),
        ))
    return PoolTrace(tuple(sorted(samples, key=lambda s: (s.t, s.replica))))
