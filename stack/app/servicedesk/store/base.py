"""The data layer's contract: what the HTTP handlers may ask of a store, and its errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..models import (
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
from ..timestamps import Timestamp

__all__ = ["Conflict", "PoolTimeout", "StoreError", "StoreUnavailable", "TicketStore"]


class StoreError(Exception):
    """Base class of data-layer failures."""


class Conflict(StoreError):
    """A unique value (a token hash) already exists."""


class PoolTimeout(StoreError):
    """No connection could be acquired within DB_POOL_ACQUIRE_TIMEOUT_SECONDS (HTTP 503)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (HTTP 503)."""


class TicketStore(Protocol):
    """Async access to users, tickets and comments. Implementations own a connection pool."""

    async def open(self) -> None:
        """Open the pool (DB_POOL_MIN connections)."""

    async def close(self) -> None:
        """Close every connection; pending operations finish first."""

    async def migrate(self) -> None:
        """Create the schema; idempotent and safe to run from several replicas at once."""

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""

    def pool_stats(self) -> PoolStats:
        """Current pool occupancy (no I/O)."""

    async def create_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User: ...

    async def ensure_user(self, name: str, role: Role, token_hash: str, now: Timestamp) -> User:
        """Return the user holding ``token_hash``, creating it if absent (bootstrap admin)."""

    async def user_by_token_hash(self, token_hash: str) -> User | None: ...

    async def get_user(self, user_id: int) -> User | None: ...

    async def create_ticket(self, ticket: NewTicket) -> Ticket: ...

    async def get_ticket(self, ticket_id: int) -> Ticket | None: ...

    async def list_tickets(self, where: TicketFilter, page: int, per_page: int) -> Page[Ticket]:
        """Newest first."""

    async def update_ticket(self, ticket_id: int, patch: TicketPatch) -> Ticket | None: ...

    async def add_comment(
        self, ticket_id: int, author_id: int, body: str, now: Timestamp
    ) -> Comment | None:
        """None when the ticket does not exist. Touches the ticket's updated_at."""

    async def list_comments(self, ticket_id: int) -> tuple[Comment, ...]:
        """Oldest first."""

    async def search(
        self, terms: tuple[str, ...], customer_id: int | None, page: int, per_page: int
    ) -> Page[Ticket]:
        """Tickets whose title, description or comments contain every term, best match first."""

    async def sla_summary(
        self, now: Timestamp, due_soon_until: Mapping[Priority, Timestamp]
    ) -> tuple[SlaSummaryRow, ...]: ...

    async def mark_breached(self, now: Timestamp) -> Mapping[Priority, int]:
        """Flag unresolved tickets past their due time; return how many were newly flagged.
        Atomic, so replicas sweeping concurrently count each breach exactly once."""

    async def open_counts(self) -> Mapping[Priority, int]:
        """Unresolved tickets per priority."""

    async def bulk_load(self, batch: SeedBatch) -> None:
        """Insert a seed batch in one transaction."""
