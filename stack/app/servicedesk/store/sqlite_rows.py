"""Row <-> record conversion for the SQLite store, and the seed bulk loader."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..models import Comment, Priority, Role, SeedBatch, Status, Ticket, User

__all__ = [
    "COMMENT_COLUMNS",
    "TICKET_COLUMNS",
    "USER_COLUMNS",
    "bulk_load",
    "comment",
    "ticket",
    "user",
]

USER_COLUMNS = "id, name, role, created_at"
TICKET_COLUMNS = (
    "id, title, description, priority, status, customer_id, assignee_id, created_at, "
    "updated_at, sla_due_at, sla_breached, resolved_at"
)
COMMENT_COLUMNS = "id, ticket_id, author_id, body, created_at"

_PRIORITY = {p.value: p for p in Priority}
_STATUS = {s.value: s for s in Status}
_ROLE = {r.value: r for r in Role}


def user(row: Any) -> User:
    return User(row[0], row[1], _ROLE[row[2]], row[3])


def ticket(row: Any) -> Ticket:
    return Ticket(
        row[0],
        row[1],
        row[2],
        _PRIORITY[row[3]],
        _STATUS[row[4]],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        bool(row[10]),
        row[11],
    )


def comment(row: Any) -> Comment:
    return Comment(*row)


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
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
