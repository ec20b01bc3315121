"""The scraper's live view: each replica's latest gauge, summed."""

from __future__ import annotations

from harness.collect.scrape import MetricSample, Scrape, Scraper

IN_USE = "servicedesk_db_pool_connections_in_use"


def test_scraper_sums_each_replicas_latest_gauge():
    scraper = Scraper(lambda: [])
    sample = lambda v: (MetricSample(IN_USE, (), v),)  # noqa: E731
    scraper.scrapes += [Scrape(1.0, "r1", True, sample(5.0)), Scrape(1.1, "r2", True, sample(2.0)),
                        Scrape(3.0, "r1", True, sample(1.0)), Scrape(3.1, "r2", False, ())]
    assert scraper.latest_total(IN_USE) == 3.0
    assert scraper.latest_total("servicedesk_other") is None
