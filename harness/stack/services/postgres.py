"""PostgreSQL for the `local` backend: initdb into the run's folder, the bundled settings scaled
to this machine, a free port on 127.0.0.1, a database and role for the app; stopped on every exit.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness import paths
from harness.errors import DependencyError, StackError
from harness.stack import processes
from harness.stack.processes import ManagedProcess
from harness.stack.services.conffile import (
    base_instance_bytes,
    format_size,
    machine_share,
    parse_size,
    read_settings,
)

__all__ = [
    "ConnectionCounts",
    "PostgresServer",
    "count_connections",
    "find_binary",
    "scaled_settings",
]

MEMORY_SETTINGS = ("shared_buffers", "effective_cache_size", "maintenance_work_mem")
DATABASE = "servicedesk"
ROLE = "servicedesk"


# postmaster signals: SIGTERM smart, SIGINT fast, SIGQUIT immediate shutdown.
_SHUTDOWN = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "smart": signal.SIGTERM}


def find_binary(name: str) -> str:
    """A PostgreSQL server binary from PATH, or from Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise DependencyError(
        f"PostgreSQL's {name} was not found on PATH or in /usr/lib/postgresql/*/bin "
        "(install the postgresql package, or pass --database-url)"
    )


def scaled_settings(conf: Path | None = None, factor: float | None = None) -> dict[str, str]:
    """The bundled production settings with memory scaled to this machine."""
    source = conf or paths.stack_dir() / "postgres" / "postgresql.conf"
    settings = read_settings(source, "=")
    scale = machine_share(base_instance_bytes("postgres")) if factor is None else factor
    for key in MEMORY_SETTINGS:
        if key in settings:
            settings[key] = format_size(int(parse_size(settings[key]) * scale))
    return settings


@dataclass(frozen=True)
class ConnectionCounts:
    """Server-side connections, from pg_stat_activity."""

    total: int  # client backends
    active: int
    idle: int
    by_application: dict[str, int]


def count_connections(conninfo: str) -> ConnectionCounts:
    """Client connections now, by application_name and state (the app labels its sessions with
    the replica's name)."""
    with psycopg.connect(conninfo, connect_timeout=2) as conn:
        rows = conn.execute(
            "SELECT coalesce(application_name, ''), state, count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
            "GROUP BY 1, 2"
        ).fetchall()
    by_app: dict[str, int] = {}
    active = idle = 0
    for app, state, count in rows:
        by_app[app] = by_app.get(app, 0) + count
        if state == "active":
            active += count
        elif state and state.startswith("idle"):
            idle += count
    return ConnectionCounts(sum(by_app.values()), active, idle, by_app)


