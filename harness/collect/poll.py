"""Ask something a question every few seconds in a thread (e.g. pg_stat_activity), keep answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Poller", "Reading"]

T = TypeVar("T")


@dataclass(frozen=True)
class Reading(Generic[T]):
    t: float  # epoch seconds
    value: T


class Poller(Generic[T]):
    """Calls `read()` every `interval` seconds until stopped; failures are counted, not raised
    (a database restarting mid-run is evidence, not a crash of the harness)."""

    def __init__(self, read: Callable[[], T | None], *, interval: float = 2.0,
                 name: str = "poller") -> None:
        self.read = read
        self.interval = interval
        self.readings: list[Reading[T]] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                value = self.read()
            except Exception:
                self.failures += 1
            else:
                if value is not None:
                    self.readings.append(Reading(time.time(), value))
            self._stop.wait(self.interval)

    def stop(self) -> list[Reading[T]]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 10)
        return list(self.readings)
