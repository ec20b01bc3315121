"""Stream a run's series to a Prometheus remote-write endpoint from a background thread.

The load generator's per-interval callback only takes a snapshot of the series (cheap) and
queues it; a thread sends the snapshots (snappy-compressed protobuf, through the
prometheus-remote-writer client). A receiver that is slow or gone never holds the run up: the
queue keeps the newest snapshots and drops the oldest (the counters are cumulative, so a dropped
snapshot costs resolution, not counts), failures are counted, and the run's report gets a notice.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client.registry import Collector

__all__ = ["PushOutcome", "RemoteWrite", "Sender", "http_sender", "snapshot"]

Item = dict[str, Any]  # {"metric": labels with __name__, "values": [v], "timestamps": [ms]}


class Sender(Protocol):
    def send(self, metrics: Sequence[Item]) -> object: ...


def http_sender(url: str, *, timeout: float = 5.0) -> Sender:
    """The remote-write client (one retry: the next snapshot is a retry too)."""
    from prometheus_remote_writer import RemoteWriter

    return RemoteWriter(url, timeout=timeout, retries=1, backoff_factor=0.2,
                        user_agent="servicedesk-harness")


def snapshot(collector: Collector, timestamp: float) -> list[Item]:
    """Every sample the collector yields now, stamped `timestamp` (epoch seconds)."""
    stamp = int(round(timestamp * 1000))
    items: list[Item] = []
    for family in collector.collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            items.append({"metric": {"__name__": sample.name, **sample.labels},
                          "values": [float(sample.value)], "timestamps": [stamp]})
    return items


@dataclass(frozen=True)
class PushOutcome:
    url: str
    pushes: int
    failed: int
    dropped: int
    first_error: str | None

    def notes(self) -> list[str]:
        if not self.failed and not self.dropped:
            return []
        lost = f"{self.failed} of {self.pushes} pushes failed" if self.failed else ""
        if self.dropped:
            lost += (", " if lost else "") + f"{self.dropped} snapshots were dropped unsent"
        why = f" (first: {self.first_error})" if self.first_error else ""
        return [f"Remote write to {self.url}: {lost}{why}; the run's series in that Prometheus "
                "are incomplete. The run itself is unaffected."]


class RemoteWrite:
    """Queue snapshots, send them in order from one thread; `close` flushes (bounded)."""

    def __init__(self, url: str, *, sender: Sender | None = None, backlog: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self._sender = sender
        self._queue: queue.Queue[list[Item] | None] = queue.Queue(maxsize=backlog)
        self._clock = clock
        self._thread = threading.Thread(target=self._drain, name="remote-write", daemon=True)
        self._pushes = self._failed = self._dropped = 0
        self._first_error: str | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def push(self, items: list[Item]) -> None:
        """Queue a snapshot; when the backlog is full, the oldest waiting one is dropped."""
        while True:
            try:
                self._queue.put_nowait(items)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    with self._lock:
                        self._dropped += 1
                except queue.Empty:
                    pass

    def close(self, timeout: float = 10.0) -> PushOutcome:
        """Send what is queued (waiting at most `timeout` seconds), then stop the thread."""
        if self._thread.is_alive():
            deadline = self._clock() + timeout
            while True:  # the stop marker must not push a snapshot out
                try:
                    self._queue.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if self._clock() >= deadline:
                        break
            self._thread.join(max(deadline - self._clock(), 0.0))
        with self._lock:
            unsent = self._queue.qsize() if self._thread.is_alive() else 0
            return PushOutcome(self.url, self._pushes, self._failed, self._dropped + unsent,
                               self._first_error)

    def _drain(self) -> None:
        sender = self._sender or http_sender(self.url)
        while True:
            items = self._queue.get()
            if items is None:
                return
            try:
                sender.send(items)
                failed = False
                error = None
            except (RuntimeError, ValueError, OSError) as exc:  # what the client raises
                failed, error = True, " ".join(str(exc).split())[:200]
            with self._lock:
                self._pushes += 1
                if failed:
                    self._failed += 1
                    self._first_error = self._first_error or error
