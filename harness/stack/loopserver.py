"""An asyncio TCP server on 127.0.0.1 with an event loop of its own, in a daemon thread: what the
harness's forwarders (the readiness service, the database latency proxy) run on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from harness.errors import StackError

__all__ = ["LoopServer"]

HOST = "127.0.0.1"


class LoopServer:
    """`open_server(loop)` makes the server (on port 0); `close()` runs on the loop before it
    ends.

    Attributes:
        port: where it listens (after `start`).
        loop: its event loop (after `start`), for work handed in from other threads.
    """

    def __init__(self, name: str,
                 open_server: Callable[[asyncio.AbstractEventLoop], Awaitable[asyncio.Server]],
                 close: Callable[[], Awaitable[None]] | None = None) -> None:
        self.name = name
        self.port: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._open_server = open_server
        self._close = close
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Listen, or StackError naming the server; returns the port."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            try:
                server = loop.run_until_complete(self._open_server(loop))
                self.port = int(server.sockets[0].getsockname()[1])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                if self._close is not None:
                    loop.run_until_complete(self._close())
                loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure or self.port is None:
            raise StackError(f"the {self.name} did not start: {failure[:1]}")
        return self.port

    def stop(self) -> None:
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
