"""Open311 GeoReport v2 reads: service requests with their address and expected time, filtered
and ordered in SQL so the spec's cap (1000) applies after every filter."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.engine.ticket import Ticket
from hotline.persistence import MAX_ID, rows
from hotline.persistence.rows import deadlines, tickets
from hotline.persistence.sql import SqlStore

# The largest id the columns hold on every backend (PostgreSQL ``integer``).


@dataclass(frozen=True)
class RequestFilter:
    """What a GeoReport listing asks for. ``ids``, when given, override every other filter."""

    channel: str
    closed_states: Collection[str]
    ids: Collection[int] = ()
    categories: Collection[str] = ()
    since: datetime | None = None  # requested at or after
    until: datetime | None = None  # requested at or before
    status: str | None = None  # "open", "closed" or None for both


@dataclass(frozen=True)
class Request:
    """A ticket as GeoReport shows it: with the complainant's address (still to be masked) and
    the latest due time among its pending deadlines."""

    ticket: Ticket
    address: str | None
    expected: datetime | None


def find_requests(store: SqlStore, where: RequestFilter, limit: int) -> list[Request]:
    """Up to ``limit`` requests of ``where.channel``, newest first (ties: the higher id)."""
    expected = (
        sa.select(sa.func.max(deadlines.c.due_at))
        .where(deadlines.c.ticket_id == tickets.c.id, deadlines.c.status == "pending")
        .scalar_subquery()
    )
    query = (
        sa.select(tickets, expected.label("expected"))
        .where(tickets.c.channel == where.channel)
        .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
        .limit(limit)
    )
    if where.ids:
        query = query.where(tickets.c.id.in_([i for i in where.ids if 1 <= i <= MAX_ID]))
    else:
        query = _filtered(query, where)
    with store.reading() as conn:
        return [
            Request(rows.ticket(row), row.contact_address, row.expected)
            for row in conn.execute(query)
        ]


def _filtered(query: sa.Select, where: RequestFilter) -> sa.Select:
    if where.categories:
        query = query.where(tickets.c.category.in_(list(where.categories)))
    if where.since is not None:
        query = query.where(tickets.c.created_at >= where.since)
    if where.until is not None:
        query = query.where(tickets.c.created_at <= where.until)
    closed = tickets.c.state.in_(list(where.closed_states))
    if where.status == "closed":
        query = query.where(closed)
    elif where.status == "open":
        query = query.where(sa.not_(closed))
    return query
