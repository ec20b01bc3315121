"""The database side of the backup-restore drill, on a PostgreSQL the harness runs:
WAL archiving, a base backup, a consistent pg_dump with row counts and checksums of the same
snapshot, the disaster, point-in-time recovery, and a test restore of the dump.

Every external program has a timeout; every wait is bounded.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness.errors import DependencyError, StackError
from harness.faults.services import admin_conninfo
from harness.stack.services.postgres import DATABASE, PostgresServer, find_binary

__all__ = [
    "TABLES",
    "Archive",
    "DumpResult",
    "archive_settings",
    "base_backup",
    "destroy",
    "dump",
    "fingerprints",
    "point_in_time_recovery",
    "present_titles",
    "test_restore",
]

TABLES = ("users", "tickets", "comments")
PROGRAM_TIMEOUT = 900.0


@dataclass(frozen=True)
class Archive:
    """Where archive_command puts WAL segments (gzipped) and restore_command finds them."""

    folder: Path

    @property
    def archive_command(self) -> str:
        # Double quotes for the shell: postgresql.conf wraps the value in single ones.
        target = self.folder / "%f.gz"
        return (f'test ! -f "{target}" && gzip -c %p > "{target}.part" '
                f'&& mv "{target}.part" "{target}"')

    @property
    def restore_command(self) -> str:
        return f'gunzip -c "{self.folder / "%f.gz"}" > %p'

    def segments(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("*.gz"))


def archive_settings(archive: Archive, timeout: str = "60s") -> dict[str, str]:
    """postgresql.conf settings for continuous archiving; `archive_timeout` bounds how old the
    newest archived change can be (the RPO of WAL archiving when the server is lost)."""
    return {"wal_level": "replica", "archive_mode": "on",
            "archive_command": archive.archive_command, "archive_timeout": timeout,
            "max_wal_senders": "10"}


def _run(argv: list[str], what: str, timeout: float = PROGRAM_TIMEOUT) -> float:
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise DependencyError(f"{argv[0]} was not found (install PostgreSQL's client tools)") \
            from None
    except subprocess.TimeoutExpired:
        raise StackError(f"{what} did not finish within {timeout:g}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StackError(f"{what} failed (status {done.returncode}): {tail[0][:300]}")
    return time.monotonic() - started


def durable(server: PostgresServer) -> None:
    """The local backend runs PostgreSQL without fsync (a test database): a drill measures
    what survives, so it turns both back on before anything is written. pg_basebackup needs a
    replication connection: allowed over the server's own socket."""
    with open(server.data_dir / "pg_hba.conf", "a", encoding="utf-8") as hba:
        hba.write("local replication all trust\n")
    with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = on")
        conn.execute("ALTER SYSTEM SET synchronous_commit = on")
        conn.execute("SELECT pg_reload_conf()")


