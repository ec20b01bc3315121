"""Acts on the servers the `local` backend runs: restart PostgreSQL, stop and start Redis, hold a
table lock. Each act is bounded in time and leaves the server as it found it.

PostgresServer has no restart of its own: these reach into the process it started (its
postmaster) and start the same command again on the same data directory and port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

import psycopg

from harness.errors import StackError
from harness.stack import processes
from harness.stack.services.postgres import DATABASE, PostgresServer, find_binary
from harness.stack.services.redis import RedisServer

__all__ = ["hold_table_lock", "start_postgres", "stop_postgres", "stop_redis", "start_redis"]

_SHUTDOWN = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "smart": signal.SIGTERM}


def stop_postgres(server: PostgresServer, mode: str = "fast", timeout: float = 60.0) -> None:
    """Shut the server down (`fast`: roll back and disconnect clients; `immediate`: a crash,
    recovered from WAL at the next start) and wait until the postmaster is gone."""
    process = server._process  # noqa: SLF001 - see the module docstring
    if process is None or not process.alive():
        raise StackError("PostgreSQL is not running")
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, _SHUTDOWN[mode])
    try:
        process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        processes.stop(process, timeout=5)
    server._process = None  # noqa: SLF001


def start_postgres(server: PostgresServer, attempts: int = 120) -> None:
    """Start the server again on its data directory and port; wait until it accepts
    connections (at most `attempts` half-seconds)."""
    prefix, _uid = server._as_owner()  # noqa: SLF001
    server._process = processes.start(  # noqa: SLF001
        "postgres", [*prefix, find_binary("postgres"), "-D", str(server.data_dir)],
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
        log_path=server.log_dir / "postgres.log",
    )
    server._wait_ready(attempts=attempts)  # noqa: SLF001


def admin_conninfo(server: PostgresServer, dbname: str = DATABASE) -> str:
    """The superuser over the server's socket (never a password)."""
    return f"host={server.socket_dir} port={server.port} user=postgres dbname={dbname}"


def stop_redis(server: RedisServer) -> None:
    server.stop()


def start_redis(server: RedisServer) -> None:
    """Start it again on the same port, with the same appendonly data."""
    server.start()


def hold_table_lock(server: PostgresServer, table: str, seconds: float, stop: threading.Event,
                    acquired: threading.Event | None = None) -> float:
    """Hold ACCESS EXCLUSIVE on `table` for `seconds` (or until `stop`); returns the epoch time
    the lock was granted. Waiting for the lock is bounded by lock_timeout (10 s)."""
    if table not in ("tickets", "comments", "users"):
        raise StackError(f"not an app table: {table}")
    with psycopg.connect(admin_conninfo(server), connect_timeout=5, autocommit=False) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("SET application_name = 'harness-fault'")
        try:
            conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # noqa: S608 - fixed names
        except psycopg.Error as exc:
            raise StackError(f"could not lock {table}: {str(exc).strip()}") from None
        granted = time.time()
        if acquired is not None:
            acquired.set()
        stop.wait(seconds)
        conn.rollback()
    return granted
