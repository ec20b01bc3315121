"""The readiness-following service: new connections only to the endpoints of the moment,
connections already made stay where they are, no endpoint means no connection."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from harness.stack.service import ReadinessService


class Tagged(socketserver.ThreadingTCPServer):
    """Answers every line with its tag and the line."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tag: bytes) -> None:
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    self.wfile.write(outer.tag + b":" + line)

        self.tag = tag
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def backends() -> Iterator[tuple[Tagged, Tagged]]:
    a, b = Tagged(b"a"), Tagged(b"b")
    yield a, b
    for server in (a, b):
        server.shutdown()
        server.server_close()


def ask(conn: socket.socket, line: bytes) -> bytes:
    conn.sendall(line + b"\n")
    return conn.makefile("rb").readline().strip()


def test_new_connections_follow_the_endpoints_and_old_ones_stay(backends):
    a, b = backends
    endpoints = [a.port]
    service = ReadinessService(lambda: endpoints)
    port = service.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as first:
            assert ask(first, b"hello") == b"a:hello"
            endpoints[:] = [b.port]  # a turns unready (or is being ended)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as second:
                assert ask(second, b"x") == b"b:x"
            assert ask(first, b"still") == b"a:still"  # its connection was not moved or cut
        endpoints[:] = [a.port, b.port]
        seen = set()
        for _ in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                seen.add(ask(conn, b"rr")[:1])
        assert seen == {b"a", b"b"}  # round robin over both
        assert (service.connections, service.failed) == (6, 0)
    finally:
        service.stop()


def test_without_a_ready_endpoint_a_connection_is_refused():
    service = ReadinessService(list)
    port = service.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            try:
                data = conn.recv(1)
            except ConnectionResetError:
                data = b""
        assert data == b""
        assert service.refused == 1
    finally:
        service.stop()