class PostgresServer:
    """One PostgreSQL server owned by the harness.

    Attributes:
        data_dir: the cluster's folder (initdb), inside the run's temporary folder.
        port: the TCP port on 127.0.0.1.
        settings: postgresql.conf values the server runs with.
    """

    def __init__(self, *, log_dir: Path, settings: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        # Its own folder in the system's temporary directory: when the harness runs as root,
        # PostgreSQL runs as another user, who must be able to reach the folder.
        self.work_dir = Path(tempfile.mkdtemp(prefix="harness-pg-"))
        self.log_dir = log_dir
        self.data_dir = self.work_dir / "pgdata"
        self.socket_dir = self.work_dir / "pgsocket"
        self.settings = dict(settings if settings is not None else scaled_settings())
        self.port = port or processes.free_port()
        self.password = secrets.token_urlsafe(18)
        self._process: ManagedProcess | None = None
        self._superuser = "postgres"

    @property
    def max_connections(self) -> int:
        return int(self.settings.get("max_connections", "100"))

    @property
    def reserved_connections(self) -> int:
        return int(self.settings.get("superuser_reserved_connections", "3"))

    @property
    def url(self) -> str:
        """The app's DATABASE_URL (holds a password: never print it; see harness.redact)."""
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """The superuser over the server's socket (never a password)."""
        return f"host={self.socket_dir} port={self.port} user={self._superuser} dbname={dbname}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.alive()

    def as_owner(self) -> tuple[list[str], int | None]:
        """PostgreSQL refuses to run as root: run it as the `postgres` (or `nobody`) user."""
        if os.geteuid() != 0:
            return [], None
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise DependencyError(
                "running as root needs `setpriv` (util-linux) to start PostgreSQL"
            )
        for user in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                continue
            return [setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                    "--clear-groups"], entry.pw_uid
        raise DependencyError("no unprivileged user (postgres or nobody) to run PostgreSQL as")

    def start(self) -> str:
        prefix, uid = self.as_owner()
        self.socket_dir.mkdir(exist_ok=True)
        if uid is not None:
            for folder in (self.work_dir, self.socket_dir):
                os.chown(folder, uid, -1)
        initdb = subprocess.run(
            [*prefix, find_binary("initdb"), "-D", str(self.data_dir), "-U", self._superuser,
             "--auth=trust", "--encoding=UTF8", "--no-instructions"],
            capture_output=True, text=True, timeout=120,
        )
        if initdb.returncode != 0:
            raise StackError(f"initdb failed: {initdb.stderr.strip().splitlines()[-1:]}")
        conf = dict(self.settings)
        conf.update({
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "logging_collector": "off",
            "log_destination": "stderr",
            # A test database on a shared machine: durability is not what is being measured.
            "fsync": "off",
            "synchronous_commit": "off",
        })
        lines = [f"{key} = '{value}'" for key, value in sorted(conf.items())]
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as handle:
            handle.write("\n# harness local backend\n" + "\n".join(lines) + "\n")
        with open(self.data_dir / "pg_hba.conf", "w", encoding="utf-8") as handle:
            handle.write("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        self._postmaster(prefix)
        self.wait_ready()
        self._create_app_role()
        return self.url

    def _postmaster(self, prefix: list[str]) -> None:
        self._process = processes.start(
            "postgres", [*prefix, find_binary("postgres"), "-D", str(self.data_dir)],
            env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            log_path=self.log_dir / "postgres.log",
        )

    def shutdown(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Stop the server, keeping its data directory (`fast`: roll back and disconnect
        clients; `immediate`: a crash, recovered from WAL at the next start; `smart`: wait for
        clients) and wait until the postmaster is gone."""
        process = self._process
        if process is None or not process.alive():
            raise StackError("PostgreSQL is not running")
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, _SHUTDOWN[mode])
        try:
            process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            processes.stop(process, timeout=5)
        self._process = None

    def kill(self) -> None:
        """Lose the server at once (SIGKILL to its process group): nothing is flushed."""
        process = self._process
        if process is None:
            raise StackError("PostgreSQL is not running")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.popen.wait(timeout=30)
        self._process = None

    def resume(self, attempts: int = 120) -> None:
        """Start the server again on its data directory and port; wait until it accepts
        connections (at most `attempts` half-seconds)."""
        prefix, _uid = self.as_owner()
        self._postmaster(prefix)
        self.wait_ready(attempts=attempts)

    def wait_ready(self, attempts: int = 60) -> None:
        import time

        for _ in range(attempts):
            if self._process is not None and not self._process.alive():
                raise StackError(f"postgres exited while starting: {self._process.log_tail()}")
            try:
                with psycopg.connect(self.admin_conninfo(), connect_timeout=2):
                    return
            except psycopg.Error:
                time.sleep(0.5)
        raise StackError(f"postgres did not accept connections on port {self.port}")

    def _create_app_role(self) -> None:
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    psycopg.sql.Identifier(ROLE), psycopg.sql.Literal(self.password)
                )
            )
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    psycopg.sql.Identifier(DATABASE), psycopg.sql.Identifier(ROLE)
                )
            )

    def connection_counts(self) -> ConnectionCounts:
        return count_connections(self.admin_conninfo())

    def stop(self) -> None:
        if self._process is not None:
            # SIGTERM is PostgreSQL's "smart" shutdown; SIGINT (fast) would be quicker, but the
            # group kill escalates to SIGKILL after the timeout anyway.
            processes.stop(self._process, timeout=15)
            self._process = None
        shutil.rmtree(self.work_dir, ignore_errors=True)
