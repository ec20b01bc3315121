"""A run as one tidy table (pandas): the rows `harness export` writes.

Two kinds of row, told apart by `series`:

- `request`: one per load interval and request name: `start`, `end` (seconds since the load
  started), `stage`, `steady`, `users`, `name`, `group` (the SLO spec's endpoint groups holding
  the name, comma-separated), `requests`, `failures`, `error_percent`, `p50_ms`, `p95_ms`,
  `p99_ms`, `max_ms` from the interval's HdrHistogram (from each request's actual send), and
  `corrected_p50_ms` … `corrected_p99_ms` from its intended send time where the stage paced an
  arrival rate (empty otherwise);
- `replica`: one per replica scrape: `t`, `replica`, `cpu_percent` (of one core), `rss_mb`.

Every row carries `run_id` and `scenario`. Percentiles are those results.json reports (the
highest value equivalent to the percentile's bucket, 3 significant digits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from harness.compare.samples import IntervalSample, RunSamples
from harness.load.latency import decode, summarize
from harness.load.records import StagePlan
from harness.report.results import RunResult

__all__ = ["COLUMNS", "export_frame"]

COLUMNS = (
    "series", "run_id", "scenario", "start", "end", "stage", "steady", "users", "name", "group",
    "requests", "failures", "error_percent", "p50_ms", "p95_ms", "p99_ms", "max_ms",
    "corrected_p50_ms", "corrected_p95_ms", "corrected_p99_ms",
    "t", "replica", "cpu_percent", "rss_mb",
)
_INTEGERS = ("users", "requests", "failures")
_FLAGS = ("steady",)


def _stage(interval: IntervalSample, stages: Sequence[StagePlan]) -> StagePlan | None:
    middle = (interval.start + interval.end) / 2.0
    return next((s for s in stages if s.start <= middle <= s.end), None)


def _groups_by_name(groups: Mapping[str, Sequence[str]]) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for group, names in sorted(groups.items()):
        for name in names:
            found.setdefault(name, []).append(group)
    return {name: ",".join(groups) for name, groups in found.items()}


def _percentiles(encoded: str | None, prefix: str) -> dict[str, float | None]:
    if not encoded:
        return {f"{prefix}p50_ms": None, f"{prefix}p95_ms": None, f"{prefix}p99_ms": None}
    summary = summarize(decode(encoded))
    return {f"{prefix}p50_ms": summary.p50_ms, f"{prefix}p95_ms": summary.p95_ms,
            f"{prefix}p99_ms": summary.p99_ms}


def _request_rows(samples: RunSamples) -> list[dict[str, Any]]:
    group_of = _groups_by_name(samples.groups)
    rows = []
    for interval in samples.intervals:
        stage = _stage(interval, samples.stages)
        for name, counts in sorted(interval.names.items()):
            actual = summarize(decode(counts.histogram))
            rows.append({
                "series": "request", "start": interval.start, "end": interval.end,
                "stage": stage.name if stage else None,
                "steady": stage.steady if stage else None, "users": interval.users,
                "name": name, "group": group_of.get(name, ""), "requests": counts.requests,
                "failures": counts.failures,
                "error_percent": (100.0 * counts.failures / counts.requests
                                  if counts.requests else 0.0),
                "p50_ms": actual.p50_ms if actual.count else None,
                "p95_ms": actual.p95_ms if actual.count else None,
                "p99_ms": actual.p99_ms if actual.count else None,
                "max_ms": actual.max_ms if actual.count else None,
                **_percentiles(counts.corrected, "corrected_"),
            })
    return rows


def export_frame(result: RunResult, samples: RunSamples) -> pd.DataFrame:
    """The run's request and replica rows as one DataFrame with the columns COLUMNS."""
    rows = _request_rows(samples)
    rows += [{"series": "replica", "t": p.t, "replica": p.replica,
              "cpu_percent": p.cpu_percent, "rss_mb": p.rss_mb} for p in result.replicas]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["run_id"] = result.run_id
    frame["scenario"] = result.scenario
    # nullable dtypes, so a replica row's missing count stays missing instead of turning floats
    for column in _INTEGERS:
        frame[column] = frame[column].astype("Int64")
    for column in _FLAGS:
        frame[column] = frame[column].astype("boolean")
    for column in ("series", "run_id", "scenario", "stage", "name", "group", "replica"):
        frame[column] = frame[column].astype("string")
    float_columns = [c for c in COLUMNS if c.endswith(("_ms", "_percent", "_mb"))
                     or c in ("start", "end", "t")]
    for column in float_columns:
        frame[column] = frame[column].astype("Float64")
    return frame
