"""Holding Ctrl-C and SIGTERM back while something must finish (the report being written).

`deferred_interrupts()` records a SIGINT or SIGTERM instead of acting on it; the caller looks at
`pending` afterwards and ends the run as interrupted. Only the main thread can set handlers;
elsewhere it defers nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Deferred", "deferred_interrupts"]


class Deferred:
    def __init__(self) -> None:
        self.pending: int | None = None  # the signal that arrived meanwhile

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.pending = signum


@contextmanager
def deferred_interrupts() -> Iterator[Deferred]:
    deferred = Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield deferred
        return
    previous = {sig: signal.signal(sig, deferred) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield deferred
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
