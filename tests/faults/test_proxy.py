"""The latency proxy in front of the database: the URL rewritten to it, bytes forwarded both
ways, stopped cleanly."""

from __future__ import annotations

import socket
import socketserver
import threading

from harness.faults.proxy import LatencyProxy


class Echo(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    self.wfile.write(line)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_the_url_points_at_the_proxy_which_forwards_with_its_latency():
    upstream = Echo()
    proxy = LatencyProxy()
    try:
        url = proxy.route(f"postgresql://app:secret@127.0.0.1:{upstream.server_address[1]}/sd")
        assert url == f"postgresql://app:secret@127.0.0.1:{proxy.port}/sd"
        proxy.latency = 0.05
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
            conn.sendall(b"select 1\n")
            assert conn.makefile("rb").readline() == b"select 1\n"
        assert proxy.connections == 1
    finally:
        proxy.stop()
        upstream.shutdown()
        upstream.server_close()
