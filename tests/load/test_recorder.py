from hypothesis import given, settings
from hypothesis import strategies as st

from harness.load.latency import decode
from harness.load.recorder import Recorder, interval_record, merge_errors, merge_names

# (name, latency ms, failed, lag ms or None for an unpaced request)
requests = st.lists(
    st.tuples(
        st.sampled_from(["GET /a", "GET /b", "POST /c"]),
        st.floats(min_value=0.001, max_value=60_000, allow_nan=False),
        st.booleans(),
        st.one_of(st.none(), st.floats(min_value=0, max_value=5_000, allow_nan=False)),
    ),
    max_size=80,
)


def _record(recorder: Recorder, items) -> None:
    for name, ms, failed, lag in items:
        recorder.record(name, ms, failed, lag)


@settings(max_examples=60, deadline=None)
@given(st.lists(requests, min_size=1, max_size=5))
def test_merging_worker_reports_equals_one_recorder_seeing_everything(workers):
    whole = Recorder()
    reports = []
    for items in workers:
        part = Recorder()
        _record(part, items)
        _record(whole, items)
        reports.append(part.swap()[0])
    merged = merge_names(reports)
    expected = whole.swap()[0]
    assert merged.keys() == expected.keys()
    for name, item in expected.items():
        got = merged[name]
        assert (got["n"], got["f"]) == (item["n"], item["f"])
        for key in ("h", "c"):
            assert (key in got) == (key in item)
            if key in item:
                a, b = decode(got[key]), decode(item[key])
                assert a.get_total_count() == b.get_total_count()
                assert bytes(a.counts) == bytes(b.counts)  # every bucket, so every percentile


def test_corrected_latency_adds_the_send_lag_and_unpaced_requests_count_as_raw():
    recorder = Recorder()
    recorder.record("GET /a", 10.0, False)  # closed-model request before the stage switched
    recorder.record("GET /a", 10.0, False, lag_ms=990.0)  # waited ~1 s for a free user
    item = recorder.swap()[0]["GET /a"]
    raw, corrected = decode(item["h"]), decode(item["c"])
    assert raw.get_max_value() < 10_100
    assert corrected.get_total_count() == 2
    assert corrected.get_min_value() < 10_100 and 999_000 < corrected.get_max_value() < 1_001_000


def test_swap_starts_a_new_interval():
    recorder = Recorder()
    recorder.record("GET /a", 1.0, True)
    recorder.error("GET /a", "code=500")
    names, errors = recorder.swap()
    assert names["GET /a"]["f"] == 1 and "c" not in names["GET /a"]
    assert errors == [["GET /a", "code=500", 1]]
    assert recorder.swap() == ({}, [])
    assert merge_errors({("GET /a", "code=500"): 2}, errors) == {("GET /a", "code=500"): 3}


def test_interval_record_merges_generators_health():
    health = {"generator": "worker-0", "cpu": 50.0, "lag_p50": 1.0, "lag_p99": 3.0,
              "lag_max": 4.0, "rss": 60.0, "users": 5, "intended": 10.0, "sent": 9}
    late = {**health, "cpu": 70.0, "intended": 2.0, "sent": 3}
    other = {**health, "generator": "worker-1", "cpu": 20.0}
    record = interval_record(0.0, 2.0, 10, [
        {"names": {}, "health": health}, {"names": {}, "health": late},
        {"names": {}, "health": other},
    ])
    assert record["cpu"] == 70.0
    first, second = record["generators"]
    assert (first["generator"], first["cpu"], first["intended"], first["sent"]) == (
        "worker-0", 70.0, 12.0, 12)
    assert second["generator"] == "worker-1"
    # the wait for a core: the worst of the two reports; unknown stays unknown
    assert first["cpu_wait"] is None
    waited = interval_record(0.0, 2.0, 10, [{"names": {}, "health": {**health, "cpu_wait": 3.0}},
                                            {"names": {}, "health": {**late, "cpu_wait": None}}])
    assert waited["generators"][0]["cpu_wait"] == 3.0
