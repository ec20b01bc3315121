"""Ask something a question every few seconds in a thread (e.g. pg_stat_activity), keep answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from harness.background import BackgroundLoop

__all__ = ["Poller", "Reading"]

T = TypeVar("T")


@dataclass(frozen=True)
class Reading(Generic[T]):
    t: float  # epoch seconds
    value: T


class Poller(BackgroundLoop, Generic[T]):
    """Calls `read()` every `interval` seconds until stopped; failures are counted, not raised
    (a database restarting mid-run is evidence, not a crash of the harness)."""

    def __init__(self, read: Callable[[], T | None], *, interval: float = 2.0,
                 name: str = "poller") -> None:
        super().__init__(name, join_timeout=interval + 10)
        self.read = read
        self.interval = interval
        self.readings: list[Reading[T]] = []
        self.failures = 0

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
        self._halt()
        return list(self.readings)
