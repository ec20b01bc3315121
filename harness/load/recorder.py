"""Recording in a load generator, and merging what every generator recorded.

Each generator process (the local one, or each Locust worker) records every response into
per-interval HdrHistograms and hands them on as a *report*: plain JSON-friendly data that travels
over Locust's message channel from a worker to the master. The master (or the local process)
merges the reports of one interval exactly (HdrHistogram addition, never averaged percentiles)
into one interval line.

A report:  {"generator": id, "names": {name: {"n", "f", "h", "c"?}}, "errors": [[name, error, n]],
            "health": {...}}
where `h` is the encoded histogram of latency from the actual send (µs) and `c`, present when
some requests were paced at an arrival rate, the one from the intended send time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.load.latency import CountsEncoder, counts_index, decode, encode, new_histogram

__all__ = ["Recorder", "interval_record", "merge_errors", "merge_names"]


class _Entry:
    __slots__ = ("corrected", "failures", "raw", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.raw: dict[int, int] = {}  # HdrHistogram counts index -> responses
        self.corrected: dict[int, int] | None = None


class Recorder:
    """Per-interval histograms and counts for one generator, swapped out at every report.

    A response is counted by its histogram slot as it arrives (harness.load.latency.
    counts_index, a fraction of a microsecond), so a swap only copies a few hundred counts
    into a histogram and encodes it: a batch of every value at the swap ran on a cold cache
    and held the event loop for milliseconds once an interval."""

    def __init__(self) -> None:
        self._names: dict[str, _Entry] = {}
        self._errors: dict[tuple[str, str], int] = {}
        self._encoder = CountsEncoder()

    def record(
        self, name: str, response_ms: float, failed: bool, lag_ms: float | None = None
    ) -> None:
        """One response. `lag_ms`, for a paced request, is how late it went out after its
        intended send time; its corrected latency is response + lag."""
        entry = self._names.get(name)
        if entry is None:
            entry = self._names[name] = _Entry()
        if lag_ms is not None and entry.corrected is None:
            # The first paced request of this interval: the unpaced ones before it count as
            # corrected = raw (nothing was intended for them).
            entry.corrected = dict(entry.raw)
        entry.requests += 1
        if failed:
            entry.failures += 1
        raw = max(1, int(response_ms * 1000.0))
        slot = counts_index(raw)
        entry.raw[slot] = entry.raw.get(slot, 0) + 1
        if entry.corrected is not None:
            slot = counts_index(raw + max(0, int((lag_ms or 0.0) * 1000.0)))
            entry.corrected[slot] = entry.corrected.get(slot, 0) + 1

    def failure(self, name: str) -> None:
        """A failure that had no response time (an exception in a task's own code): counted
        as a failed request of `name`, and kept out of the latency histograms."""
        entry = self._names.get(name)
        if entry is None:
            entry = self._names[name] = _Entry()
        entry.requests += 1
        entry.failures += 1

    def error(self, name: str, error: str) -> None:
        key = (name, error)
        self._errors[key] = self._errors.get(key, 0) + 1

    def swap(
        self, pause: Callable[[], None] | None = None
    ) -> tuple[dict[str, dict[str, Any]], list[list[Any]]]:
        """What was recorded since the last swap, encoded: (names, errors). `pause` runs between
        histograms, so that a generator can let responses that arrived meanwhile be noticed
        instead of delaying them all."""
        names, self._names = self._names, {}
        errors, self._errors = self._errors, {}
        encoded: dict[str, dict[str, Any]] = {}
        for key, entry in names.items():
            if pause is not None and encoded:
                pause()
            item: dict[str, Any] = {"n": entry.requests, "f": entry.failures,
                                    "h": self._encoder.encode(entry.raw)}
            if entry.corrected is not None:
                if pause is not None:
                    pause()
                item["c"] = self._encoder.encode(entry.corrected)
            encoded[key] = item
        return encoded, [[name, error, count] for (name, error), count in errors.items()]


def merge_names(reports: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The exact merge of several reports' `names` (one interval, several generators)."""
    parts: dict[str, list[Mapping[str, Any]]] = {}
    for names in reports:
        for key, item in names.items():
            parts.setdefault(key, []).append(item)
    merged: dict[str, dict[str, Any]] = {}
    for key, items in sorted(parts.items()):
        if len(items) == 1:
            merged[key] = dict(items[0])
            continue
        raw = new_histogram()
        for item in items:
            raw.add(decode(item["h"]))
        out: dict[str, Any] = {
            "n": sum(int(i["n"]) for i in items),
            "f": sum(int(i["f"]) for i in items),
            "h": encode(raw),
        }
        if any("c" in i for i in items):
            corrected = new_histogram()
            for item in items:  # an unpaced part's corrected latency is its raw latency
                corrected.add(decode(item.get("c") or item["h"]))
            out["c"] = encode(corrected)
        merged[key] = out
    return merged


def merge_errors(
    total: dict[tuple[str, str], int], errors: Iterable[Iterable[Any]]
) -> dict[tuple[str, str], int]:
    """Add a report's error counts to a running total (in place; returned for convenience)."""
    for name, error, count in errors:
        key = (str(name), str(error))
        total[key] = total.get(key, 0) + int(count)
    return total


def _merge_health(healths: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per generator; a generator with two reports in one interval (a late one) has
    its counts added and its worst CPU and lag kept."""
    merged: dict[str, dict[str, Any]] = {}
    for health in healths:
        name = str(health["generator"])
        known = merged.get(name)
        if known is None:
            merged[name] = dict(health)
            continue
        for key in ("intended", "sent", "gc_ms"):
            known[key] = known.get(key, 0) + health.get(key, 0)
        for key in ("cpu", "lag_p50", "lag_p99", "lag_max", "rss", "users", "gc_max", "nice"):
            known[key] = max(known.get(key, 0), health.get(key, 0))
        known["realtime"] = bool(known.get("realtime")) and bool(health.get("realtime"))
        waits = [w for w in (known.get("cpu_wait"), health.get("cpu_wait")) if w is not None]
        known["cpu_wait"] = max(waits, default=None)
    return [merged[name] for name in sorted(merged)]


def interval_record(
    start: float, end: float, users: int, reports: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The interval line the harness reads, from every generator's report for that interval."""
    reports = list(reports)
    generators = _merge_health(r["health"] for r in reports if r.get("health"))
    return {
        "type": "interval",
        "start": round(start, 3),
        "end": round(end, 3),
        "users": users,
        "cpu": max((g.get("cpu", 0.0) for g in generators), default=0.0),
        "names": merge_names(r["names"] for r in reports),
        "generators": generators,
    }
