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
bytes were sent, and read with `recvmsg` and the kernel's receive stamp of every packet
(`SO_TIMESTAMPNS`): a request is timed from the one to the stamp of the last bytes it read,
whatever the loop did before or after. A request that opened its connection also counts the
handshake, as the kernel timed it (the round trip `TCP_INFO` holds right after connecting), not
the wait for the loop after it (the connect yields to every ready greenlet): in an open-model run
every paced user's first request opens one, and counting that wait put the harness 1.6-3.4 ms
over the server's own p99. TLS sockets and other clients keep the generator's clock (the report
says how many requests had the kernel's).
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from typing import Any

import gevent.socket
from gevent import getcurrent

__all__ = ["ANCILLARY_SPACE", "STAMP_OPTION", "ReceiveStamps", "handshake_seconds", "stamp_of"]

# struct timespec: seconds and nanoseconds, both native longs on Linux.
_TIMESPEC = struct.Struct("@ll")
# Linux's struct tcp_info: tcpi_rtt (µs, u32) follows 8 bytes of u8 fields and 15 u32s.
_RTT = struct.Struct("@I")
_RTT_OFFSET = 68
_TCP_INFO = getattr(socket, "TCP_INFO", None)
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


def handshake_seconds(sock: socket.socket) -> float | None:
    """The round trip a just-connected TCP socket's handshake took, by the kernel (None where
    it does not say)."""
    if _TCP_INFO is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _RTT_OFFSET + _RTT.size)
    except OSError:
        return None
    if len(info) < _RTT_OFFSET + _RTT.size:
        return None
    return float(_RTT.unpack_from(info, _RTT_OFFSET)[0]) / 1e6


class ReceiveStamps:
    """Per greenlet: when its request's first bytes were sent, the handshake of the connection
    it opened (if it did), and the kernel's receive stamp of the last bytes it read."""

    def __init__(self) -> None:
        # By the greenlet's id: a plain dict costs least on every read (a weak one makes a
        # weak reference each time). An entry outlives a greenlet killed mid-request (a few
        # bytes per stopped user) until a request on a greenlet with that id starts.
        self._last: dict[int, tuple[int, int, bytes]] = {}
        self._began: dict[int, float] = {}
        self._handshake: dict[int, float] = {}

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

        # The send's note and the read's bookkeeping kept to a dict write each: these run
        # on every read and send. The control message is checked once per request, in
        # `arrival_ms`.
        began, last, handshake, clock = self._began, self._last, self._handshake, time.time
        receive, send = gevent.socket.socket.recvmsg, gevent.socket.socket.sendall
        connect = gevent.socket.socket.connect

        class StampingSocket(gevent.socket.socket):  # type: ignore[misc, name-defined]
            def recv(self, size: int, flags: int = 0) -> bytes:
                data, ancillary, _, _ = receive(self, size, ANCILLARY_SPACE, flags)
                if ancillary:
                    last[id(getcurrent())] = ancillary[-1]
                return data  # type: ignore[no-any-return]

            def connect(self, address: Any) -> None:
                began_connect = clock()
                connect(self, address)  # yields to the loop until connected
                took = handshake_seconds(self)
                # Where the kernel does not say, the whole connect counts, the loop's wait too.
                handshake[id(getcurrent())] = clock() - began_connect if took is None else took

            def sendall(self, data: bytes, flags: int = 0) -> None:
                key = id(getcurrent())
                if key not in began:
                    began[key] = clock()
                send(self, data, flags)

        class StampingPool(ConnectionPool):
            # The pool's socket factory, which geventhttpclient leaves to subclasses.
            def _create_tcp_socket(self, family: int, socktype: int,
                                   protocol: int) -> gevent.socket.socket:
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
        self._handshake.pop(key, None)

    def arrival_ms(self, start_time: float | None) -> float | None:
        """The request this greenlet just finished (Locust's `start_time`, epoch seconds),
        from its first bytes sent to its last bytes' arrival, plus its connection's handshake
        if it opened one; None where no stamp of this request exists (a stamp outside [start,
        now] is not this request's)."""
        key = id(getcurrent())
        began, message = self._began.pop(key, None), self._last.pop(key, None)
        handshake = self._handshake.pop(key, 0.0)
        if message is None or start_time is None:
            return None
        if began is None or began < start_time:  # not sent (or started outside `start`)
            began = start_time
        received = stamp_of(message)
        if received is None or not began <= received <= time.time():
            return None
        return (received - began + handshake) * 1000.0
