"""Domain records exchanged between the HTTP layer and the stores: frozen, typed, no behaviour.

Times are :data:`~servicedesk.timestamps.Timestamp` strings (ISO-8601 UTC, milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from .timestamps import Timestamp

__all__ = [
    "UNRESOLVED",
    "Comment",
    "NewTicket",
    "Page",
    "PoolStats",
    "Priority",
    "Role",
    "SeedBatch",
    "SeedComment",
    "SeedTicket",
    "SeedUser",
    "SlaSummaryRow",
    "Status",
    "Ticket",
    "TicketFilter",
    "TicketPatch",
    "User",
]

T = TypeVar("T")


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


UNRESOLVED: frozenset[Status] = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING})


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    created_at: Timestamp


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    title: str
    description: str
    priority: Priority
    status: Status
    customer_id: int
    assignee_id: int | None
    created_at: Timestamp
    updated_at: Timestamp
    sla_due_at: Timestamp
    sla_breached: bool
    resolved_at: Timestamp | None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    ticket_id: int
    author_id: int
    body: str
    created_at: Timestamp


@dataclass(frozen=True, slots=True)
class NewTicket:
    title: str
    description: str
    priority: Priority
    customer_id: int
    created_at: Timestamp
    sla_due_at: Timestamp


@dataclass(frozen=True, slots=True)
class TicketPatch:
    """Fields to change; ``None`` leaves a field alone. ``change_assignee`` with
    ``assignee_id=None`` unassigns. ``sla_due_at`` is recomputed by the caller when the
    priority changes."""

    updated_at: Timestamp
    status: Status | None = None
    priority: Priority | None = None
    sla_due_at: Timestamp | None = None
    change_assignee: bool = False
    assignee_id: int | None = None


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    per_page: int
    total: int


@dataclass(frozen=True, slots=True)
class SlaSummaryRow:
    """Per priority: unresolved tickets, how many of them are past due, and how many will be
    past due within the priority's due-soon window."""

    priority: Priority
    open: int
    breached: int
    due_soon: int


@dataclass(frozen=True, slots=True)
class PoolStats:
    size: int
    max_size: int
    in_use: int
    idle: int
    waiting: int


# --- bulk loading (seed): references are indexes into the batch, not database ids ---


@dataclass(frozen=True, slots=True)
class SeedUser:
    name: str
    role: Role
    token_hash: str
    created_at: Timestamp


@dataclass(frozen=True, slots=True)
class SeedTicket:
    title: str
    description: str
    priority: Priority
    status: Status
    customer: int
    assignee: int | None
    created_at: Timestamp
    updated_at: Timestamp
    sla_due_at: Timestamp
    sla_breached: bool
    resolved_at: Timestamp | None


@dataclass(frozen=True, slots=True)
class SeedComment:
    ticket: int
    author: int
    body: str
    created_at: Timestamp


@dataclass(frozen=True, slots=True)
class SeedBatch:
    users: tuple[SeedUser, ...]
    tickets: tuple[SeedTicket, ...]
    comments: tuple[SeedComment, ...]
