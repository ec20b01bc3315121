"""A run's per-interval samples on disk: `intervals.jsonl.gz` next to results.json.

results.json keeps whole-run numbers and a timeline of merged percentiles; a comparison needs
more: for every interval, each request name's counts and its encoded HdrHistogram (so any group's
percentiles can be recomputed exactly over any window), and, per replica scrape, the counters that
CPU per request and pool wait are computed from.

The file is JSON lines, gzip-compressed. The first line is the header (`kind: header`), then one
`kind: interval` line per load interval and one `kind: server` line per successful scrape:

    {"kind": "header", "version": 1, "groups": {"read": ["GET /api/tickets", ...]},
     "stages": [{"index": 0, "name": "ramp", "start": 0.0, "end": 30.0, "users": 40,
                 "steady": false}]}
    {"kind": "interval", "start": 0.0, "end": 2.0, "users": 4,
     "names": {"GET /api/tickets": [requests, failures, "<encoded histogram>"]}}
     (a fourth element, the coordinated-omission corrected histogram, where requests were
      paced at an arrival rate; older files have three)
    {"kind": "server", "t": 2.04, "replica": "replica-1", "cpu_seconds": 1.5,
     "pool_wait_sum": 0.01, "pool_wait_count": 120}

Times are seconds since the load started, like everything else in a run's report.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.load.records import StagePlan

__all__ = [
    "SAMPLES_FILE",
    "SAMPLES_VERSION",
    "IntervalSample",
    "RunSamples",
    "ServerPoint",
    "read_samples",
    "samples_from_load",
    "write_samples",
]

SAMPLES_FILE = "intervals.jsonl.gz"
SAMPLES_VERSION = 1

CPU_COUNTER = "process_cpu_seconds_total"
POOL_WAIT = "servicedesk_db_pool_acquire_wait_seconds"


@dataclass(frozen=True)
class NameCounts:
    requests: int
    failures: int
    histogram: str  # encoded HdrHistogram, microseconds
    corrected: str | None = None  # from the intended send time (arrival-rate stages only)


@dataclass(frozen=True)
class IntervalSample:
    start: float
    end: float
    users: int
    names: Mapping[str, NameCounts]


@dataclass(frozen=True)
class ServerPoint:
    """One replica's cumulative counters at one scrape."""

    t: float
    replica: str
    cpu_seconds: float | None
    pool_wait_sum: float | None
    pool_wait_count: float | None


@dataclass(frozen=True)
class RunSamples:
    groups: Mapping[str, tuple[str, ...]]
    stages: tuple[StagePlan, ...]
    intervals: tuple[IntervalSample, ...]
    server: tuple[ServerPoint, ...]


def _stage_dict(stage: StagePlan) -> dict[str, Any]:
    return {
        "index": int(stage.index), "name": str(stage.name), "start": round(float(stage.start), 3),
        "end": round(float(stage.end), 3), "users": int(stage.users), "steady": bool(stage.steady),
    }


def _server_points(scrapes: Iterable[Any], origin: float) -> list[ServerPoint]:
    points = []
    for scrape in scrapes:
        if not scrape.ok:
            continue
        cpu = wait_sum = wait_count = None
        for sample in scrape.samples:
            if sample.name == CPU_COUNTER:
                cpu = sample.value
            elif sample.name == f"{POOL_WAIT}_sum":
                wait_sum = (wait_sum or 0.0) + sample.value
            elif sample.name == f"{POOL_WAIT}_count":
                wait_count = (wait_count or 0.0) + sample.value
        points.append(ServerPoint(round(scrape.t - origin, 3), scrape.replica, cpu, wait_sum,
                                  wait_count))
    return points


def samples_from_load(load: Any, scrapes: Sequence[Any],
                      groups: Mapping[str, Sequence[str]]) -> RunSamples:
    """RunSamples from the load stage's LoadResult and the collect stage's scrapes."""
    intervals = tuple(
        IntervalSample(
            round(i.start, 3), round(i.end, 3), int(i.users),
            {n.name: NameCounts(int(n.requests), int(n.failures), n.histogram, n.corrected)
             for n in i.names},
        )
        for i in load.intervals
    )
    stages = tuple(StagePlan(**_stage_dict(s)) for s in load.stages)
    return RunSamples(
        groups={name: tuple(requests) for name, requests in sorted(groups.items())},
        stages=stages,
        intervals=intervals,
        server=tuple(_server_points(scrapes, load.started_at)),
    )


def write_samples(folder: Path, samples: RunSamples) -> Path:
    """Write `intervals.jsonl.gz` into the run folder (deterministic bytes: no gzip mtime)."""
    lines: list[dict[str, Any]] = [{
        "kind": "header", "version": SAMPLES_VERSION,
        "groups": {k: list(v) for k, v in samples.groups.items()},
        "stages": [_stage_dict(s) for s in samples.stages],
    }]
    for interval in samples.intervals:
        lines.append({
            "kind": "interval", "start": interval.start, "end": interval.end,
            "users": interval.users,
            "names": {
                name: [c.requests, c.failures, c.histogram,
                       *((c.corrected,) if c.corrected else ())]
                for name, c in sorted(interval.names.items())
            },
        })
    for point in samples.server:
        lines.append({
            "kind": "server", "t": point.t, "replica": point.replica,
            "cpu_seconds": point.cpu_seconds, "pool_wait_sum": point.pool_wait_sum,
            "pool_wait_count": point.pool_wait_count,
        })
    text = "".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines)
    path = folder / SAMPLES_FILE
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def read_samples(path: Path) -> RunSamples:
    """Read a run's samples (`path` is the file or its run folder)."""
    if path.is_dir():
        path = path / SAMPLES_FILE
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "no per-interval samples (the run predates them, or "
                          "was not written by `harness run`)") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"unreadable: {exc}") from None
    header: dict[str, Any] | None = None
    intervals: list[IntervalSample] = []
    server: list[ServerPoint] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            line = json.loads(raw)
            kind = line["kind"]
            if kind == "header":
                header = line
                if line.get("version") != SAMPLES_VERSION:
                    raise ConfigError(str(path), "version", f"unsupported {line.get('version')!r}",
                                      str(SAMPLES_VERSION))
            elif kind == "interval":
                names = {
                    name: NameCounts(int(v[0]), int(v[1]), str(v[2]),
                                     str(v[3]) if len(v) > 3 and v[3] else None)
                    for name, v in line["names"].items()
                }
                intervals.append(IntervalSample(float(line["start"]), float(line["end"]),
                                                int(line["users"]), names))
            elif kind == "server":
                server.append(ServerPoint(
                    float(line["t"]), str(line["replica"]), line.get("cpu_seconds"),
                    line.get("pool_wait_sum"), line.get("pool_wait_count"),
                ))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ConfigError(str(path), f"line {number}", f"malformed: {exc}") from None
    if header is None:
        raise ConfigError(str(path), "line 1", "missing the header line")
    return RunSamples(
        groups={k: tuple(v) for k, v in header.get("groups", {}).items()},
        stages=tuple(StagePlan(**s) for s in header.get("stages", [])),
        intervals=tuple(intervals),
        server=tuple(server),
    )
