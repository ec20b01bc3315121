"""A server on a loop of its own: it answers from its thread, stops, and a failed start names
the server."""

from __future__ import annotations

import asyncio
import socket

import pytest

from harness.errors import StackError
from harness.stack.loopserver import LoopServer


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()


def test_it_serves_until_stopped_and_runs_its_close():
    closed = []

    async def close() -> None:
        closed.append(True)

    server = LoopServer("echo", lambda loop: asyncio.start_server(_echo, "127.0.0.1", 0), close)
    port = server.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"ping\n")
            assert conn.makefile("rb").readline() == b"ping\n"
    finally:
        server.stop()
    assert closed == [True]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_server_that_cannot_listen_is_named():
    async def broken(loop: asyncio.AbstractEventLoop) -> asyncio.Server:
        raise OSError("address in use")

    with pytest.raises(StackError, match="the echo did not start"):
        LoopServer("echo", broken).start()
