"""SQLite implementation of :class:`~servicedesk.store.base.TicketStore`.

WAL mode and a busy timeout let several replica processes share one database file. Every call
runs on a worker thread with a connection from a :class:`BlockingPool`; writes take the write
lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from ..metrics import Metrics
from ..models import (
    UNRESOLVED,
    Comment,
    NewTicket,
    Page,
    PoolStats,
    Priority,
    Role,
    SeedBatch,
    SlaSummaryRow,
    Ticket,
    TicketFilter,
    TicketPatch,
    User,
)
from ..settings import Settings
from ..timestamps import Timestamp
from . import rows
from .base import Conflict
from .pool import BlockingPool, ErrorAction, PoolConfig
from .sqlite_bulk import bulk_load
from .sqlite_schema import SCHEMA_VERSION, STATEMENTS

__all__ = ["SqliteTicketStore", "sqlite_path"]

_UNRESOLVED_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(UNRESOLVED)) + ")"
_BUSY_TIMEOUT_SECONDS = 5.0


def sqlite_path(database_url: str) -> str:
    """``sqlite:///./x.db`` -> ``./x.db``; ``sqlite:////abs/x.db`` -> ``/abs/x.db``."""
    return database_url.removeprefix("sqlite:///")


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _classify(conn: sqlite3.Connection, exc: BaseException) -> ErrorAction:
    if isinstance(exc, sqlite3.ProgrammingError) or conn.in_transaction:
        return ErrorAction.DISCARD
    if isinstance(exc, sqlite3.IntegrityError) or not isinstance(exc, sqlite3.Error):
        return ErrorAction.KEEP
    return ErrorAction.COUNT


class SqliteTicketStore:
    """Tickets, users and comments in one SQLite file."""

    def __init__(self, *, path: str, pool: PoolConfig, metrics: Metrics) -> None:
        self.path = path
        self._pool: BlockingPool[sqlite3.Connection] = BlockingPool(
            config=pool,
            connect=self._connect,
            close=sqlite3.Connection.close,
            on_error=_classify,
            metrics=metrics,
        )

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> SqliteTicketStore:
        return cls(
            path=sqlite_path(settings.database_url),
            pool=PoolConfig.from_settings(settings),
            metrics=metrics,
        )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "temp_store=MEMORY",
            "cache_size=-16000",
            "mmap_size=134217728",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    # --- lifecycle ---

    async def open(self) -> None:
        await self._pool.open()

    async def close(self) -> None:
        await self._pool.close()

    async def migrate(self) -> None:
        await self._pool.run("migrate", _migrate)

    async def ping(self) -> None:
        await self._pool.run("ping", _ping)

    def pool_stats(self) -> PoolStats:
        return self._pool.stats()

    # --- users ---

    async def create_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User:
        return await self._pool.run("create_user", _create_user, name, role, token_hash, now)

    async def ensure_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User:
        return await self._pool.run("ensure_user", _ensure_user, name, role, token_hash, now)

    async def user_by_token_hash(self, token_hash: str) -> User | None:
        return await self._pool.run("user_by_token", _one_user, "token_hash", token_hash)

    async def get_user(self, user_id: int) -> User | None:
        return await self._pool.run("get_user", _one_user, "id", user_id)

    # --- tickets ---

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        return await self._pool.run("create_ticket", _create_ticket, ticket)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        return await self._pool.run("get_ticket", _get_ticket, ticket_id)

    async def list_tickets(self, where: TicketFilter, page: int, per_page: int) -> Page[Ticket]:
        return await self._pool.run("list_tickets", _list_tickets, where, page, per_page)

    async def update_ticket(self, ticket_id: int, patch: TicketPatch) -> Ticket | None:
        return await self._pool.run("update_ticket", _update_ticket, ticket_id, patch)

    async def add_comment(
        self, ticket_id: int, author_id: int, body: str, now: Timestamp
    ) -> Comment | None:
        return await self._pool.run("add_comment", _add_comment, ticket_id, author_id, body, now)

    async def list_comments(self, ticket_id: int) -> tuple[Comment, ...]:
        return await self._pool.run("list_comments", _list_comments, ticket_id)

    async def search(
        self, terms: tuple[str, ...], customer_id: int | None, page: int, per_page: int
    ) -> Page[Ticket]:
        return await self._pool.run("search", _search, terms, customer_id, page, per_page)

    # --- SLA ---

    async def sla_summary(
        self, now: Timestamp, due_soon_until: Mapping[Priority, Timestamp]
    ) -> tuple[SlaSummaryRow, ...]:
        return await self._pool.run("sla_summary", _sla_summary, now, due_soon_until)

    async def mark_breached(self, now: Timestamp) -> Mapping[Priority, int]:
        return await self._pool.run("mark_breached", _mark_breached, now)

    async def open_counts(self) -> Mapping[Priority, int]:
        return await self._pool.run("open_counts", _open_counts)

    async def bulk_load(self, batch: SeedBatch) -> None:
        await self._pool.run("bulk_load", bulk_load, batch)


