"""HTTP routes, one module per concept; each exposes ``routes(ctx) -> list[Route]``."""

from __future__ import annotations

from ..context import AppContext
from ..router import Mount, Route
from . import comments, health, metrics, search, sla, static, tickets, users

__all__ = ["all_mounts", "all_routes"]


def all_routes(ctx: AppContext) -> list[Route]:
    out: list[Route] = []
    for module in (health, metrics, users, tickets, comments, search, sla, static):
        out.extend(module.routes(ctx))
    return out


def all_mounts(ctx: AppContext) -> list[Mount]:
    return static.mounts(ctx)
