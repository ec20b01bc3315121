"""A Service for replica processes that follows readiness, as kube-proxy follows Endpoints.

Each new client connection goes to the next ready replica (round robin over `endpoints()`,
asked at every connection); a replica that leaves the endpoints (unready, or being ended) gets
no new connection, and the connections it already has stay with it until one side closes them,
as with kube-proxy's per-connection NAT. It is an L4 forwarder: it never retries a request.
A replica being ended stays in the endpoints for ENDPOINTS_LAG after its end began (the owner
of `endpoints()` keeps it): on Kubernetes the kubelet's SIGTERM and the endpoint's removal
race, and kube-proxy applies a removal at most every --iptables-min-sync-period (1 s by
default), which is why a pod must keep accepting for a moment after SIGTERM (a preStop sleep,
or the app's own drain).

Why not SO_REUSEPORT (the embedded stack's default): the kernel's reuseport group does not read
readiness, so a draining replica keeps receiving new connections until it closes its socket,
and closing it resets the connections still in its accept queue (measured: a SIGTERM under load
dropped requests in 2 of 6 runs with a drain, 3 of 4 without). A rollout ends every replica, so
a scenario with a rollout runs its replicas behind this.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from harness.stack.loopserver import LoopServer

__all__ = ["ENDPOINTS_LAG", "ReadinessService"]

HOST = "127.0.0.1"
CONNECT_TIMEOUT = 5.0
ENDPOINTS_LAG = 1.0  # seconds: kube-proxy's default --iptables-min-sync-period


class _Upstream(asyncio.Protocol):
    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.client.transport is not None:
            self.client.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.close()  # the replica closed: end the client's side, as a broken path


class _Client(asyncio.Protocol):
    def __init__(self, service: ReadinessService) -> None:
        self.service = service
        self.transport: asyncio.Transport | None = None
        self.upstream: _Upstream | None = None
        self.pending: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        port = self.service.pick()
        if port is None:
            self.service.refused += 1
            self.transport.abort()  # no ready endpoint: as a Service without endpoints, refused
            return
        self.service.connections += 1
        self.service.spawn(self._connect(port))

    async def _connect(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await asyncio.wait_for(
                loop.create_connection(lambda: _Upstream(self), HOST, port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            self.service.failed += 1
            if self.transport is not None:
                self.transport.abort()
            return
        if self.closed:
            upstream.transport.close()  # type: ignore[union-attr]
            return
        self.upstream = upstream
        for chunk in self.pending:
            upstream.transport.write(chunk)  # type: ignore[union-attr]
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.write(data)
        else:
            self.pending.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.close()


class ReadinessService:
    """Listens on 127.0.0.1 (the port `start` returns) and forwards to the ports `endpoints()`
    returns.

    Attributes:
        connections: client connections forwarded; refused: turned away with no endpoint;
        failed: the chosen replica refused the connection (it ended before it left the
            endpoints).
    """

    def __init__(self, endpoints: Callable[[], Sequence[int]]) -> None:
        self.endpoints = endpoints
        self.connections = 0
        self.refused = 0
        self.failed = 0
        self._turn = itertools.count()
        self._server = LoopServer("replicas' service", lambda loop: loop.create_server(
            lambda: _Client(self), HOST, 0, backlog=2048))
        self._tasks: set[asyncio.Task[None]] = set()

    def pick(self) -> int | None:
        ports = sorted(self.endpoints())
        return ports[next(self._turn) % len(ports)] if ports else None

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start(self) -> int:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()
