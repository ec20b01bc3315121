"""Run one replica under uvicorn (uvloop + httptools), on sockets bound here.

With REUSE_PORT=true the public socket is bound with SO_REUSEPORT, so N replica processes
share PORT and the kernel balances new connections between them (how the embedded stack
emulates a Kubernetes Service). ADMIN_PORT, when set, is a second socket of this replica only,
serving the same app, so one replica can be scraped and probed directly.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from types import FrameType

import uvicorn

from .app import create_app
from .settings import Settings

__all__ = ["ServerError", "bind_socket", "build_sockets", "serve"]

log = logging.getLogger(__name__)

BACKLOG = 2048
GRACEFUL_SHUTDOWN_SECONDS = 10


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
    server = uvicorn.Server(config)
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


def _exit_after_drain(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
