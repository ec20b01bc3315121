import pytest

from harness.calibrate.cpu import measure_cpu
from harness.collect.scrape import MetricSample, Scrape


def requests(value, route="/api/tickets/{id}", status="200"):
    labels = (("method", "GET"), ("route", route), ("status", status))
    return MetricSample("servicedesk_http_requests_total", labels, value)


def cpu(value):
    return MetricSample("process_cpu_seconds_total", (), value)


def scrape(t, replica, *samples, ok=True):
    return Scrape(t, replica, ok, samples if ok else ())


def test_cpu_and_requests_over_the_window_sum_replicas():
    scrapes = [
        scrape(0, "r1", cpu(1.0), requests(100)),
        scrape(10, "r1", cpu(3.0), requests(1100)),
        scrape(20, "r1", cpu(5.0), requests(2100)),
        scrape(0, "r2", cpu(0.5), requests(0)),
        scrape(10, "r2", cpu(2.5), requests(1000)),
        scrape(20, "r2", cpu(4.5), requests(2000)),
    ]
    use = measure_cpu(scrapes, 0, 20)
    assert (use.replicas, use.cpu_seconds, use.requests) == (2, 8.0, 4000.0)
    assert use.per_request == pytest.approx(0.002)
    assert use.cores_per_replica == pytest.approx(0.2)
    assert use.requests_per_second == pytest.approx(200.0)
    inner = measure_cpu(scrapes, 5, 20)  # only the scrapes inside count
    assert (inner.cpu_seconds, inner.requests, inner.seconds) == (4.0, 2000.0, 10.0)


def test_probes_and_scrapes_are_not_requests_but_their_cpu_counts():
    scrapes = [
        scrape(0, "r1", cpu(1.0), requests(10), requests(5, "/api/metrics"),
               requests(7, "/api/health/ready")),
        scrape(10, "r1", cpu(2.0), requests(510), requests(10, "/api/metrics"),
               requests(17, "/api/health/ready")),
    ]
    use = measure_cpu(scrapes, 0, 10)
    assert (use.cpu_seconds, use.requests) == (1.0, 500.0)


def test_a_label_set_first_seen_mid_window_counts_from_zero_and_restarts_too():
    scrapes = [
        scrape(0, "r1", cpu(1.0), requests(10)),
        scrape(5, "r1", cpu(2.0), requests(20), requests(3, status="500")),
        scrape(10, "r1", cpu(0.5), requests(4), requests(1, status="500")),  # restarted
    ]
    use = measure_cpu(scrapes, 0, 10)
    assert use.cpu_seconds == pytest.approx(1.0 + 0.5)
    assert use.requests == pytest.approx(10 + 4 + 3 + 1)


def test_a_replica_seen_once_or_failing_is_left_out():
    scrapes = [
        scrape(0, "r1", cpu(1.0), requests(0)),
        scrape(10, "r1", cpu(2.0), requests(100)),
        scrape(9, "r2", cpu(5.0), requests(0)),
        scrape(0, "r3", ok=False),
        scrape(10, "r3", ok=False),
    ]
    use = measure_cpu(scrapes, 0, 10)
    assert (use.replicas, use.cpu_seconds, use.requests) == (1, 1.0, 100.0)
    empty = measure_cpu(scrapes, 20, 30)
    assert (empty.replicas, empty.per_request, empty.cores_per_replica) == (0, None, 0.0)
