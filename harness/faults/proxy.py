"""A TCP proxy between the app and PostgreSQL that can add latency, as toxiproxy's latency toxic
does: every chunk from the server is held `latency` seconds before it goes on, in order, without
limiting throughput. With latency 0 it only forwards. It runs an asyncio loop in its own thread.

The `slow-database` fault sets the latency for its duration; the app's DATABASE_URL points at
the proxy from the start (EmbeddedStack.route_database), so nothing restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

from harness.errors import StackError
from harness.stack.loopserver import LoopServer

__all__ = ["LatencyProxy"]

HOST = "127.0.0.1"
CHUNK = 64 * 1024


class LatencyProxy:
    """Forwards 127.0.0.1:`port` to the upstream of the first URL given to `route`.

    Attributes:
        latency: seconds added to every chunk the server sends (set any time, from any thread).
        port: where the proxy listens (after `start`).
        connections: client connections accepted so far.
    """

    def __init__(self) -> None:
        self.latency = 0.0
        self.port: int | None = None
        self.connections = 0
        self._upstream: tuple[str, int] | None = None
        self._server = LoopServer(
            "slow-database proxy",
            lambda loop: asyncio.start_server(self._handle, HOST, 0, reuse_address=True),
            self._close_all)
        self._writers: set[asyncio.StreamWriter] = set()

    def route(self, url: str) -> str:
        """`url` rewritten to go through the proxy (which starts on first use)."""
        parts = urlsplit(url)
        if not parts.hostname:
            raise StackError("the slow-database proxy needs a database URL with a host")
        self._upstream = (parts.hostname, parts.port or 5432)
        if self.port is None:
            self.start()
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{HOST}:{self.port}" if userinfo else f"{HOST}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def start(self) -> None:
        self.port = self._server.start()

    def stop(self) -> None:
        self._server.stop()

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.sleep(0), 1)

    async def _handle(self, client_reader: asyncio.StreamReader,
                      client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream = self._upstream
        if upstream is None:
            client_writer.close()
            return
        try:
            server_reader, server_writer = await asyncio.wait_for(
                asyncio.open_connection(*upstream), 10)
        except (OSError, TimeoutError):
            client_writer.close()
            return
        self._writers.update((client_writer, server_writer))
        try:
            await asyncio.gather(
                self._pump(client_reader, server_writer, delayed=False),
                self._pump(server_reader, client_writer, delayed=True),
            )
        finally:
            for writer in (client_writer, server_writer):
                self._writers.discard(writer)
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                    delayed: bool) -> None:
        """Copy until either side closes; the server's side is held `latency` per chunk."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(send())
        try:
            while True:
                data = await reader.read(CHUNK)
                due = loop.time() + (self.latency if delayed else 0.0)
                await queue.put((due, data))
                if not data:
                    break
            await sender
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender
            writer.close()  # one side gone: end the other, as a broken network path would