def base_backup(server: PostgresServer, folder: Path) -> float:
    """pg_basebackup as tar.gz (base.tar.gz, pg_wal.tar.gz) into `folder`; returns seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    return _run([find_binary("pg_basebackup"), "-h", str(server.socket_dir), "-p",
                 str(server.port), "-U", "postgres", "-D", str(folder), "-Ft", "-z",
                 "-X", "stream", "-c", "fast", "--no-password"], "pg_basebackup")


def fingerprints(conn: psycopg.Connection) -> dict[str, dict[str, object]]:  # type: ignore[type-arg]
    """Row count and a checksum over every row (in id order) of each app table."""
    found: dict[str, dict[str, object]] = {}
    for table in TABLES:
        row = conn.execute(
            f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') "  # noqa: S608
            f"FROM {table} t").fetchone()
        if row is None:
            raise StackError(f"no answer counting {table}")
        count, digest = row
        found[table] = {"rows": int(count), "md5": str(digest)}
    return found


@dataclass(frozen=True)
class DumpResult:
    path: Path
    snapshot_at: float  # epoch: what was committed by then is in the dump
    seconds: float
    bytes: int
    tables: dict[str, dict[str, object]]  # fingerprints of the dumped snapshot


def dump(server: PostgresServer, path: Path) -> DumpResult:
    """`pg_dump -Fc` of an exported snapshot, with the fingerprints of that same snapshot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(admin_conninfo(server), autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        taken = time.time()
        tables = fingerprints(conn)
        seconds = _run([find_binary("pg_dump"), "-Fc", f"--snapshot={snapshot}", "-h",
                        str(server.socket_dir), "-p", str(server.port), "-U", "postgres",
                        "-d", DATABASE, "-f", str(path), "--no-password"], "pg_dump")
        conn.rollback()
    return DumpResult(path, taken, seconds, path.stat().st_size, tables)


@dataclass(frozen=True)
class Disaster:
    target: dt.datetime | None  # the server's clock just before: the recovery target
    target_at: float  # the same moment, epoch (the harness's clock)
    at: float  # epoch: the database was gone
    last_segment: str | None  # the WAL segment that had to reach the archive
    kind: str = "drop-schema"


def lose_server(server: PostgresServer) -> Disaster:
    """The other disaster: the primary is lost with its disk (SIGKILL, data directory gone),
    no chance to archive the WAL segment in progress. What the archive holds is what can come
    back: the RPO of WAL archiving, bounded by archive_timeout."""
    at = time.time()
    server.kill()
    shutil.rmtree(server.data_dir)
    return Disaster(None, at, at, None, kind="lose-server")


def destroy(server: PostgresServer) -> Disaster:
    """The disaster: every table of the app dropped in one transaction (`DROP SCHEMA public
    CASCADE`: an operator's mistake, a migration run against the wrong database). The server
    survives long enough to close and archive its current WAL segment, as an operator would
    (pg_switch_wal) before recovering.

    Not DROP DATABASE: it marks the database invalid in place before its commit, and replay
    up to any time before that commit still applies the mark, so the recovered database could
    not be connected to."""
    with psycopg.connect(admin_conninfo(server), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '30s'")
        target = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        target_at = time.time()
        conn.execute("DROP SCHEMA public CASCADE")
        at = time.time()
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal() - 1)").fetchone()[0]  # type: ignore[index]
    return Disaster(target, target_at, at, str(segment))


def wait_archived(server: PostgresServer, segment: str, timeout: float = 120.0) -> float:
    """Until `segment` (and so everything before it) is in the archive; returns seconds."""
    started = time.monotonic()
    with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            last, failed = conn.execute(
                "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver"
            ).fetchone()  # type: ignore[misc]
            if last and last[:24] >= segment:
                return time.monotonic() - started
            time.sleep(0.2)
    raise StackError(f"WAL segment {segment} was not archived within {timeout:g}s "
                     f"(archiver failures: {failed})")


def point_in_time_recovery(server: PostgresServer, base: Path, archive: Archive,
                           target: dt.datetime | None, timeout: float = 3600.0) -> dict[str, float]:
    """Stop the server and lose its data directory (unless already lost), restore the base
    backup, replay the archived WAL up to `target` (None: all of it), promote. Returns how
    long each step took."""
    steps: dict[str, float] = {}
    started = time.monotonic()
    if server.running:
        server.shutdown("fast")
    if server.data_dir.exists():
        shutil.rmtree(server.data_dir)  # the cluster's files are gone
    steps["stop_and_lose_seconds"] = time.monotonic() - started
    mark = time.monotonic()
    server.data_dir.mkdir(mode=0o700)
    with tarfile.open(base / "base.tar.gz") as archive_file:
        archive_file.extractall(server.data_dir, filter="data")
    wal = server.data_dir / "pg_wal"
    wal.mkdir(exist_ok=True)
    if (base / "pg_wal.tar.gz").exists():
        with tarfile.open(base / "pg_wal.tar.gz") as archive_file:
            archive_file.extractall(wal, filter="data")
    (server.data_dir / "recovery.signal").touch()
    with open(server.data_dir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
        conf.write("\n# harness drill: point-in-time recovery\n"
                   f"restore_command = '{_quoted(archive.restore_command)}'\n")
        if target is not None:
            conf.write(f"recovery_target_time = '{target.isoformat()}'\n"
                       "recovery_target_action = 'promote'\n")
    _own(server)
    steps["restore_base_seconds"] = time.monotonic() - mark
    mark = time.monotonic()
    server.resume(attempts=int(timeout * 2))
    with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
        while conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
            if time.monotonic() - mark > timeout:
                raise StackError(f"recovery did not finish within {timeout:g}s")
            time.sleep(0.2)
    steps["replay_seconds"] = time.monotonic() - mark
    return steps


def _quoted(value: str) -> str:
    return value.replace("'", "''")


def _own(server: PostgresServer) -> None:
    """The restored files belong to the user PostgreSQL runs as."""
    _prefix, uid = server.as_owner()
    if uid is None:
        return
    import os

    for path in [server.data_dir, *server.data_dir.rglob("*")]:
        os.chown(path, uid, -1, follow_symlinks=False)
    server.data_dir.chmod(0o700)


Fingerprints = dict[str, dict[str, object]]


def test_restore(server: PostgresServer, dump_path: Path,
                 scratch: str = "servicedesk_restorecheck") -> tuple[float, Fingerprints]:
    """pg_restore the dump into a scratch database; its fingerprints, and the seconds it took."""
    with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {scratch}")
        conn.execute(f"CREATE DATABASE {scratch}")
    try:
        seconds = _run([find_binary("pg_restore"), "-h", str(server.socket_dir), "-p",
                        str(server.port), "-U", "postgres", "-d", scratch, "--exit-on-error",
                        "--no-password", str(dump_path)], "pg_restore")
        with psycopg.connect(admin_conninfo(server, scratch)) as conn:
            return seconds, fingerprints(conn)
    finally:
        with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def present_titles(server: PostgresServer, titles: list[str]) -> set[str]:
    with psycopg.connect(admin_conninfo(server)) as conn:
        rows = conn.execute("SELECT title FROM tickets WHERE title = ANY(%s)", (titles,))
        return {str(row[0]) for row in rows.fetchall()}
