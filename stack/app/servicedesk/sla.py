"""Service-level agreement: due times per priority, and the background breach sweep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from .dogstatsd import BusinessMetrics, NoBusinessMetrics
from .metrics import Metrics
from .models import Priority
from .settings import Settings
from .store.base import TicketStore
from .timestamps import Timestamp, format_ts, parse_ts

__all__ = ["DUE_SOON_FRACTION", "SlaPolicy", "SlaSweeper"]

log = logging.getLogger(__name__)

# A ticket is "due soon" in the last quarter of its response window (critical: 15 min of 60).
DUE_SOON_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    response_minutes: Mapping[Priority, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        return cls(MappingProxyType(dict(settings.sla_response_minutes)))

    def window(self, priority: Priority) -> timedelta:
        return timedelta(minutes=self.response_minutes[priority])

    def due_at(self, created_at: datetime, priority: Priority) -> datetime:
        return created_at + self.window(priority)

    def due_ts(self, created_at: Timestamp, priority: Priority) -> Timestamp:
        return format_ts(self.due_at(parse_ts(created_at), priority))

    def due_soon_until(self, now: datetime) -> dict[Priority, Timestamp]:
        return {p: format_ts(now + self.window(p) * DUE_SOON_FRACTION) for p in Priority}


class SlaSweeper:
    """Every ``interval`` seconds: flag overdue unresolved tickets as breached (counting each in
    servicedesk_sla_breaches_total once, even with many replicas sweeping) and refresh
    servicedesk_tickets_open."""

    def __init__(
        self,
        *,
        store: TicketStore,
        metrics: Metrics,
        interval: float,
        now: Callable[[], datetime],
        business: BusinessMetrics | None = None,
    ) -> None:
        self._business = business or NoBusinessMetrics()
        self._store = store
        self._metrics = metrics
        self._interval = interval
        self._now = now

    async def sweep_once(self) -> Mapping[Priority, int]:
        breached = await self._store.mark_breached(format_ts(self._now()))
        for priority, count in breached.items():
            if count:
                self._metrics.sla_breaches.labels(priority.value).inc(count)
                self._business.sla_breached(priority.value, count)
        for priority, count in (await self._store.open_counts()).items():
            self._metrics.tickets_open.labels(priority.value).set(count)
            self._business.tickets_open(priority.value, count)
        return breached

    async def run(self) -> None:
        """Sweep until cancelled; a failed sweep is logged and retried next interval."""
        while True:
            try:
                breached = await self.sweep_once()
                total = sum(breached.values())
                if total:
                    log.info("sla sweep", extra={"fields": {"newly_breached": total}})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sla sweep failed", extra={"fields": {"error": repr(exc)}})
            await asyncio.sleep(self._interval)
