"""A daemon thread that runs a loop until stopped: what the scraper, the pollers and the drill's
writer share (start it, ask it to stop, wait a bounded time for it)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

__all__ = ["BackgroundLoop"]


class BackgroundLoop(ABC):
    """Runs `_loop` in a daemon thread named ``name`` from `start`; `_loop` returns once
    `_stop` is set. `_halt` sets it and waits up to ``join_timeout`` seconds for the thread
    (a daemon: one stuck in a call does not keep the harness from exiting)."""

    def __init__(self, name: str, *, join_timeout: float) -> None:
        self._name = name
        self._join_timeout = join_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout)

    @abstractmethod
    def _loop(self) -> None:
        """The thread's work; it checks or waits on `_stop`."""
