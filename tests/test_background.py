"""BackgroundLoop: start runs the loop in a named daemon thread, _halt ends it within bounds."""

from __future__ import annotations

import threading

from harness.background import BackgroundLoop


class _Ticker(BackgroundLoop):
    def __init__(self) -> None:
        super().__init__("ticker", join_timeout=5.0)
        self.ticks = 0
        self.thread: threading.Thread | None = None
        self.started = threading.Event()

    def _loop(self) -> None:
        self.thread = threading.current_thread()
        self.started.set()
        while not self._stop.is_set():
            self.ticks += 1
            self._stop.wait(0.01)

    def stop(self) -> int:
        self._halt()
        return self.ticks


def test_the_loop_runs_in_a_named_daemon_thread_until_stopped() -> None:
    ticker = _Ticker()
    ticker.start()
    assert ticker.started.wait(5.0)
    ticks = ticker.stop()
    assert ticks >= 1
    assert ticker.thread is not None and ticker.thread.name == "ticker" and ticker.thread.daemon
    assert not ticker.thread.is_alive()
    assert ticker.ticks == ticks  # nothing ran after stop returned


def test_stopping_what_never_started_returns_at_once() -> None:
    ticker = _Ticker()
    assert ticker.stop() == 0 and ticker.thread is None
