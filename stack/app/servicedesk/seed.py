"""Realistic seed data: users, tickets spread over the past 30 days, and comment threads.

Older tickets are far more often resolved (a few stay open for weeks); unresolved ones past
their SLA due time are stored as already breached (history, not counted in
servicedesk_sla_breaches_total). With ``--seed`` the
data and the tokens are deterministic (timestamps stay relative to the time of the run).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import vocabulary as vocab
from .auth import hash_token, new_token
from .metrics import Metrics
from .models import (
    UNRESOLVED,
    Priority,
    Role,
    SeedBatch,
    SeedComment,
    SeedTicket,
    SeedUser,
    Status,
)
from .settings import Settings
from .sla import SlaPolicy
from .store import Conflict, build_store
from .timestamps import format_ts

__all__ = ["SeedError", "SeedSpec", "SeedTokens", "generate", "seed_database", "write_tokens"]

HISTORY = timedelta(days=30)
PRIORITY_WEIGHTS = {Priority.CRITICAL: 5, Priority.HIGH: 20, Priority.MEDIUM: 45, Priority.LOW: 30}
OPEN_STATUS_WEIGHTS = {Status.OPEN: 50, Status.IN_PROGRESS: 35, Status.WAITING: 15}


class SeedError(Exception):
    """Seeding failed in a way the operator can fix (message is one line)."""


@dataclass(frozen=True, slots=True)
class SeedSpec:
    tickets: int
    agents: int
    customers: int
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class SeedTokens:
    admin: str
    agents: tuple[str, ...]
    customers: tuple[str, ...]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"


def _fill(rng: random.Random, template: str) -> str:
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    return template.format(**{f: rng.choice(vocab.FILLERS[f]) for f in fields})


def _description(rng: random.Random, category: str) -> str:
    parts = [
        rng.choice(vocab.OPENERS[category]),
        _fill(rng, rng.choice(vocab.IMPACTS)),
        rng.choice(vocab.TRIED),
        rng.choice(vocab.CLOSING_LINES),
    ]
    return " ".join(p for p in parts if p)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def generate(
    spec: SeedSpec,
    *,
    rng: random.Random,
    now: datetime,
    sla: SlaPolicy,
    admin_token: str | None,
    token_rng: random.Random | None,
) -> tuple[SeedBatch, SeedTokens]:
    """Build the batch in memory. Users: [admin?] + agents + customers (batch indexes)."""
    users: list[SeedUser] = []
    joined = format_ts(now - HISTORY)
    admin = admin_token or new_token(token_rng)
    if admin_token is None:
        users.append(SeedUser("Seed Admin", Role.ADMIN, hash_token(admin), joined))
    agent_tokens = tuple(new_token(token_rng) for _ in range(spec.agents))
    customer_tokens = tuple(new_token(token_rng) for _ in range(spec.customers))
    first_agent = len(users)
    for token in agent_tokens:
        users.append(SeedUser(f"{_name(rng)} (support)", Role.AGENT, hash_token(token), joined))
    first_customer = len(users)
    for token in customer_tokens:
        name = f"{_name(rng)} ({rng.choice(vocab.COMPANIES)})"
        users.append(SeedUser(name, Role.CUSTOMER, hash_token(token), joined))

    priorities, weights = zip(*PRIORITY_WEIGHTS.items(), strict=True)
    open_statuses, open_weights = zip(*OPEN_STATUS_WEIGHTS.items(), strict=True)
    tickets: list[SeedTicket] = []
    comments: list[SeedComment] = []
    for index in range(spec.tickets):
        category, title_template = rng.choice(vocab.TICKET_TEMPLATES)
        priority = rng.choices(priorities, weights)[0]
        created = now - HISTORY * rng.random()
        age_days = (now - created) / timedelta(days=1)
        done = rng.random() < min(0.97, 0.1 + 0.25 * age_days)
        if done:
            status = Status.RESOLVED if rng.random() < 0.6 else Status.CLOSED
        else:
            status = rng.choices(open_statuses, open_weights)[0]
        customer = first_customer + rng.randrange(spec.customers)
        assigned = status is not Status.OPEN or rng.random() < 0.4
        assignee = first_agent + rng.randrange(spec.agents) if assigned else None
        due = sla.due_at(created, priority)
        resolved = _between(rng, created, now) if done else None
        end = resolved or now
        thread_times = sorted(
            _between(rng, created, end)
            for _ in range(rng.randint(1, 6) if done else rng.randint(0, 3))
        )
        for turn, at in enumerate(thread_times):
            by_agent = assignee is not None and turn % 2 == 0
            author = assignee if by_agent and assignee is not None else customer
            replies = vocab.AGENT_REPLIES if by_agent else vocab.CUSTOMER_REPLIES
            comments.append(SeedComment(index, author, rng.choice(replies), format_ts(at)))
        breached = (
            (resolved > due) if resolved is not None else (status in UNRESOLVED and due < now)
        )
        tickets.append(
            SeedTicket(
                title=_fill(rng, title_template),
                description=_description(rng, category),
                priority=priority,
                status=status,
                customer=customer,
                assignee=assignee,
                created_at=format_ts(created),
                updated_at=format_ts(
                    max([created, *thread_times, *([resolved] if resolved else [])])
                ),
                sla_due_at=format_ts(due),
                sla_breached=breached,
                resolved_at=None if resolved is None else format_ts(resolved),
            )
        )
    batch = SeedBatch(tuple(users), tuple(tickets), tuple(comments))
    return batch, SeedTokens(admin, agent_tokens, customer_tokens)


def write_tokens(path: Path, tokens: SeedTokens) -> None:
    """Write the tokens JSON with mode 0600 (also when the file already existed)."""
    data = {
        "admin": tokens.admin,
        "agents": list(tokens.agents),
        "customers": list(tokens.customers),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump(data, out, indent=2)
        out.write("\n")


async def seed_database(settings: Settings, spec: SeedSpec, tokens_out: Path) -> SeedTokens:
    """Migrate, insert one generated batch, write the tokens file."""
    seed = spec.seed if spec.seed is not None else secrets.randbits(64)
    rng = random.Random(seed)
    token_rng = random.Random(f"tokens-{seed}") if spec.seed is not None else None
    now = datetime.now(UTC)
    batch, tokens = generate(
        spec,
        rng=rng,
        now=now,
        sla=SlaPolicy.from_settings(settings),
        admin_token=settings.admin_token,
        token_rng=token_rng,
    )
    store = build_store(settings.for_cli(), Metrics())
    await store.open()
    try:
        await store.migrate()
        if settings.admin_token:
            admin_hash = hash_token(settings.admin_token)
            await store.ensure_user("admin", Role.ADMIN, admin_hash, format_ts(now))
        try:
            await store.bulk_load(batch)
        except Conflict as exc:
            raise SeedError(
                f"this database already holds the users of --seed {spec.seed}; "
                "use another seed or a fresh database"
            ) from exc
    finally:
        await store.close()
    write_tokens(tokens_out, tokens)
    return tokens
