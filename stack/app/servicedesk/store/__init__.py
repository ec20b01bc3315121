"""The data layer: a :class:`TicketStore` protocol and its implementations."""

from __future__ import annotations

from ..metrics import Metrics
from ..settings import Settings
from .base import Conflict, PoolTimeout, StoreError, StoreUnavailable, TicketStore

__all__ = [
    "Conflict",
    "PoolTimeout",
    "StoreError",
    "StoreUnavailable",
    "TicketStore",
    "build_store",
]


def build_store(settings: Settings, metrics: Metrics) -> TicketStore:
    """Build (without connecting to) the store DATABASE_URL names."""
    if settings.database_scheme == "sqlite":
        from .sqlite import SqliteTicketStore

        return SqliteTicketStore.from_settings(settings, metrics)
    from .postgres import PostgresTicketStore

    return PostgresTicketStore.from_settings(settings, metrics)
