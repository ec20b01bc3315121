"""Seed bulk loading for the SQLite store: one transaction, explicit ids."""

from __future__ import annotations

import sqlite3

from ..models import SeedBatch
from .base import Conflict

__all__ = ["bulk_load"]


def bulk_load(conn: sqlite3.Connection, batch: SeedBatch) -> None:
    """Insert users, tickets and comments of ``batch`` in one transaction, with explicit ids
    following the current maximum so batch indexes map to ids without a round trip each."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        user_base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0] + 1
        ticket_base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0] + 1
        conn.executemany(
            "INSERT INTO users (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                (user_base + i, u.name, u.role.value, u.token_hash, u.created_at)
                for i, u in enumerate(batch.users)
            ),
        )
        conn.executemany(
            "INSERT INTO tickets (id, title, description, priority, status, customer_id, "
            "assignee_id, created_at, updated_at, sla_due_at, sla_breached, resolved_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
                    int(t.sla_breached),
                    t.resolved_at,
                )
                for i, t in enumerate(batch.tickets)
            ),
        )
        conn.executemany(
            "INSERT INTO comments (ticket_id, author_id, body, created_at) VALUES (?, ?, ?, ?)",
            (
                (ticket_base + c.ticket, user_base + c.author, c.body, c.created_at)
                for c in batch.comments
            ),
        )
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK")
        raise Conflict(f"the batch collides with existing rows: {exc}") from exc
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
