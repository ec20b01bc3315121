"""Acts on the servers the `local` backend runs: stop and start Redis, hold a table lock (a
PostgreSQL restart is the server's own: PostgresServer.shutdown and resume). Each act is bounded
in time and leaves the server as it found it.
"""

from __future__ import annotations

import threading
import time

import psycopg

from harness.errors import StackError
from harness.stack.capabilities import ManagedPostgres, ManagedRedis
from harness.stack.services.postgres import DATABASE

__all__ = ["admin_conninfo", "hold_table_lock", "start_redis", "stop_redis"]

def admin_conninfo(server: ManagedPostgres, dbname: str = DATABASE) -> str:
    """The superuser over the server's socket (never a password), on the app's database."""
    return server.admin_conninfo(dbname)


def stop_redis(server: ManagedRedis) -> None:
    server.stop()


def start_redis(server: ManagedRedis) -> None:
    """Start it again on the same port, with the same appendonly data."""
    server.start()


def hold_table_lock(server: ManagedPostgres, table: str, seconds: float, stop: threading.Event,
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
