import pytest

from harness.collect.scrape import MetricSample, Scrape, parse_metrics
from harness.collect.series import ServerSeries, counter_increase, histogram_quantile

METRICS = """
# HELP servicedesk_http_requests_total Requests
# TYPE servicedesk_http_requests_total counter
servicedesk_http_requests_total{method="GET",route="/api/tickets/{id}",status="200"} 10.0
# HELP servicedesk_http_request_duration_seconds Duration
# TYPE servicedesk_http_request_duration_seconds histogram
servicedesk_http_request_duration_seconds_bucket{le="0.1",method="GET"} 5.0
servicedesk_http_request_duration_seconds_bucket{le="+Inf",method="GET"} 10.0
servicedesk_http_request_duration_seconds_count{method="GET"} 10.0
servicedesk_http_request_duration_seconds_sum{method="GET"} 1.0
# HELP go_gc_seconds not ours
# TYPE go_gc_seconds gauge
go_gc_seconds 1.0
"""


def test_parse_keeps_only_our_metrics():
    samples = parse_metrics(METRICS)
    names = {s.name for s in samples}
    assert "servicedesk_http_requests_total" in names
    assert "go_gc_seconds" not in names


def sample(name, value, **labels):
    return MetricSample(name, tuple(sorted(labels.items())), value)


def scrape(t, replica, *samples):
    return Scrape(t, replica, True, samples)


def bucket(le, value):
    return sample("servicedesk_d_seconds_bucket", value, le=le)


def test_counter_increase_sums_replicas_and_survives_a_restart():
    scrapes = [
        scrape(0, "r1", sample("c_total", 100)),
        scrape(2, "r1", sample("c_total", 150)),
        scrape(4, "r1", sample("c_total", 20)),  # restarted: counts from zero
        scrape(0, "r2", sample("c_total", 0)),
        scrape(4, "r2", sample("c_total", 30)),
    ]
    assert counter_increase(ServerSeries(scrapes, 0), "c_total") == pytest.approx(50 + 20 + 30)


def test_histogram_quantile_interpolates_like_prometheus():
    scrapes = [
        scrape(0, "r1", bucket("0.1", 0), bucket("0.5", 0), bucket("+Inf", 0)),
        scrape(10, "r1", bucket("0.1", 50), bucket("0.5", 100), bucket("+Inf", 100)),
    ]
    series = ServerSeries(scrapes, 0)
    assert histogram_quantile(series, "servicedesk_d_seconds", 0.5) == pytest.approx(0.1)
    assert histogram_quantile(series, "servicedesk_d_seconds", 0.75) == pytest.approx(0.3)


def test_histogram_quantile_counts_a_restarted_replicas_buckets_from_zero():
    # 100 fast requests, a restart (the counters begin again), then 60 slow ones: before, the
    # last-minus-first read -40 for the fast bucket and dropped everything.
    scrapes = [
        scrape(0, "r1", bucket("0.1", 0), bucket("1", 0), bucket("+Inf", 0)),
        scrape(10, "r1", bucket("0.1", 100), bucket("1", 100), bucket("+Inf", 100)),
        scrape(20, "r1", bucket("0.1", 0), bucket("1", 60), bucket("+Inf", 60)),
    ]
    series = ServerSeries(scrapes, 0)
    # 160 requests: 100 at or under 0.1 s, 60 between 0.1 and 1 s
    assert histogram_quantile(series, "servicedesk_d_seconds", 0.5) == pytest.approx(0.08)
    assert histogram_quantile(series, "servicedesk_d_seconds", 0.95) == pytest.approx(
        0.1 + 0.9 * (152 - 100) / 60)


def test_replica_resources_from_process_metrics():
    scrapes = [
        scrape(0, "r1", sample("process_cpu_seconds_total", 1.0),
               sample("process_resident_memory_bytes", 100 * 1024 * 1024)),
        scrape(2, "r1", sample("process_cpu_seconds_total", 2.0),
               sample("process_resident_memory_bytes", 110 * 1024 * 1024)),
    ]
    frame = ServerSeries(scrapes, 0).replica_resources()
    assert list(frame["cpu_percent"]) == [pytest.approx(50.0)]
    assert list(frame["rss_mb"]) == [pytest.approx(110.0)]


def test_failed_scrapes_are_counted_not_parsed():
    series = ServerSeries([Scrape(0, "r1", False, (), "ConnectError")], 0)
    assert series.failed == 1 and series.frame.empty
