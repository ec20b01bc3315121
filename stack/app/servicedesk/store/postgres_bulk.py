"""Seed bulk loading for PostgreSQL: COPY in one transaction, explicit ids, sequences moved on."""

from __future__ import annotations

from typing import Any

import psycopg

from ..models import SeedBatch

__all__ = ["bulk_load"]


async def _next_id(conn: psycopg.AsyncConnection[Any], table: str) -> int:
    cur = await conn.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {table}")
    row = await cur.fetchone()
    return int(row[0]) if row else 1


async def bulk_load(conn: psycopg.AsyncConnection[Any], batch: SeedBatch) -> None:
    async with conn.transaction():
        await conn.execute("LOCK TABLE users, tickets IN SHARE ROW EXCLUSIVE MODE")
        user_base = await _next_id(conn, "users")
        ticket_base = await _next_id(conn, "tickets")
        cur = conn.cursor()
        async with cur.copy(
            "COPY users (id, name, role, token_hash, created_at) FROM STDIN"
        ) as copy:
            for i, u in enumerate(batch.users):
                await copy.write_row(
                    (user_base + i, u.name, u.role.value, u.token_hash, u.created_at)
                )
        async with cur.copy(
            "COPY tickets (id, title, description, priority, status, customer_id, assignee_id, "
            "created_at, updated_at, sla_due_at, sla_breached, resolved_at) FROM STDIN"
        ) as copy:
            for i, t in enumerate(batch.tickets):
                await copy.write_row(
                    (
                        ticket_base + i,
                        t.title,
                        t.description,
                        t.priority.value,
                        t.status.value,
                        user_base + t.customer,
                        None if t.assignee is None else user_base + t.assignee,
                        t.created_at,
                        t.updated_at,
                        t.sla_due_at,
                        t.sla_breached,
                        t.resolved_at,
                    )
                )
        async with cur.copy(
            "COPY comments (ticket_id, author_id, body, created_at) FROM STDIN"
        ) as copy:
            for c in batch.comments:
                await copy.write_row(
                    (ticket_base + c.ticket, user_base + c.author, c.body, c.created_at)
                )
        for table in ("users", "tickets"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 1) FROM {table}))"
            )