# --- the blocking halves, run on worker threads ---


def _migrate(conn: sqlite3.Connection) -> None:
    with _write(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        for statement in STATEMENTS:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT 1").fetchone()


def _create_user(
    conn: sqlite3.Connection, name: str, role: Role, token_hash: str, now: Timestamp
) -> User:
    try:
        row = conn.execute(
            f"INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) "
            f"RETURNING {rows.USER_COLUMNS}",
            (name, role.value, token_hash, now),
        ).fetchall()[0]
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"a user with this token already exists: {exc}") from exc
    return rows.user(row)


def _ensure_user(
    conn: sqlite3.Connection, name: str, role: Role, token_hash: str, now: Timestamp
) -> User:
    conn.execute(
        "INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (token_hash) DO NOTHING",
        (name, role.value, token_hash, now),
    )
    found = _one_user(conn, "token_hash", token_hash)
    if found is None:  # pragma: no cover - the row was just written
        raise RuntimeError("bootstrap user vanished")
    return found


def _one_user(conn: sqlite3.Connection, column: str, value: Any) -> User | None:
    row = conn.execute(
        f"SELECT {rows.USER_COLUMNS} FROM users WHERE {column} = ?", (value,)
    ).fetchone()
    return None if row is None else rows.user(row)


def _create_ticket(conn: sqlite3.Connection, t: NewTicket) -> Ticket:
    row = conn.execute(
        "INSERT INTO tickets (title, description, priority, status, customer_id, created_at, "
        f"updated_at, sla_due_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?) "
        f"RETURNING {rows.TICKET_COLUMNS}",
        (
            t.title,
            t.description,
            t.priority.value,
            t.customer_id,
            t.created_at,
            t.created_at,
            t.sla_due_at,
        ),
    ).fetchall()[0]
    return rows.ticket(row)


def _get_ticket(conn: sqlite3.Connection, ticket_id: int) -> Ticket | None:
    row = conn.execute(
        f"SELECT {rows.TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
    ).fetchone()
    return None if row is None else rows.ticket(row)


