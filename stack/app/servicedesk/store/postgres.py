"""PostgreSQL implementation of :class:`~servicedesk.store.base.TicketStore`.

The pool is ``psycopg_pool.AsyncConnectionPool`` with the settings mapped one to one:
``min_size``=DB_POOL_MIN, ``max_size``=DB_POOL_MAX, ``timeout``=DB_POOL_ACQUIRE_TIMEOUT_SECONDS,
``max_idle``=DB_POOL_IDLE_TIMEOUT_SECONDS, ``max_lifetime``=DB_POOL_MAX_LIFETIME_SECONDS. Its
occupancy feeds the same gauges as the SQLite pool. psycopg prepares a statement on the server
after it has run a few times on a connection (``prepare_threshold``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import psycopg_pool

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
from .base import Conflict, PoolTimeout, StoreUnavailable
from .pool import PoolConfig
from .postgres_bulk import bulk_load
from .postgres_schema import MIGRATION_LOCK, SCHEMA_VERSION, STATEMENTS
from .postgres_types import configure_connection

__all__ = ["PostgresTicketStore"]


def _application_name() -> str:
    return f"servicedesk:{os.environ.get('HOSTNAME') or socket.gethostname()}"[:63]

_UNRESOLVED_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(UNRESOLVED)) + ")"
_PREPARE_THRESHOLD = 5

Conn = psycopg.AsyncConnection[Any]


class PostgresTicketStore:
    """Tickets, users and comments in PostgreSQL."""

    def __init__(self, *, url: str, pool: PoolConfig, metrics: Metrics,
                 reconnect: bool = True) -> None:
        self._url = url
        self._config = pool
        self._metrics = metrics
        self._pool: psycopg_pool.AsyncConnectionPool[Conn] | None = None
        self._reconnect = reconnect  # DB_POOL_RECONNECT (false only to test the harness)
        self._lost: str | None = None
        metrics.bind_pool(self.pool_stats)

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> PostgresTicketStore:
        return cls(
            url=settings.database_url, pool=PoolConfig.from_settings(settings), metrics=metrics,
            reconnect=settings.db_pool_reconnect,
        )

    # --- lifecycle ---

    async def open(self) -> None:
        c = self._config
        self._pool = psycopg_pool.AsyncConnectionPool(
            self._url,
            min_size=c.min_size,
            max_size=c.max_size,
            timeout=c.acquire_timeout,
            max_idle=c.idle_timeout,
            max_lifetime=c.max_lifetime,
            kwargs={
                "autocommit": True,
                "prepare_threshold": _PREPARE_THRESHOLD,
                "options": "-c timezone=UTC",
                # The pod's name (HOSTNAME), so pg_stat_activity shows connections per replica.
                "application_name": _application_name(),
            },
            configure=configure_connection,
            open=False,
            name="servicedesk",
        )
        try:
            await self._pool.open(wait=True, timeout=2 * c.acquire_timeout)
        except psycopg_pool.PoolTimeout as exc:
            self._metrics.db_pool_errors.inc()
            await self._pool.close()
            raise StoreUnavailable(f"cannot open a database connection: {exc}") from exc

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def pool_stats(self) -> PoolStats:
        if self._pool is None:
            return PoolStats(0, self._config.max_size, 0, 0, 0)
        s = self._pool.get_stats()
        size, idle = s.get("pool_size", 0), s.get("pool_available", 0)
        return PoolStats(
            size, s.get("pool_max", 0), size - idle, idle, s.get("requests_waiting", 0)
        )

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[Conn]:
        """A pooled connection; the wait is timed as acquire wait, the use as ``operation``."""
        if self._pool is None:
            raise StoreUnavailable("the pool is not open")
        if self._lost is not None:
            raise StoreUnavailable(f"database connection lost, DB_POOL_RECONNECT off: {self._lost}")
        started = time.perf_counter()
        try:
            async with self._pool.connection() as conn:
                acquired = time.perf_counter()
                self._metrics.db_pool_acquire_wait.observe(acquired - started)
                try:
                    yield conn
                finally:
                    self._metrics.observe_query(operation, time.perf_counter() - acquired)
        except psycopg_pool.PoolTimeout as exc:
            self._metrics.db_pool_acquire_timeouts.inc()
            raise PoolTimeout(
                f"no database connection free within {self._config.acquire_timeout:g}s"
            ) from exc
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(str(exc).strip()) from exc
        except psycopg.IntegrityError:
            raise
        except psycopg.OperationalError as exc:
            self._metrics.db_pool_errors.inc()
            connection_lost = exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))
            if not self._reconnect and connection_lost and self._lost is None:
                self._lost = str(exc).strip()[:200]
            raise StoreUnavailable(str(exc).strip()) from exc
        except psycopg.Error:
            self._metrics.db_pool_errors.inc()
            raise

    async def _one(self, operation: str, sql: str, params: Any = None) -> Any:
        async with self._connection(operation) as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def _all(self, operation: str, sql: str, params: Any = None) -> list[Any]:
        async with self._connection(operation) as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def migrate(self) -> None:
        async with self._connection("migrate") as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(STATEMENTS[0])
            cur = await conn.execute("SELECT max(version) FROM schema_version")
            current = (await cur.fetchone() or (None,))[0]
            if current is not None and current >= SCHEMA_VERSION:
                return
            for statement in STATEMENTS[1:]:
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))

    async def ping(self) -> None:
        await self._one("ping", "SELECT 1")

    # --- users ---

    async def create_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User:
        row = await self._one(
            "create_user",
            "INSERT INTO users (name, role, token_hash, created_at) VALUES (%s, %s, %s, %s) "
            f"RETURNING {rows.USER_COLUMNS}",
            (name, role.value, token_hash, now),
        )
        return rows.user(row)

    async def ensure_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User:
        async with self._connection("ensure_user") as conn:
            await conn.execute(
                "INSERT INTO users (name, role, token_hash, created_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (token_hash) DO NOTHING",
                (name, role.value, token_hash, now),
            )
            cur = await conn.execute(
                f"SELECT {rows.USER_COLUMNS} FROM users WHERE token_hash = %s", (token_hash,)
            )
            return rows.user(await cur.fetchone())

    async def user_by_token_hash(self, token_hash: str) -> User | None:
        row = await self._one(
            "user_by_token",
            f"SELECT {rows.USER_COLUMNS} FROM users WHERE token_hash = %s",
            (token_hash,),
        )
        return None if row is None else rows.user(row)

    async def get_user(self, user_id: int) -> User | None:
        row = await self._one(
            "get_user", f"SELECT {rows.USER_COLUMNS} FROM users WHERE id = %s", (user_id,)
        )
        return None if row is None else rows.user(row)

    # --- tickets ---

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        t = ticket
        row = await self._one(
            "create_ticket",
            "INSERT INTO tickets (title, description, priority, status, customer_id, created_at, "
            "updated_at, sla_due_at) VALUES (%s, %s, %s, 'open', %s, %s, %s, %s) "
            f"RETURNING {rows.TICKET_COLUMNS}",
            (t.title, t.description, t.priority.value, t.customer_id, t.created_at, t.created_at,
             t.sla_due_at),
        )  # fmt: skip
        return rows.ticket(row)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        row = await self._one(
            "get_ticket", f"SELECT {rows.TICKET_COLUMNS} FROM tickets WHERE id = %s", (ticket_id,)
        )
        return None if row is None else rows.ticket(row)

    async def list_tickets(self, where: TicketFilter, page: int, per_page: int) -> Page[Ticket]:
        clauses, args = [], []
        for column, value in (
            ("status", where.status),
            ("priority", where.priority),
            ("assignee_id", where.assignee_id),
            ("customer_id", where.customer_id),
        ):
            if value is not None:
                clauses.append(f"{column} = %s")
                args.append(getattr(value, "value", value))
        sql_where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        # Both statements in one pipeline: one round trip while the connection is lent, not two
        # (each wait for the server is also a wait for this busy event loop to resume us).
        async with self._connection("list_tickets") as conn, conn.pipeline():
            counted = await conn.execute(f"SELECT count(*) FROM tickets{sql_where}", args)
            listed = await conn.execute(
                f"SELECT {rows.TICKET_COLUMNS} FROM tickets{sql_where} "
                "ORDER BY id DESC LIMIT %s OFFSET %s",
                (*args, per_page, (page - 1) * per_page),
            )
            total = (await counted.fetchone())[0]  # type: ignore[index]
            found = await listed.fetchall()
        return Page(tuple(map(rows.ticket, found)), page, per_page, total)

    async def update_ticket(self, ticket_id: int, patch: TicketPatch) -> Ticket | None:
        sets = ["updated_at = %(now)s"]
        params: dict[str, Any] = {"now": patch.updated_at, "id": ticket_id}
        if patch.status is not None:
            sets.append("status = %(status)s")
            params["status"] = patch.status.value
            if patch.status in UNRESOLVED:
                sets.append("resolved_at = NULL")
            else:
                sets.append("resolved_at = COALESCE(resolved_at, %(now)s::timestamptz)")
        if patch.priority is not None:
            sets.append("priority = %(priority)s")
            params["priority"] = patch.priority.value
        if patch.sla_due_at is not None:
            sets.append("sla_due_at = %(due)s")
            params["due"] = patch.sla_due_at
        if patch.change_assignee:
            sets.append("assignee_id = %(assignee)s")
            params["assignee"] = patch.assignee_id
        row = await self._one(
            "update_ticket",
            f"UPDATE tickets SET {', '.join(sets)} WHERE id = %(id)s "
            f"RETURNING {rows.TICKET_COLUMNS}",
            params,
        )
        return None if row is None else rows.ticket(row)

    async def add_comment(
        self, ticket_id: int, author_id: int, body: str, now: Timestamp
    ) -> Comment | None:
        async with self._connection("add_comment") as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE tickets SET updated_at = %s WHERE id = %s", (now, ticket_id)
            )
            if cur.rowcount == 0:
                return None
            cur = await conn.execute(
                "INSERT INTO comments (ticket_id, author_id, body, created_at) "
                f"VALUES (%s, %s, %s, %s) RETURNING {rows.COMMENT_COLUMNS}",
                (ticket_id, author_id, body, now),
            )
            return rows.comment(await cur.fetchone())

    async def list_comments(self, ticket_id: int) -> tuple[Comment, ...]:
        found = await self._all(
            "list_comments",
            f"SELECT {rows.COMMENT_COLUMNS} FROM comments WHERE ticket_id = %s ORDER BY id",
            (ticket_id,),
        )
        return tuple(map(rows.comment, found))

    async def search(
        self, terms: tuple[str, ...], customer_id: int | None, page: int, per_page: int
    ) -> Page[Ticket]:
        params: dict[str, Any] = {
            "q": " ".join(terms),
            "customer": customer_id,
            "limit": per_page,
            "offset": (page - 1) * per_page,
        }
        owner = "WHERE t.customer_id = %(customer)s" if customer_id is not None else ""
        hits = (
            "WITH q AS (SELECT plainto_tsquery('english', %(q)s) AS query), "
            "hits AS ("
            "  SELECT t.id AS ticket_id, ts_rank(t.search_vector, q.query) AS rank"
            "  FROM tickets AS t, q WHERE t.search_vector @@ q.query"
            "  UNION ALL"
            "  SELECT c.ticket_id, ts_rank(c.search_vector, q.query)"
            "  FROM comments AS c, q WHERE c.search_vector @@ q.query"
            "), best AS (SELECT ticket_id, max(rank) AS rank FROM hits GROUP BY ticket_id) "
        )
        joined = f"FROM best JOIN tickets AS t ON t.id = best.ticket_id {owner}"
        columns = ", ".join(f"t.{c.strip()}" for c in rows.TICKET_COLUMNS.split(","))
        # The full-text match runs once: the page carries the whole count (a window over every
        # hit, computed before LIMIT). Only a page past the end, with no row to carry it, counts
        # again.
        async with self._connection("search") as conn:
            cur = await conn.execute(
                f"{hits} SELECT {columns}, count(*) OVER () {joined} "
                "ORDER BY best.rank DESC, t.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                params,
            )
            found = await cur.fetchall()
            if found:
                total = found[0][-1]
            elif page > 1:
                cur = await conn.execute(f"{hits} SELECT count(*) {joined}", params)
                total = (await cur.fetchone())[0]  # type: ignore[index]
            else:
                total = 0
        return Page(tuple(rows.ticket(row[:-1]) for row in found), page, per_page, total)

    # --- SLA ---

    async def sla_summary(
        self, now: Timestamp, due_soon_until: Mapping[Priority, Timestamp]
    ) -> tuple[SlaSummaryRow, ...]:
        cases = " ".join(f"WHEN '{p.value}' THEN %(soon_{p.value})s::timestamptz" for p in Priority)
        params: dict[str, Any] = {"now": now}
        params.update({f"soon_{p.value}": due_soon_until[p] for p in Priority})
        found = await self._all(
            "sla_summary",
            "SELECT priority, count(*), "
            "count(*) FILTER (WHERE sla_breached OR sla_due_at < %(now)s::timestamptz), "
            "count(*) FILTER (WHERE NOT sla_breached AND sla_due_at >= %(now)s::timestamptz "
            f"AND sla_due_at < CASE priority {cases} END) "
            f"FROM tickets WHERE status IN {_UNRESOLVED_SQL} GROUP BY priority",
            params,
        )
        by_priority = {row[0]: row for row in found}
        return tuple(
            SlaSummaryRow(p, *by_priority[p.value][1:]) if p.value in by_priority
            else SlaSummaryRow(p, 0, 0, 0)
            for p in Priority
        )  # fmt: skip

    async def mark_breached(self, now: Timestamp) -> Mapping[Priority, int]:
        found = await self._all(
            "mark_breached",
            "UPDATE tickets SET sla_breached = TRUE WHERE NOT sla_breached "
            f"AND status IN {_UNRESOLVED_SQL} AND sla_due_at < %s::timestamptz RETURNING priority",
            (now,),
        )
        counts = dict.fromkeys(Priority, 0)
        for (priority,) in found:
            counts[Priority(priority)] += 1
        return counts

    async def open_counts(self) -> Mapping[Priority, int]:
        found = await self._all(
            "open_counts",
            f"SELECT priority, count(*) FROM tickets WHERE status IN {_UNRESOLVED_SQL} "
            "GROUP BY priority",
        )
        counts = dict.fromkeys(Priority, 0)
        for priority, n in found:
            counts[Priority(priority)] = n
        return counts

    async def bulk_load(self, batch: SeedBatch) -> None:
        async with self._connection("bulk_load") as conn:
            await bulk_load(conn, batch)
