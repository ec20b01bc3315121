"""Scraping's parser on a real /api/metrics page, and the exact histogram merge."""

from __future__ import annotations

import random

from benchmarks.micro.conftest import InProcessApp
from harness.collect.scrape import parse_metrics
from harness.load.latency import encode, merge, new_histogram


def test_parse_metrics(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    for ticket in range(1, 60):  # traffic on several routes fills the histograms
        app.call("GET", f"/api/tickets/{ticket}", headers=headers)
        app.call("GET", "/api/search", headers=headers, params={"q": "mail"})
    text = app.call("GET", "/api/metrics").text
    samples = benchmark(parse_metrics, text)
    assert len(samples) > 100
    assert any(s.name == "servicedesk_http_request_duration_seconds_bucket" for s in samples)


def _encoded(seed: int, count: int = 2000) -> str:
    rng = random.Random(seed)
    histogram = new_histogram()
    for _ in range(count):
        histogram.record_value(int(rng.lognormvariate(9.0, 0.8)))  # ~8 ms median, in µs
    return encode(histogram)


def test_merge_encoded_histograms(benchmark) -> None:
    # one interval of a distributed run: 10 request names x 8 workers
    encoded = [_encoded(seed) for seed in range(80)]
    merged = benchmark(merge, encoded)
    assert merged.get_total_count() == 80 * 2000
