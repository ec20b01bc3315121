"""intervals.jsonl.gz: written from the load stage's records, read back unchanged."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from harness.collect.scrape import MetricSample, Scrape
from harness.compare.samples import SAMPLES_FILE, read_samples, samples_from_load, write_samples
from harness.errors import ConfigError
from harness.load.latency import encode, new_histogram
from harness.load.records import Interval, LoadResult, NameInterval, StagePlan

T0 = 1_790_000_000.0


def _histogram(*values_us: int) -> str:
    histogram = new_histogram()
    for value in values_us:
        histogram.record_value(value)
    return encode(histogram)


def _load() -> LoadResult:
    intervals = (
        Interval(0.0, 2.0, 5, (
            NameInterval("GET /api/tickets", 3, 1, _histogram(1000, 2000, 3000)),)),
        Interval(2.0, 4.0, 5, (NameInterval("GET /api/tickets", 1, 0, _histogram(5000)),
                               NameInterval("GET /api/search", 2, 0, _histogram(9000, 9000)))),
    )
    stages = (StagePlan(0, "ramp", 0.0, 1.0, 5, False),
              StagePlan(1, "hold", 1.0, 4.0, 5, True))
    return LoadResult(T0, T0 + 4.0, intervals, (), stages)


def _scrapes() -> list[Scrape]:
    return [
        Scrape(T0 + 2.0, "replica-1", True, (
            MetricSample("process_cpu_seconds_total", (), 1.5),
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_sum", (), 0.25),
            MetricSample("servicedesk_db_pool_acquire_wait_seconds_count", (), 10.0),
            MetricSample("servicedesk_http_requests_total", (("route", "/x"),), 3.0),
        )),
        Scrape(T0 + 2.1, "replica-2", False, (), "ConnectError: refused"),
    ]


def test_round_trip(tmp_path: Path) -> None:
    samples = samples_from_load(_load(), _scrapes(), {"read": ("GET /api/tickets",)})
    path = write_samples(tmp_path, samples)
    assert path == tmp_path / SAMPLES_FILE
    back = read_samples(tmp_path)
    assert back == samples
    assert back.groups == {"read": ("GET /api/tickets",)}
    assert [s.steady for s in back.stages] == [False, True]
    assert back.intervals[1].names["GET /api/search"].requests == 2
    (point,) = back.server  # the failed scrape is left out
    assert (point.t, point.replica, point.cpu_seconds) == (2.0, "replica-1", 1.5)
    assert (point.pool_wait_sum, point.pool_wait_count) == (0.25, 10.0)


def test_bytes_are_deterministic(tmp_path: Path) -> None:
    samples = samples_from_load(_load(), _scrapes(), {})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_samples(tmp_path / "a", samples).read_bytes()
    second = write_samples(tmp_path / "b", samples).read_bytes()
    assert first == second
    lines = gzip.decompress(first).decode().splitlines()
    assert json.loads(lines[0])["kind"] == "header"
    assert [json.loads(line)["kind"] for line in lines[1:]] == ["interval", "interval", "server"]


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=SAMPLES_FILE):
        read_samples(tmp_path)


@pytest.mark.parametrize("content, problem", [
    (b"not gzip", "unreadable"),
    (gzip.compress(b'{"kind": "interval"}\n'), "line 1"),
    (gzip.compress(b'{"kind": "header", "version": 99}\n'), "version"),
    (gzip.compress(b'{"kind": "interval", "start": 0, "end": 2, "users": 1, "names": {}}\n'),
     "header"),
])
def test_bad_files_are_config_errors(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / SAMPLES_FILE).write_bytes(content)
    with pytest.raises(ConfigError, match=problem):
        read_samples(tmp_path)
