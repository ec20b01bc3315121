"""Run one replica under uvicorn (uvloop + httptools), on sockets bound here.

With REUSE_PORT=true the public socket is bound with SO_REUSEPORT, so N replica processes
share PORT and the kernel balances new connections between them (how the embedded stack
emulates a Kubernetes Service). ADMIN_PORT, when set, is a second socket of this replica only,
serving the same app, so one replica can be scraped and probed directly.

SIGTERM (GRACEFUL_SHUTDOWN=true, the default) drains: readiness answers 503 "draining" at once,
the replica keeps serving for SHUTDOWN_DRAIN_SECONDS (answering with ``Connection: close`` so
keep-alive clients move to other replicas), takes in the connections already queued at its
listeners, then uvicorn closes the listeners and idle connections, waits for requests in flight
(at most GRACEFUL_SHUTDOWN_SECONDS) and the process exits 0. With GRACEFUL_SHUTDOWN=false the
drain is skipped: the listeners close at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from types import FrameType

import uvicorn

from .app import ServiceDeskApp, create_app
from .settings import Settings

__all__ = ["ServerError", "bind_socket", "build_sockets", "serve"]

log = logging.getLogger(__name__)

BACKLOG = 2048
GRACEFUL_SHUTDOWN_SECONDS = 10
# After the drain, how long the loop gets to accept and read what is queued at the listeners
# before they close: a few of its iterations.
QUEUE_SETTLE_SECONDS = 0.05


class ServerError(Exception):
    """The replica could not start (a port is taken, the database is unreachable...)."""


def bind_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(False)
    return sock


def build_sockets(settings: Settings) -> list[socket.socket]:
    sockets = [bind_socket(settings.host, settings.port, reuse_port=settings.reuse_port)]
    if settings.admin_port is not None:
        try:
            sockets.append(bind_socket(settings.host, settings.admin_port, reuse_port=False))
        except ServerError:
            sockets[0].close()
            raise
    return sockets


def serve(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; returns the process exit status."""
    app = create_app(settings)
    sockets = build_sockets(settings)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=settings.log_level,
        server_header=False,
        backlog=BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = DrainingServer(config, app, settings)
    log.info(
        "servicedesk listening",
        extra={
            "fields": {
                "pid": os.getpid(),
                "port": settings.port,
                "admin_port": settings.admin_port,
                "reuse_port": settings.reuse_port,
                "settings": settings.redacted(),
            }
        },
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal; this handler turns
    # that final re-raise into a clean exit (0), as orchestrators expect after a drain.
    previous = signal.signal(signal.SIGTERM, _exit_after_drain)
    try:
        server.run(sockets=sockets)
    except SystemExit as exc:
        if exc.code != 0:
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain between SIGTERM and its own graceful shutdown."""

    def __init__(self, config: uvicorn.Config, app: ServiceDeskApp, settings: Settings) -> None:
        super().__init__(config)
        self._app = app
        self._graceful = settings.graceful_shutdown
        self._drain_seconds = settings.shutdown_drain_seconds
        self._drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._graceful or sig != signal.SIGTERM or self._drain_until is not None:
            super().handle_exit(sig, frame)  # SIGINT, a second SIGTERM, or no drain: stop now
            return
        self._captured_signals.append(sig)  # re-raised after shutdown -> _exit_after_drain
        self._app.ctx.state.draining = True
        self._drain_until = time.monotonic() + self._drain_seconds
        log.info("draining", extra={"fields": {"seconds": self._drain_seconds}})

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._drain_until is not None:
            await self._take_in_the_queue()
        await super().shutdown(sockets)

    async def _take_in_the_queue(self) -> None:
        """Connections the kernel completed but the replica had not accepted yet (its loop was
        busy) would be reset when the listeners close, and accepted ones not yet read would be
        closed unanswered: their clients sent a request a proxy must not retry if it is a POST
        (measured behind nginx at peak: 4 POSTs lost in a rollout). So the queues shrink to
        one place and the loop accepts and reads what is there before uvicorn closes."""
        for server in self.servers:
            for listener in server.sockets:
                with socket.socket(fileno=os.dup(listener.fileno())) as same:
                    same.listen(0)
        await asyncio.sleep(QUEUE_SETTLE_SECONDS)

    async def on_tick(self, counter: int) -> bool:
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


def _exit_after_drain(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
