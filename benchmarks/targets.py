"""Local HTTP targets with known behaviour, for the load benchmark and the load tests.

One asyncio process on 127.0.0.1 (HTTP/1.1, keep-alive, GET only):

  /fast           200 at once
  /delay/<ms>     200 after <ms> milliseconds (the server measures how long it really held it,
                  and how long from the request's arrival, by the kernel's receive stamp, to its
                  reply's write: what a perfect client would measure)
  /stall          200 at once, except during a stall: every `--stall-every` seconds the server
                  holds every /stall request for `--stall-for` seconds (the first stall starts
                  `--stall-every` seconds after the server starts), answering them all at its end
  /stats          JSON: held-time percentiles of /delay requests (the truth to compare with),
                  the same from arrival to reply, how many responses each path got, how many
                  connections were accepted, and the share of the time it served /delay that
                  its loop waited for a core (the kernel's run-queue wait: what a tool's own CPU
                  cost the target when both share the machine's cores)
  /api/health/ready  200, so that `harness run --target` takes it for a stack
  /api/metrics    200, an empty Prometheus exposition: the stack's metrics endpoint answers

Run as `python -m benchmarks.targets --port 0`; it prints `ready PORT` on stdout once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from pathlib import Path

from harness.load.priority import SCHEDSTAT, cpu_wait_seconds
from harness.load.wire import ANCILLARY_SPACE, STAMP_OPTION, stamp_of

__all__ = ["main"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
_NO_METRICS = b"# benchmarks.targets exports no metrics\n"
_METRICS = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            b"Content-Length: " + str(len(_NO_METRICS)).encode() + b"\r\n\r\n" + _NO_METRICS)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Targets:
    def __init__(self, stall_every: float, stall_for: float,
                 schedstat: Path = SCHEDSTAT) -> None:
        self.started = time.monotonic()
        self.schedstat = schedstat  # the loop thread's (stats() runs on it)
        self.delay_span: tuple[float, float] | None = None  # first arrival, last reply (monotonic)
        self.stall_every = stall_every
        self.stall_for = stall_for
        self.held: list[float] = []  # seconds each /delay request was held, measured here
        self.replied: list[float] = []  # seconds from each /delay request's arrival to its reply
        self.served: dict[str, int] = {}  # responses written, per path
        self.connections = 0  # accepted

    def stall_left(self) -> float:
        """Seconds until the current stall ends, 0 outside a stall."""
        if self.stall_every <= 0:
            return 0.0
        elapsed = time.monotonic() - self.started
        if elapsed < self.stall_every:
            return 0.0
        into = (elapsed - self.stall_every) % self.stall_every
        return self.stall_for - into if into < self.stall_for else 0.0

    def stats(self) -> bytes:
        def q(values: list[float], p: float) -> float | None:
            ordered = sorted(values)
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000.0, 4)

        body = json.dumps({"count": len(self.held), "p50_ms": q(self.held, 0.50),
                           "p99_ms": q(self.held, 0.99),
                           "replied_p50_ms": q(self.replied, 0.50),
                           "replied_p99_ms": q(self.replied, 0.99),
                           "served": self.served, "connections": self.connections,
                           "cpu_wait_percent": self.cpu_wait_percent()}).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        return head % len(body) + body

    def served_delay(self, arrived: float, replied: float) -> None:
        """One /delay request's arrival and reply (monotonic seconds)."""
        first = arrived if self.delay_span is None else min(self.delay_span[0], arrived)
        self.delay_span = (first, replied)

    def cpu_wait_percent(self) -> float | None:
        """The loop's wait for a core since it started, as a share of the span over which it
        served /delay (idle, it waits for nothing, so the whole wait falls within the span)."""
        wait = cpu_wait_seconds(self.schedstat)
        if wait is None or self.delay_span is None:
            return None
        span = self.delay_span[1] - self.delay_span[0]
        return round(100.0 * wait / span, 3) if span > 0 else None


class _Connection:
    """One accepted connection, read with `recvmsg` so that each request carries the kernel's
    stamp of its arrival (an asyncio Protocol is handed the bytes without it)."""

    def __init__(self, sock: socket.socket, targets: Targets,
                 open_connections: set[_Connection]) -> None:
        self.sock = sock
        self.targets = targets
        self.loop = asyncio.get_running_loop()
        self.buffer = b""
        self.queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
        self.open = open_connections
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if STAMP_OPTION is not None:
            sock.setsockopt(socket.SOL_SOCKET, STAMP_OPTION, 1)
        self.loop.add_reader(sock.fileno(), self._readable)
        self.task = self.loop.create_task(self._serve())
        open_connections.add(self)

    def close(self) -> None:
        if self in self.open:
            self.open.discard(self)
            self.loop.remove_reader(self.sock.fileno())
            self.task.cancel()
            self.sock.close()

    def _readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65536, ANCILLARY_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        if not data:
            self.close()
            return
        arrived = stamp_of(ancillary[-1]) if ancillary else None
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.queue.put_nowait((head.split(b"\r\n", 1)[0], arrived or time.time()))

    async def _serve(self) -> None:  # one request at a time per connection, in order
        while True:
            line, arrived = await self.queue.get()
            parts = line.split(b" ")
            path = parts[1].decode() if len(parts) > 1 else "/"
            reply = await self._answer(path)
            # Stamped before the write: once the reply is out, the client may already have it
            # (and stop this process, as a test does) before a later stamp would be taken.
            replied, now = time.time(), time.monotonic()
            try:
                await self.loop.sock_sendall(self.sock, reply)
            except OSError:
                self.close()
                return
            if path.startswith("/delay/"):
                took = replied - arrived
                self.targets.replied.append(took)
                self.targets.served_delay(now - took, now)
            served = self.targets.served
            served[path] = served.get(path, 0) + 1

    async def _answer(self, path: str) -> bytes:
        if path == "/fast":
            return _OK
        if path.startswith("/delay/"):
            began = time.perf_counter()
            await asyncio.sleep(float(path.rsplit("/", 1)[1]) / 1000.0)
            self.targets.held.append(time.perf_counter() - began)
            return _OK
        if path == "/stall":
            left = self.targets.stall_left()
            if left > 0:
                await asyncio.sleep(left)
            return _OK
        if path == "/stats":
            return self.targets.stats()
        if path == "/api/health/ready":  # so `harness run --target` accepts it
            return _OK
        if path == "/api/metrics":  # scraped by `harness run --target`; nothing to report
            return _METRICS
        return _NOT_FOUND


async def _run(port: int, stall_every: float, stall_for: float, lifetime: float) -> None:
    targets = Targets(stall_every, stall_for)
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    listener.setblocking(False)
    open_connections: set[_Connection] = set()

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            targets.connections += 1
            _Connection(sock, targets, open_connections)

    loop.add_reader(listener.fileno(), accept)
    sys.stdout.write(f"ready {listener.getsockname()[1]}\n")
    sys.stdout.flush()
    try:
        await asyncio.sleep(lifetime)  # bounded: it stops by itself
    finally:
        loop.remove_reader(listener.fileno())
        listener.close()
        for connection in list(open_connections):
            connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.targets")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stall-every", type=float, default=0.0)
    parser.add_argument("--stall-for", type=float, default=1.0)
    parser.add_argument("--lifetime", type=float, default=3600.0, help="seconds, then exit")
    args = parser.parse_args(argv)
    asyncio.run(_run(args.port, args.stall_every, args.stall_for, args.lifetime))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
