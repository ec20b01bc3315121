"""Scrapes as pandas time series, and the few questions the checks and reports ask of them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from harness.collect.counters import increase
from harness.collect.scrape import Scrape

__all__ = [
    "ServerSeries",
    "bucket_bound",
    "counter_increase",
    "histogram_quantile",
]

COLUMNS = ["t", "replica", "name", "labels", "value"]


def _label_key(labels: Sequence[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels)


class ServerSeries:
    """Every scraped sample in one long DataFrame: t, replica, name, labels, value."""

    def __init__(self, scrapes: Sequence[Scrape], origin: float) -> None:
        rows = [
            (s.t - origin, s.replica, m.name, _label_key(m.labels), m.value)
            for s in scrapes
            if s.ok
            for m in s.samples
        ]
        self.frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
        self.scrapes = len(scrapes)
        self.failed = sum(1 for s in scrapes if not s.ok)
        self.origin = origin

    def metric(self, name: str, where: Mapping[str, str] | None = None) -> pd.DataFrame:
        frame = self.frame[self.frame["name"] == name]
        for key, value in (where or {}).items():
            frame = frame[frame["labels"].str.contains(f"(?:^|,){key}={value}(?:,|$)", regex=True)]
        return frame

    def gauge_max(self, name: str) -> float | None:
        frame = self.metric(name)
        if frame.empty:
            return None
        # Sum across replicas at each scrape round is not aligned; the per-replica max is what
        # pool and in-flight limits are about.
        return float(frame["value"].max())

    def replica_resources(self) -> pd.DataFrame:
        """Per replica and scrape: cpu_percent (of one core) and rss_mb."""
        cpu = self.metric("process_cpu_seconds_total")[["t", "replica", "value"]]
        rss = self.metric("process_resident_memory_bytes")[["t", "replica", "value"]]
        parts = []
        for replica, group in cpu.sort_values("t").groupby("replica"):
            dt = group["t"].diff()
            du = group["value"].diff()
            frame = pd.DataFrame(
                {"t": group["t"], "replica": replica, "cpu_percent": (du / dt * 100.0)}
            ).dropna()
            parts.append(frame)
        if not parts:
            return pd.DataFrame(columns=["t", "replica", "cpu_percent", "rss_mb"])
        cpu_frame = pd.concat(parts)
        rss_frame = rss.rename(columns={"value": "rss_bytes"})
        merged = cpu_frame.merge(rss_frame, on=["t", "replica"], how="left")
        merged["rss_mb"] = merged["rss_bytes"].fillna(0.0) / (1024 * 1024)
        return merged[["t", "replica", "cpu_percent", "rss_mb"]].reset_index(drop=True)


def counter_increase(
    series: ServerSeries, name: str, where: Mapping[str, str] | None = None
) -> float:
    """How much a counter grew over the run, summed over replicas and label sets.

    A replica's first scrape counts from zero when the replica started during the run.
    """
    frame = series.metric(name, where)
    if frame.empty:
        return 0.0
    total = 0.0
    for _, group in frame.sort_values("t").groupby(["replica", "labels"]):
        total += increase(group["value"].to_numpy())
    return total


def histogram_quantile(
    series: ServerSeries, base: str, q: float, where: Mapping[str, str] | None = None
) -> float | None:
    """Prometheus' histogram_quantile over the whole run's bucket increases (seconds); a
    replica restarted under the same name (a crash, a kill) counts from zero again, as
    Prometheus' increase() reads a counter reset."""
    frame = series.metric(f"{base}_bucket", where)
    if frame.empty:
        return None
    buckets: dict[float, float] = {}
    for (_, labels), group in frame.sort_values("t").groupby(["replica", "labels"]):
        le = bucket_bound(labels)
        buckets[le] = buckets.get(le, 0.0) + increase(group["value"].tolist())
    return _quantile(q, sorted(buckets.items()))


def bucket_bound(labels: str) -> float:
    """A histogram bucket's upper bound (its ``le``) from a sample's label key."""
    for part in labels.split(","):
        if part.startswith("le="):
            return float(part[3:])
    return math.inf


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            width = count - lower_count
            if width <= 0:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / width
        lower_bound, lower_count = bound, count
    return lower_bound
