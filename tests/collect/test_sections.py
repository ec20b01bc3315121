from harness.collect.instruments import Evidence
from harness.collect.poll import Reading
from harness.collect.scrape import MetricSample, Scrape
from harness.collect.sections import pool_trace, report_sections
from harness.collect.traces import PoolSample
from harness.stack.services.postgres import ConnectionCounts


def gauge(name, value):
    return MetricSample(name, (), value)


def test_pool_samples_per_scrape_and_replica():
    scrapes = (
        Scrape(100.0, "replica-1", True, (gauge("servicedesk_db_pool_connections_in_use", 3),
                                          gauge("servicedesk_db_pool_waiting", 1),
                                          gauge("servicedesk_db_pool_max", 7))),
        Scrape(100.5, "replica-2", False, (), "ConnectError"),
        Scrape(101.0, "replica-2", True, (gauge("process_cpu_seconds_total", 1),)),
    )
    trace = pool_trace(scrapes, 98.0)
    assert trace.samples == (PoolSample(2.0, "replica-1", 3, 1, max=7),)
    assert trace.section() == {"samples": [
        {"t": 2.0, "replica": "replica-1", "in_use": 3, "waiting": 1, "max": 7}
    ]}


def test_sections_carry_server_limits_and_leave_out_what_was_not_seen():
    evidence = Evidence(scrapes=(), connections=(Reading(12.0, ConnectionCounts(5, 1, 4, {})),))
    sections = report_sections(evidence, 10.0, server_limits=(100, 3))
    assert sections == {"connections": {
        "samples": [{"t": 2.0, "total": 5, "active": 1, "idle": 4}],
        "failed_samples": 0, "max_connections": 100, "reserved": 3,
    }}
    assert report_sections(Evidence(scrapes=()), 0.0) == {}
