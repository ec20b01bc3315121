"""The connection and pool traces: what section() writes reads back as the same record, samples
in order; a section in another shape is a SectionError naming what is wrong."""

from __future__ import annotations

import pytest

from harness.collect.traces import (
    ConnectionSample,
    ConnectionTrace,
    PoolSample,
    PoolTrace,
    SectionError,
    read_connections,
    read_pools,
)


def test_connections_round_trip_in_time_order():
    trace = ConnectionTrace((ConnectionSample(2.0, 5, 1, 4), ConnectionSample(4.0, 7, 3, 4)),
                            failed_samples=1, max_connections=100, reserved=3)
    assert read_connections(trace.section()) == trace
    backwards = {**trace.section(), "samples": trace.section()["samples"][::-1]}
    assert read_connections(backwards) == trace
    bare = ConnectionTrace((ConnectionSample(2.0, 5, 1, 4),))
    assert "max_connections" not in bare.section()
    assert read_connections(bare.section()) == bare


def test_pools_round_trip_leaving_out_gauges_a_replica_did_not_export():
    trace = PoolTrace((PoolSample(2.0, "replica-1", 3, 1, max=7),
                       PoolSample(2.0, "replica-2", 4, 0, idle=2, size=6, max=7)))
    section = trace.section()
    assert section["samples"][0] == {"t": 2.0, "replica": "replica-1", "in_use": 3,
                                     "waiting": 1, "max": 7}
    assert read_pools(section) == trace


def test_counts_written_as_gauge_floats_read_as_counts():
    section = {"samples": [{"t": 1, "replica": "r", "in_use": 3.0, "idle": 2.0}]}
    assert read_pools(section).samples == (PoolSample(1.0, "r", 3, 0, idle=2),)


@pytest.mark.parametrize(("section", "words"), [
    ([1, 2], "not a mapping"),
    ({"samples": [{"t": 1.0}]}, "total"),
    ({"samples": [{"t": "soon", "total": 3}]}, "not a time"),
    ({"samples": {"t": 1.0}}, "not a list"),
    ({"samples": [], "max_connections": True}, "max_connections"),
])
def test_other_connection_shapes_say_what_is_wrong(section, words):
    with pytest.raises(SectionError, match=words):
        read_connections(section)


@pytest.mark.parametrize(("section", "words"), [
    ({"samples": [{"t": 1.0, "in_use": 3}]}, "replica"),
    ({"samples": [{"t": 1.0, "replica": "r", "in_use": float("nan")}]}, "in_use"),
    ({"samples": ["r"]}, "not a mapping"),
])
def test_other_pool_shapes_say_what_is_wrong(section, words):
    with pytest.raises(SectionError, match=words):
        read_pools(section)
