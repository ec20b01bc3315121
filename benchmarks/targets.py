"""Local HTTP targets with known behaviour, for the load benchmark and the load tests.

One asyncio process on 127.0.0.1 (HTTP/1.1, keep-alive, GET only):

  /fast           200 at once
  /delay/<ms>     200 after <ms> milliseconds (the server measures how long it really held it)
  /stall          200 at once, except during a stall: every `--stall-every` seconds the server
                  holds every /stall request for `--stall-for` seconds (the first stall starts
                  `--stall-every` seconds after the server starts), answering them all at its end
  /stats          JSON: held-time percentiles of /delay requests (the truth to compare with)
                  and how many responses each path got
  /api/health/ready  200, so that `harness run --target` takes it for a stack
  /api/metrics    200, an empty Prometheus exposition: the stack's metrics endpoint answers

Run as `python -m benchmarks.targets --port 0`; it prints `ready PORT` on stdout once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

__all__ = ["main"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
_NO_METRICS = b"# benchmarks.targets exports no metrics\n"
_METRICS = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            b"Content-Length: " + str(len(_NO_METRICS)).encode() + b"\r\n\r\n" + _NO_METRICS)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Targets:
    def __init__(self, stall_every: float, stall_for: float) -> None:
        self.started = time.monotonic()
        self.stall_every = stall_every
        self.stall_for = stall_for
        self.held: list[float] = []  # seconds each /delay request was held, measured here
        self.served: dict[str, int] = {}  # responses written, per path

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
        held = sorted(self.held)

        def q(p: float) -> float | None:
            return round(held[min(len(held) - 1, int(p * len(held)))] * 1000.0, 4) if held else None

        body = json.dumps({"count": len(held), "p50_ms": q(0.50), "p99_ms": q(0.99),
                           "served": self.served}).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        return head % len(body) + body


class _Connection(asyncio.Protocol):
    def __init__(self, targets: Targets) -> None:
        self.targets = targets
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.queue.put_nowait(head.split(b"\r\n", 1)[0])

    async def _serve(self) -> None:  # one request at a time per connection, in order
        while True:
            line = await self.queue.get()
            parts = line.split(b" ")
            path = parts[1].decode() if len(parts) > 1 else "/"
            reply = await self._answer(path)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(reply)
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
    server = await loop.create_server(lambda: _Connection(targets), "127.0.0.1", port,
                                      backlog=4096, reuse_address=True)
    actual = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"ready {actual}\n")
    sys.stdout.flush()
    async with server:
        await asyncio.sleep(lifetime)  # bounded: it stops by itself


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
