"""When a request's bytes left this machine and its response's bytes reached it.

A generator records a request's latency from when its code asked for it until its greenlet
resumes after the last read. Both ends carry the generator's own delays: a response that
arrived while the event loop ran other greenlets (or while the process waited for a core)
waits for them, and a request waits before it is sent (geventhttpclient checks a pooled
connection with gevent's `select`, which yields to every other ready greenlet first: measured
0.6 ms median, 1.5 ms p99 with 20 users; the OS's select, which does not yield, cost a fifth
more CPU per request, why was not broken down). Both grow with the responses that arrive
together.

So the sockets the HTTP clients of Locust's FastHttpUser open here note when a request's first
bytes were sent (or its connection was opened, for a new one), and read with `recvmsg` and the
kernel's receive stamp of every packet (`SO_TIMESTAMPNS`): a request is timed from the one to
the stamp of the last bytes it read, whatever the loop did before or after. TLS sockets and
other clients keep the generator's clock (the report says how many requests had the kernel's).
"""

from __future__ import annotations

import socket
import struct
import sys
import time

import gevent.socket
from gevent import getcurrent

__all__ = ["ANCILLARY_SPACE", "STAMP_OPTION", "ReceiveStamps", "stamp_of"]

# struct timespec: seconds and nanoseconds, both native longs on Linux.
_TIMESPEC = struct.Struct("@ll")
# What `recvmsg` needs room for to return a receive stamp.
ANCILLARY_SPACE = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
# Python names no SO_TIMESTAMPNS; 35 is Linux's (asm-generic, x86 and arm alike), which is also
# the control message's type (SCM_TIMESTAMPNS).
STAMP_OPTION = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)


def stamp_of(message: tuple[int, int, bytes]) -> float | None:
    """The kernel's receive stamp (epoch seconds) in one of `recvmsg`'s control messages, or
    None if it is not one."""
    level, kind, payload = message
    if level != socket.SOL_SOCKET or kind != STAMP_OPTION or len(payload) < _TIMESPEC.size:
        return None
    seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
    return float(seconds + nanoseconds / 1e9)


class ReceiveStamps:
    """Per greenlet: when its request first touched the network, and the kernel's receive
    stamp of the last bytes it read."""

    def __init__(self) -> None:
        # By the greenlet's id: a plain dict costs least on every read (a weak one makes a
        # weak reference each time). An entry outlives a greenlet killed mid-request (a few
        # bytes per stopped user) until a request on a greenlet with that id starts.
        self._last: dict[int, tuple[int, int, bytes]] = {}
        self._began: dict[int, float] = {}

    @staticmethod
    def available() -> bool:
        return STAMP_OPTION is not None and ANCILLARY_SPACE > 0

    def install(self) -> bool:
        """Make the connection pools of geventhttpclient's HTTP clients (FastHttpUser's) open
        stamping sockets; False where the OS has no receive stamps."""
        if not self.available():
            return False
        import geventhttpclient.client
        from geventhttpclient.connectionpool import ConnectionPool

        # `begin` inlined in `sendall`, and the read's bookkeeping kept to a dict write: these run
        # on every read and send. The control message is checked once per request, in
        # `arrival_ms`.
        began, last, clock = self._began, self._last, time.time
        receive, send = gevent.socket.socket.recvmsg, gevent.socket.socket.sendall

        class StampingSocket(gevent.socket.socket):  # type: ignore[misc, name-defined]
            def recv(self, size: int, flags: int = 0) -> bytes:
                data, ancillary, _, _ = receive(self, size, ANCILLARY_SPACE, flags)
                if ancillary:
                    last[id(getcurrent())] = ancillary[-1]
                return data  # type: ignore[no-any-return]

            def sendall(self, data: bytes, flags: int = 0) -> None:
                key = id(getcurrent())
                if key not in began:
                    began[key] = clock()
                send(self, data, flags)

        stamps = self

        class StampingPool(ConnectionPool):
            # The pool's socket factory, which geventhttpclient leaves to subclasses.
            def _create_tcp_socket(self, family: int, socktype: int,
                                   protocol: int) -> gevent.socket.socket:
                stamps.begin()  # a new connection's set-up is the request's
                sock = StampingSocket(family, socktype, protocol)
                sock.setsockopt(socket.SOL_SOCKET, STAMP_OPTION, 1)
                return sock

        geventhttpclient.client.ConnectionPool = StampingPool  # type: ignore[misc]
        return True

    def start(self) -> None:
        """A request starts on this greenlet: what an earlier one left is not its."""
        key = id(getcurrent())
        self._began.pop(key, None)
        self._last.pop(key, None)

    def begin(self) -> None:
        """This greenlet's request touches the network now, unless it already had."""
        key = id(getcurrent())
        if key not in self._began:
            self._began[key] = time.time()

    def arrival_ms(self, start_time: float | None) -> float | None:
        """The request this greenlet just finished (Locust's `start_time`, epoch seconds),
        from its first bytes sent or its connection opened to its last bytes' arrival; None
        where no stamp of this request exists (a stamp outside [start, now] is not this
        request's)."""
        key = id(getcurrent())
        began, message = self._began.pop(key, None), self._last.pop(key, None)
        if message is None or start_time is None:
            return None
        if began is None or began < start_time:  # not sent (or started outside `start`)
            began = start_time
        received = stamp_of(message)
        if received is None or not began <= received <= time.time():
            return None
        return (received - began) * 1000.0
