"""Row tuple -> record conversion shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

from typing import Any

from ..models import Comment, Priority, Role, Status, Ticket, User

__all__ = [
    "COMMENT_COLUMNS",
    "TICKET_COLUMNS",
    "USER_COLUMNS",
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
