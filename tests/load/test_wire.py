"""harness.load.wire: a response is timed to its arrival, not to when the loop got to it."""

import socket
import subprocess
import sys
import time
from collections.abc import Callable

import gevent
import gevent.select
import gevent.socket
import geventhttpclient.client
import geventhttpclient.connectionpool
import pytest
from geventhttpclient import HTTPClient

from harness.load.wire import STAMP_OPTION, ReceiveStamps, handshake_seconds

# Answers every request after 50 ms, the whole response in one write (no Nagle delay).
SERVER = """
import socket, sys, time
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
while True:
    request = b""
    while b"\\r\\n\\r\\n" not in request:
        chunk = connection.recv(4096)
        if not chunk:
            sys.exit(0)
        request += chunk
    time.sleep(0.05)
    connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
"""


@pytest.fixture
def server_port():
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    yield int(server.stdout.readline())
    server.kill()
    server.wait()


@pytest.fixture
def stamps():
    original = geventhttpclient.client.ConnectionPool
    stamps = ReceiveStamps()
    yield stamps
    geventhttpclient.client.ConnectionPool = original


def _hold_the_loop(after: float, seconds: float) -> None:
    gevent.sleep(after)
    _spin(seconds)


def _beside(client: HTTPClient, stamps: ReceiveStamps,
            hold: Callable[[], None]) -> list[tuple[float, float | None]]:
    """Three requests, each with `hold` started in another greenlet just before it: (Locust's
    clock in ms, the wire's) for each."""
    timings = []
    for _ in range(3):
        busy = gevent.spawn(hold)
        stamps.start()
        start, began = time.time(), time.perf_counter()
        client.get("/").read()
        measured = (time.perf_counter() - began) * 1000.0
        timings.append((measured, stamps.arrival_ms(start)))
        busy.join()
    return timings


@pytest.mark.skipif(not ReceiveStamps.available(), reason="no kernel receive stamps here")
def test_a_response_is_timed_to_its_arrival_when_the_loop_was_busy(server_port, stamps):
    assert stamps.install()
    client = HTTPClient("127.0.0.1", server_port)
    client.get("/").read()  # connected: the timed requests below reuse the connection
    # Another greenlet holds the loop from 30 to 80 ms: the response (at 50 ms) waits.
    for measured, arrival in _beside(client, stamps, lambda: _hold_the_loop(0.03, 0.05)):
        assert measured >= 79.0
        assert arrival is not None
        assert 49.0 <= arrival < 65.0  # the server's 50 ms and loopback, not the loop's hold


def _timespec(epoch: float) -> bytes:
    seconds = int(epoch)
    nanoseconds = int((epoch - seconds) * 1e9)
    return seconds.to_bytes(8, sys.byteorder) + nanoseconds.to_bytes(8, sys.byteorder)


def _spin(seconds: float) -> None:
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        pass


@pytest.mark.skipif(not ReceiveStamps.available(), reason="no kernel receive stamps here")
def test_a_request_is_timed_from_when_it_was_sent_when_the_loop_held_it_back(
        server_port, stamps, monkeypatch):
    # As in Locust's process, which monkey-patches select for gevent.
    monkeypatch.setattr(geventhttpclient.connectionpool, "select", gevent.select)
    assert stamps.install()
    client = HTTPClient("127.0.0.1", server_port)
    client.get("/").read()
    # Checking the pooled connection yields to every ready greenlet (gevent's select), and
    # this one holds the loop 30 ms before the request is sent.
    for measured, arrival in _beside(client, stamps, lambda: _spin(0.03)):
        assert measured >= 79.0
        assert arrival is not None
        assert 49.0 <= arrival < 65.0


@pytest.mark.skipif(not ReceiveStamps.available(), reason="no kernel receive stamps here")
def test_a_new_connection_counts_its_handshake_not_the_loops_wait_after_it(
        server_port, stamps, monkeypatch):
    connect = gevent.socket.socket.connect

    def connect_then_wait(sock, address):  # the loop runs others 30 ms before it resumes
        connect(sock, address)
        _spin(0.03)

    monkeypatch.setattr(gevent.socket.socket, "connect", connect_then_wait)
    assert stamps.install()
    stamps.start()
    start, began = time.time(), time.perf_counter()
    HTTPClient("127.0.0.1", server_port).get("/").read()
    measured = (time.perf_counter() - began) * 1000.0
    arrival = stamps.arrival_ms(start)
    assert measured >= 79.0
    assert arrival is not None and 49.0 <= arrival < 65.0  # the handshake: microseconds
    assert stamps.arrival_ms(time.time()) is None  # taken: the next request has its own


def test_the_kernel_times_a_handshake():
    with (socket.create_server(("127.0.0.1", 0)) as listener,
          socket.create_connection(listener.getsockname()) as sock):
        took = handshake_seconds(sock)
    assert took is not None and 0.0 < took < 0.05  # loopback: microseconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        assert handshake_seconds(udp) is None


@pytest.mark.skipif(not ReceiveStamps.available(), reason="no kernel receive stamps here")
def test_without_a_stamp_of_this_request_there_is_no_arrival(stamps):
    assert stamps.arrival_ms(time.time()) is None  # nothing read
    stamp = ReceiveStamps()
    stamp._last[id(gevent.getcurrent())] = (socket.SOL_SOCKET, STAMP_OPTION,
                                            _timespec(time.time() - 60))
    # A stamp from before the request started belongs to an earlier one.
    assert stamp.arrival_ms(time.time()) is None
    # What an earlier request on this greenlet left (one killed mid-request) is not the next's.
    stamp._began[id(gevent.getcurrent())] = time.time()
    stamp._last[id(gevent.getcurrent())] = (socket.SOL_SOCKET, STAMP_OPTION,
                                            _timespec(time.time()))
    stamp.start()
    assert stamp.arrival_ms(time.time() - 1) is None
