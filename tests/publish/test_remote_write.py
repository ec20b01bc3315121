"""Remote write: snapshots sent in order from a thread; a receiver that fails or hangs costs the
run a notice, never an exception or an unbounded wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from harness.publish.remote_write import RemoteWrite, snapshot
from harness.publish.series import RunLabels, RunSeries


class Recording:
    def __init__(self, fail_first: int = 0) -> None:
        self.sent: list[Sequence[dict]] = []
        self.fail_first = fail_first

    def send(self, metrics: Sequence[dict]) -> None:
        if self.fail_first > 0:
            self.fail_first -= 1
            raise RuntimeError("Network error posting to http://127.0.0.1:9/api/v1/write: "
                               "ConnectionError: refused")
        self.sent.append(metrics)


class Hanging:
    def __init__(self) -> None:
        self.release = threading.Event()

    def send(self, metrics: Sequence[dict]) -> None:
        self.release.wait(30)


def _items(n: int) -> list[dict]:
    return [{"metric": {"__name__": "harness_users"}, "values": [float(n)],
             "timestamps": [n]}]


def test_snapshot_stamps_every_sample_in_milliseconds() -> None:
    series = RunSeries(RunLabels("r1", "smoke", "embedded", {"env": "ci"}), buckets=(0.1,),
                       stages=())
    items = snapshot(series, 1_700_000_000.1234)
    assert items == [{"metric": {"__name__": "harness_run_info", "run_id": "r1",
                                 "scenario": "smoke", "env": "ci", "stack": "embedded"},
                      "values": [1.0], "timestamps": [1_700_000_000_123]}]


def test_snapshots_are_sent_in_order_and_close_flushes() -> None:
    sender = Recording()
    remote = RemoteWrite("http://127.0.0.1:9/api/v1/write", sender=sender)
    remote.start()
    for n in range(5):
        remote.push(_items(n))
    outcome = remote.close(timeout=10)
    assert [batch[0]["values"][0] for batch in sender.sent] == [0, 1, 2, 3, 4]
    assert (outcome.pushes, outcome.failed, outcome.dropped) == (5, 0, 0)
    assert outcome.notes() == []


def test_a_receiver_that_goes_away_is_a_notice() -> None:
    sender = Recording(fail_first=3)
    remote = RemoteWrite("http://127.0.0.1:9/api/v1/write", sender=sender)
    remote.start()
    for n in range(5):
        remote.push(_items(n))
    outcome = remote.close(timeout=10)
    assert (outcome.pushes, outcome.failed) == (5, 3)
    [note] = outcome.notes()
    assert "3 of 5 pushes failed" in note and "refused" in note and "unaffected" in note


def test_a_hanging_receiver_neither_blocks_pushes_nor_close_beyond_its_bound() -> None:
    sender = Hanging()
    remote = RemoteWrite("http://127.0.0.1:9/api/v1/write", sender=sender, backlog=3)
    remote.start()
    began = time.monotonic()
    for n in range(20):
        remote.push(_items(n))  # never waits: the oldest waiting snapshot is dropped
    assert time.monotonic() - began < 1.0
    outcome = remote.close(timeout=0.5)
    assert time.monotonic() - began < 5.0
    assert outcome.dropped >= 16
    assert "dropped unsent" in outcome.notes()[0]
    sender.release.set()
