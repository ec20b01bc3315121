"""Datadog's metric monitor query grammar, as the Monitors API documents it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.provision.ddquery import QuerySyntaxError, parse_monitor_query


@pytest.mark.parametrize("query", [
    "avg(last_5m):avg:system.cpu.user{*} > 90",
    "max(last_1h):sum:a.b{env:prod,service:x} by {host} >= 3.5",
    "sum(last_1d):sum:a.count{!route:/api/metrics,status:5*} by {env}.as_count() > 0",
    "min(last_1w):max:a{*} < 1",
    "sum(last_168h):sum:a{*}.as_rate() != 0",
    "sum(last_10m):(sum:a{*} by {env}.as_count() - sum:b{x:y} by {env}.as_count())"
    " / sum:a{*} by {env}.as_count() > 0.05",
    "change(max(last_10m),10m_ago):max:redis.keys.evicted{service:r} by {env} > 1000",
    "pct_change(avg(last_2d),1d_ago):avg:a{*} <= -10",
    "avg(last_5m):100 * avg:a{*} / avg:b{*} == 1",
])
def test_valid_queries_parse(query: str) -> None:
    parse_monitor_query(query)


@pytest.mark.parametrize(("query", "problem"), [
    ("avg(last_3d):avg:a{*} > 1", "out of range"),
    ("avg(last_200h):avg:a{*} > 1", "out of range"),
    ("avg(last_10081m):avg:a{*} > 1", "out of range"),
    ("change(avg(last_3d),1d_ago):avg:a{*} > 1", "out of range"),
    ("change(avg(last_5m),3m_ago):avg:a{*} > 1", "timeshift"),
    ("median(last_5m):avg:a{*} > 1", "time aggregator"),
    ("avg(last_5m):p95:a{*} > 1", "space aggregator"),
    ("avg(last_5m):avg:a > 1", "'{'"),
    ("avg(last_5m):avg:a{*} > ", "threshold"),
    ("avg(last_5m):avg:a{*} => 1", "comparison operator"),
    ("avg(last_5m):avg:a{*} > 1 extra", "after the threshold"),
    ("avg(last_5m):avg:a{*} by {env} / avg:b{*} > 1", "same keys"),
    ("avg(last_5m):(avg:a{*} > 1", "')'"),
    ("avg(last_5m):avg:a{*}.as_counts() > 1", "modifier"),
    ("avg(last_5m):avg:a{,x:y} > 1", "tag"),
])
def test_invalid_queries_are_refused_with_the_place(query: str, problem: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_monitor_query(query)
    assert problem in str(caught.value)


@given(st.sampled_from("mh"), st.integers(min_value=1, max_value=20000))
def test_window_bounds(unit: str, count: int) -> None:
    query = f"avg(last_{count}{unit}):avg:a{{*}} > 1"
    limit = 10080 if unit == "m" else 168
    if count <= limit:
        assert parse_monitor_query(query).window == f"last_{count}{unit}"
    else:
        with pytest.raises(QuerySyntaxError):
            parse_monitor_query(query)