def _where(where: TicketFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("status", where.status),
        ("priority", where.priority),
        ("assignee_id", where.assignee_id),
        ("customer_id", where.customer_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value.value if isinstance(value, StrEnum) else value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _list_tickets(
    conn: sqlite3.Connection, where: TicketFilter, page: int, per_page: int
) -> Page[Ticket]:
    sql_where, args = _where(where)
    total = conn.execute(f"SELECT COUNT(*) FROM tickets{sql_where}", args).fetchone()[0]
    found = conn.execute(
        f"SELECT {rows.TICKET_COLUMNS} FROM tickets{sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
        (*args, per_page, (page - 1) * per_page),
    ).fetchall()
    return Page(tuple(map(rows.ticket, found)), page, per_page, total)


def _update_ticket(conn: sqlite3.Connection, ticket_id: int, patch: TicketPatch) -> Ticket | None:
    now = patch.updated_at
    sets = ["updated_at = ?"]
    args: list[Any] = [now]
    if patch.status is not None:
        sets.append("status = ?")
        args.append(patch.status.value)
        if patch.status in UNRESOLVED:
            sets.append("resolved_at = NULL")
        else:
            sets.append("resolved_at = COALESCE(resolved_at, ?)")
            args.append(now)
    if patch.priority is not None:
        sets.append("priority = ?")
        args.append(patch.priority.value)
    if patch.sla_due_at is not None:
        sets.append("sla_due_at = ?")
        args.append(patch.sla_due_at)
    if patch.change_assignee:
        sets.append("assignee_id = ?")
        args.append(patch.assignee_id)
    found = conn.execute(
        f"UPDATE tickets SET {', '.join(sets)} WHERE id = ? RETURNING {rows.TICKET_COLUMNS}",
        (*args, ticket_id),
    ).fetchall()
    return rows.ticket(found[0]) if found else None


def _add_comment(
    conn: sqlite3.Connection, ticket_id: int, author_id: int, body: str, now: Timestamp
) -> Comment | None:
    with _write(conn):
        touched = conn.execute(
            "UPDATE tickets SET updated_at = ? WHERE id = ?", (now, ticket_id)
        ).rowcount
        if not touched:
            return None
        row = conn.execute(
            "INSERT INTO comments (ticket_id, author_id, body, created_at) VALUES (?, ?, ?, ?) "
            f"RETURNING {rows.COMMENT_COLUMNS}",
            (ticket_id, author_id, body, now),
        ).fetchall()[0]
    return rows.comment(row)


def _list_comments(conn: sqlite3.Connection, ticket_id: int) -> tuple[Comment, ...]:
    found = conn.execute(
        f"SELECT {rows.COMMENT_COLUMNS} FROM comments WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    ).fetchall()
    return tuple(map(rows.comment, found))


# bm25 is negative, lower is better: title hits weigh 10x, descriptions 4x, comments 1x.
_SEARCH_HITS = """
WITH hits(ticket_id, rank) AS (
    SELECT rowid, bm25(tickets_fts, 10.0, 4.0) FROM tickets_fts WHERE tickets_fts MATCH :q
    UNION ALL
    SELECT c.ticket_id, bm25(comments_fts) FROM comments_fts
        JOIN comments AS c ON c.id = comments_fts.rowid WHERE comments_fts MATCH :q
)
"""


def fts_query(terms: tuple[str, ...]) -> str:
    """Each term quoted (so user input is never FTS syntax), all required."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _search(
    conn: sqlite3.Connection,
    terms: tuple[str, ...],
    customer_id: int | None,
    page: int,
    per_page: int,
) -> Page[Ticket]:
    params: dict[str, Any] = {"q": fts_query(terms), "customer": customer_id}
    owner = "WHERE t.customer_id = :customer" if customer_id is not None else ""
    joined = f"FROM hits JOIN tickets AS t ON t.id = hits.ticket_id {owner}"
    total = conn.execute(f"{_SEARCH_HITS} SELECT COUNT(DISTINCT t.id) {joined}", params).fetchone()[
        0
    ]
    columns = ", ".join(f"t.{c.strip()}" for c in rows.TICKET_COLUMNS.split(","))
    found = conn.execute(
        f"{_SEARCH_HITS} SELECT {columns} {joined} GROUP BY t.id "
        "ORDER BY MIN(hits.rank), t.id DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    return Page(tuple(map(rows.ticket, found)), page, per_page, total)


def _sla_summary(
    conn: sqlite3.Connection, now: Timestamp, due_soon_until: Mapping[Priority, Timestamp]
) -> tuple[SlaSummaryRow, ...]:
    cases = " ".join(f"WHEN '{p.value}' THEN :soon_{p.value}" for p in Priority)
    params: dict[str, Any] = {"now": now}
    for p in Priority:
        params[f"soon_{p.value}"] = due_soon_until[p]
    found = conn.execute(
        "SELECT priority, COUNT(*), "
        "SUM(sla_breached = 1 OR sla_due_at < :now), "
        f"SUM(sla_breached = 0 AND sla_due_at >= :now AND sla_due_at < CASE priority {cases} END) "
        f"FROM tickets WHERE status IN {_UNRESOLVED_SQL} GROUP BY priority",
        params,
    ).fetchall()
    by_priority = {row[0]: row for row in found}
    out = []
    for p in Priority:
        row = by_priority.get(p.value)
        out.append(
            SlaSummaryRow(p, *(int(x) for x in row[1:])) if row else SlaSummaryRow(p, 0, 0, 0)
        )
    return tuple(out)


def _mark_breached(conn: sqlite3.Connection, now: Timestamp) -> Mapping[Priority, int]:
    found = conn.execute(
        "UPDATE tickets SET sla_breached = 1 WHERE sla_breached = 0 "
        f"AND status IN {_UNRESOLVED_SQL} AND sla_due_at < ? RETURNING priority",
        (now,),
    ).fetchall()
    counts = dict.fromkeys(Priority, 0)
    for (priority,) in found:
        counts[Priority(priority)] += 1
    return counts


def _open_counts(conn: sqlite3.Connection) -> Mapping[Priority, int]:
    found = conn.execute(
        f"SELECT priority, COUNT(*) FROM tickets WHERE status IN {_UNRESOLVED_SQL} "
        "GROUP BY priority"
    ).fetchall()
    counts = dict.fromkeys(Priority, 0)
    for priority, n in found:
        counts[Priority(priority)] = n
    return counts
