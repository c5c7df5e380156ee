"""Read-side queries for the API: ticket listings with filters and keyset (cursor) pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.engine.ticket import Ticket
from hotline.persistence import rows, whistles
from hotline.persistence.rows import OPEN, deadlines, definitions, tickets
from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class TicketFilter:
    """What a listing asks for; ``visible_to_unit`` restricts it to what a unit may see."""

    state: str | None = None
    unit: str | None = None  # lead or co-unit
    category: str | None = None
    channel: str | None = None
    overdue_at: datetime | None = None  # with a pending deadline due before this instant
    created_after: datetime | None = None
    created_before: datetime | None = None
    visible_to_unit: str | None = None
    text: str | None = None  # words the summary contains
    id_at_most: int | None = None  # a bound on the scan, for filters no index serves


def involves(unit: str) -> sa.ColumnElement[bool]:
    """Tickets ``unit`` leads or co-handles (the SQL side of ``access.unit_sees``).

    ``co_units`` is a JSON list of codes, written by json.dumps on both backends, so the quoted
    code is matched in its text; unit codes carry no quotes.
    """
    quoted = '%"' + unit.replace("%", r"\%").replace("_", r"\_") + '"%'
    return sa.or_(
        tickets.c.lead_unit == unit,
        sa.cast(tickets.c.co_units, sa.Text).like(quoted, escape="\\"),
    )


def summons(unit: str) -> sa.ColumnElement[bool]:
    """Tickets whose latest whistle, open or closed, summons ``unit`` (``access.summoned``).

    The ticket's snapshot holds only its latest whistle, so earlier whistles do not count here.
    """
    p, w = whistles.participants.c, whistles.whistles.c
    latest = sa.select(sa.func.max(w.no)).where(w.ticket_id == tickets.c.id).scalar_subquery()
    return (
        sa.select(p.id)
        .where(p.ticket_id == tickets.c.id, p.department == unit, p.whistle_no == latest)
        .exists()
    )


def visible_to(unit: str) -> sa.ColumnElement[bool]:
    """Tickets a unit token may see (the SQL side of ``access.visible``)."""
    return sa.or_(involves(unit), summons(unit))


def newest_ticket_id(store: SqlStore) -> int:
    """The highest ticket id (0 with none): where a bounded scan ends."""
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.max(tickets.c.id))).scalar_one() or 0


def find_tickets(store: SqlStore, where: TicketFilter, after: int, limit: int) -> list[Ticket]:
    """Up to ``limit`` tickets with ids above ``after`` (the cursor), oldest first."""
    query = sa.select(tickets).where(tickets.c.id > after).order_by(tickets.c.id).limit(limit)
    for column, value in (
        (tickets.c.state, where.state),
        (tickets.c.category, where.category),
        (tickets.c.channel, where.channel),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.unit is not None:
        query = query.where(involves(where.unit))
    if where.visible_to_unit is not None:
        query = query.where(visible_to(where.visible_to_unit))
    if where.id_at_most is not None:
        query = query.where(tickets.c.id <= where.id_at_most)
    if where.created_after is not None:
        query = query.where(tickets.c.created_at >= where.created_after)
    if where.created_before is not None:
        query = query.where(tickets.c.created_at < where.created_before)
    if where.text:
        escaped = where.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(tickets.c.summary.like(f"%{escaped}%", escape="\\"))
    if where.overdue_at is not None:
        # Driven from the open deadlines past due (a partial index), not from every ticket:
        # a few thousand late tickets among a million are found without reading the others.
        late = sa.select(deadlines.c.ticket_id).where(
            deadlines.c.status.in_(OPEN),
            deadlines.c.due_at < where.overdue_at,
        )
        query = query.where(tickets.c.id.in_(late))
    with store.reading() as conn:
        return [rows.ticket(row) for row in conn.execute(query)]


def latest_definitions(store: SqlStore) -> list[tuple[str, int]]:
    """Every stored definition's name with its newest version."""
    query = (
        sa.select(definitions.c.name, sa.func.max(definitions.c.version))
        .group_by(definitions.c.name)
        .order_by(definitions.c.name)
    )
    with store.reading() as conn:
        return [(name, version) for name, version in conn.execute(query)]
