"""The export table: one row per interval and request name, one per replica scrape."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from harness.compare.runs import RunData, load_run
from harness.compare.samples import IntervalSample, NameCounts, RunSamples
from harness.export.frames import COLUMNS, export_frame
from harness.load.latency import decode, encode, new_histogram, summarize
from harness.report.results import ReplicaPoint
from tests.compare.synthetic import BASE_MS, GROUPS, write_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    folder = write_run(tmp_path_factory.mktemp("export") / "run-1", seed=7, ramp=4.0,
                       steady=16.0, error_percent=2.0)
    data = load_run(folder)
    replicas = tuple(ReplicaPoint(t, f"replica-{r}", 10.0 * r + t, 80.0 + r)
                     for t in (2.0, 4.0) for r in (1, 2))
    return dataclasses.replace(data, result=dataclasses.replace(data.result, replicas=replicas))


def test_one_row_per_interval_and_request_name(run: RunData) -> None:
    frame = export_frame(run.result, run.samples)
    assert list(frame.columns) == list(COLUMNS)
    requests = frame[frame["series"] == "request"]
    assert len(requests) == len(run.samples.intervals) * len(BASE_MS)
    assert set(requests["name"]) == set(BASE_MS)
    expected = sum(c.requests for i in run.samples.intervals for c in i.names.values())
    assert int(requests["requests"].sum()) == expected
    assert int(requests["failures"].sum()) == sum(c.failures for i in run.samples.intervals
                                                  for c in i.names.values())
    assert set(requests["stage"]) == {"ramp", "steady"}
    assert (requests["run_id"] == "run-1").all() and (requests["scenario"] == "nightly").all()


def test_percentiles_are_the_intervals_histograms(run: RunData) -> None:
    frame = export_frame(run.result, run.samples)
    interval = run.samples.intervals[3]
    name = "GET /api/search"
    row = frame[(frame["series"] == "request") & (frame["end"] == interval.end)
                & (frame["name"] == name)].iloc[0]
    summary = summarize(decode(interval.names[name].histogram))
    assert (row["p50_ms"], row["p95_ms"], row["p99_ms"], row["max_ms"]) == (
        summary.p50_ms, summary.p95_ms, summary.p99_ms, summary.max_ms)
    assert row["group"] == "search"
    assert row["steady"]
    assert pd.isna(row["corrected_p95_ms"])  # a closed-model run: nothing to correct


def test_corrected_percentiles_where_an_arrival_rate_was_paced(run: RunData) -> None:
    actual, corrected = new_histogram(), new_histogram()
    actual.record_value(10_000, 100)
    corrected.record_value(10_000, 90)
    corrected.record_value(400_000, 10)  # a stall: queued sends waited 400 ms
    samples = RunSamples(
        groups=GROUPS, stages=run.samples.stages,
        intervals=(IntervalSample(0.0, 2.0, 10, {
            "GET /api/tickets": NameCounts(100, 0, encode(actual), encode(corrected)),
            "GET /api/search": NameCounts(100, 0, encode(actual))}),),
        server=())
    rows = export_frame(run.result, samples).set_index("name")
    assert rows.loc["GET /api/tickets", "p99_ms"] == pytest.approx(10.0, rel=1e-3)
    assert rows.loc["GET /api/tickets", "corrected_p99_ms"] == pytest.approx(400.0, rel=1e-3)
    assert pd.isna(rows.loc["GET /api/search", "corrected_p99_ms"])


def test_replica_rows_carry_the_replica_series(run: RunData) -> None:
    frame = export_frame(run.result, run.samples)
    replicas = frame[frame["series"] == "replica"]
    assert list(zip(replicas["t"], replicas["replica"], replicas["cpu_percent"],
                    replicas["rss_mb"], strict=True)) == [
        (p.t, p.replica, p.cpu_percent, p.rss_mb) for p in run.result.replicas]
    assert replicas["requests"].isna().all() and replicas["name"].isna().all()


def test_a_run_without_intervals_gives_an_empty_typed_table(run: RunData, tmp_path: Path) -> None:
    empty = RunSamples(groups={}, stages=(), intervals=(), server=())
    frame = export_frame(dataclasses.replace(run.result, replicas=()), empty)
    assert frame.empty and list(frame.columns) == list(COLUMNS)
    assert str(frame["requests"].dtype) == "Int64"
