"""Tickets: create, read (through the cache), list with filters, update (staff only)."""

from __future__ import annotations

import json
from typing import cast

from ..asgi import HttpError, Request, Response, dumps, json_response
from ..codec import page_dict, ticket_dict
from ..context import AppContext
from ..models import NewTicket, Priority, Role, Status, Ticket, TicketFilter, TicketPatch, User
from ..payloads import (
    enum_field,
    invalid,
    optional_enum,
    optional_id,
    page_args,
    required_object,
    text_field,
)
from ..router import Route
from ..timestamps import format_ts
from .roles import ANYONE, STAFF

__all__ = ["cache_key", "not_found", "routes", "visible_ticket"]

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000


def cache_key(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def not_found(ticket_id: int) -> HttpError:
    return HttpError(404, "not_found", f"ticket {ticket_id} not found")


async def visible_ticket(ctx: AppContext, user: User, ticket_id: int) -> Ticket:
    """The ticket, if it exists and ``user`` may see it (customers: their own only)."""
    ticket = await ctx.store.get_ticket(ticket_id)
    if ticket is None or (user.role is Role.CUSTOMER and ticket.customer_id != user.id):
        raise not_found(ticket_id)
    return ticket


def routes(ctx: AppContext) -> list[Route]:
    store, cache = ctx.store, ctx.cache

    async def create(request: Request) -> Response:
        user = cast(User, request.user)
        body = required_object(await request.json())
        title = text_field(body, "title", max_length=MAX_TITLE)
        description = text_field(body, "description", max_length=MAX_DESCRIPTION)
        priority = enum_field(body, "priority", Priority)
        now = ctx.now()
        due = format_ts(ctx.sla.due_at(now, priority))
        ticket = await store.create_ticket(
            NewTicket(title, description, priority, user.id, format_ts(now), due)
        )
        ctx.metrics.tickets_created.labels(priority.value).inc()
        ctx.business.ticket_created(priority.value)
        return json_response(ticket_dict(ticket), 201)

    async def get(request: Request) -> Response:
        user = cast(User, request.user)
        ticket_id = request.params["id"]
        key = cache_key(ticket_id)
        body = await cache.get(key)
        if body is None:
            ticket = await store.get_ticket(ticket_id)
            if ticket is None:
                raise not_found(ticket_id)
            body = dumps(ticket_dict(ticket))
            await cache.set(key, body)
            owner = ticket.customer_id
        elif user.role is Role.CUSTOMER:
            owner = json.loads(body)["customer_id"]
        else:
            owner = None
        if user.role is Role.CUSTOMER and owner != user.id:
            raise not_found(ticket_id)
        return Response(200, body)

    async def list_(request: Request) -> Response:
        user = cast(User, request.user)
        query = request.query
        page, per_page = page_args(query)
        customer_id = optional_id(query, "customer_id")
        if user.role is Role.CUSTOMER:
            if customer_id not in (None, user.id):
                raise HttpError(403, "forbidden", "customers may only list their own tickets")
            customer_id = user.id
        where = TicketFilter(
            status=optional_enum(query, "status", Status),
            priority=optional_enum(query, "priority", Priority),
            assignee_id=optional_id(query, "assignee_id"),
            customer_id=customer_id,
        )
        found = await store.list_tickets(where, page, per_page)
        return json_response(page_dict(found, ticket_dict))

    async def update(request: Request) -> Response:
        ticket_id = request.params["id"]
        body = required_object(await request.json())
        if not body.keys() & {"status", "priority", "assignee_id"}:
            raise invalid("body", "at least one of status, priority, assignee_id")
        current = await store.get_ticket(ticket_id)
        if current is None:
            raise not_found(ticket_id)
        status = enum_field(body, "status", Status) if "status" in body else None
        priority = enum_field(body, "priority", Priority) if "priority" in body else None
        assignee_id = optional_id(body, "assignee_id")
        if assignee_id is not None:
            assignee = await store.get_user(assignee_id)
            if assignee is None or assignee.role is Role.CUSTOMER:
                raise invalid("assignee_id", "the id of an agent or admin, or null")
        due = None
        if priority is not None and priority is not current.priority:
            due = ctx.sla.due_ts(current.created_at, priority)
        patch = TicketPatch(
            updated_at=format_ts(ctx.now()),
            status=status,
            priority=priority,
            sla_due_at=due,
            change_assignee="assignee_id" in body,
            assignee_id=assignee_id,
        )
        ticket = await store.update_ticket(ticket_id, patch)
        await cache.delete(cache_key(ticket_id))
        if ticket is None:
            raise not_found(ticket_id)
        return json_response(ticket_dict(ticket))

    return [
        Route("POST", "/api/tickets", create, ANYONE),
        Route("GET", "/api/tickets", list_, ANYONE),
        Route("GET", "/api/tickets/{id}", get, ANYONE),
        Route("PATCH", "/api/tickets/{id}", update, STAFF),
    ]
