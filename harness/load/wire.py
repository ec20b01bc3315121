"""When a response's bytes reached this machine, as the kernel stamped them.

A generator records a request's latency when its greenlet resumes after the last read; a
response that arrived while the event loop ran other greenlets (or while the process waited for
a core) carries that wait in its latency, and the wait grows with the responses that arrive
together. The kernel stamps every received packet (`SO_TIMESTAMPNS`): the sockets the HTTP
clients of Locust's FastHttpUser open here read with `recvmsg` and keep the stamp of the last
data each greenlet read, so a request can be timed from its start to the moment its last bytes
arrived, whatever the loop did after. TLS sockets and other clients keep the generator's clock
(the report says how many requests had the kernel's).
"""

from __future__ import annotations

import socket
import struct
import sys
import time
import weakref
from typing import Any

import gevent.socket
from gevent import getcurrent

__all__ = ["STAMP_OPTION", "ReceiveStamps"]

# struct timespec: seconds and nanoseconds, both native longs on Linux.
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
# Python names no SO_TIMESTAMPNS; 35 is Linux's (asm-generic, x86 and arm alike), which is also
# the control message's type (SCM_TIMESTAMPNS).
STAMP_OPTION = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)


class ReceiveStamps:
    """The kernel's receive time (epoch seconds) of the last bytes each greenlet read."""

    def __init__(self) -> None:
        self._last: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    @staticmethod
    def available() -> bool:
        return STAMP_OPTION is not None and _ANCILLARY > 0

    def install(self) -> bool:
        """Make the connection pools of geventhttpclient's HTTP clients (FastHttpUser's) open
        stamping sockets; False where the OS has no receive stamps."""
        if not self.available():
            return False
        import geventhttpclient.client
        from geventhttpclient.connectionpool import ConnectionPool

        stamps = self

        class StampingSocket(gevent.socket.socket):  # type: ignore[misc, name-defined]
            def recv(self, size: int, flags: int = 0) -> bytes:
                data, ancillary, _, _ = self.recvmsg(size, _ANCILLARY, flags)
                stamps.note(ancillary)
                return data  # type: ignore[no-any-return]

        class StampingPool(ConnectionPool):
            # The pool's socket factory, which geventhttpclient leaves to subclasses.
            def _create_tcp_socket(self, family: int, socktype: int,
                                   protocol: int) -> gevent.socket.socket:
                sock = StampingSocket(family, socktype, protocol)
                sock.setsockopt(socket.SOL_SOCKET, STAMP_OPTION, 1)
                return sock

        geventhttpclient.client.ConnectionPool = StampingPool  # type: ignore[misc]
        return True

    def note(self, ancillary: list[tuple[int, int, bytes]]) -> None:
        for level, kind, payload in ancillary:
            stamp = level == socket.SOL_SOCKET and kind == STAMP_OPTION
            if stamp and len(payload) >= _TIMESPEC.size:
                seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                self._last[getcurrent()] = seconds + nanoseconds / 1e9

    def arrival_ms(self, start_time: float | None) -> float | None:
        """The request this greenlet just finished, from `start_time` (epoch seconds, as Locust
        gives it) to its last bytes' arrival; None where no stamp of this request exists (a
        stamp outside [start, now] is not this request's)."""
        received = self._last.pop(getcurrent(), None)
        if received is None or start_time is None or not start_time <= received <= time.time():
            return None
        return (received - start_time) * 1000.0
