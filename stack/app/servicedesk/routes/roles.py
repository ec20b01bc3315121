"""Who may call what."""

from __future__ import annotations

from ..models import Role

__all__ = ["ADMIN", "ANYONE", "STAFF"]

ANYONE = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.AGENT})
ADMIN = frozenset({Role.ADMIN})
