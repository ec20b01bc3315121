"""Records to JSON-ready dicts (hand-written: ``dataclasses.asdict`` is several times slower)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .models import Comment, Page, SlaSummaryRow, Ticket, User

__all__ = ["comment_dict", "page_dict", "sla_dict", "ticket_dict", "user_dict"]

T = TypeVar("T")


def ticket_dict(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id,
        "title": t.title,
        "description": t.description,
        "priority": t.priority.value,
        "status": t.status.value,
        "customer_id": t.customer_id,
        "assignee_id": t.assignee_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "sla_due_at": t.sla_due_at,
        "sla_breached": t.sla_breached,
        "resolved_at": t.resolved_at,
    }


def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "role": u.role.value, "created_at": u.created_at}


def comment_dict(c: Comment) -> dict[str, Any]:
    return {
        "id": c.id,
        "ticket_id": c.ticket_id,
        "author_id": c.author_id,
        "body": c.body,
        "created_at": c.created_at,
    }


def page_dict(page: Page[T], item: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [item(x) for x in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }


def sla_dict(row: SlaSummaryRow) -> dict[str, Any]:
    return {"open": row.open, "breached": row.breached, "due_soon": row.due_soon}
