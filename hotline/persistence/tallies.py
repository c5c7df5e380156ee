"""Counts the console's dashboard shows: intake by channel and overdue tickets by unit.

Each is one aggregate query; tickets by state are ``gauges`` (what ``/metrics`` reads).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.rows import OPEN, deadlines, tickets
from hotline.persistence.sql import SqlStore


def intake_by_channel(store: SqlStore, start: datetime, end: datetime) -> dict[str, int]:
    """Tickets received in [start, end), by intake channel."""
    query = (
        sa.select(tickets.c.channel, sa.func.count())
        .where(tickets.c.created_at >= start, tickets.c.created_at < end)
        .group_by(tickets.c.channel)
        .order_by(tickets.c.channel)
    )
    with store.reading() as conn:
        return {channel: n for channel, n in conn.execute(query)}


def overdue_by_unit(store: SqlStore, now: datetime) -> dict[str, int]:
    """Tickets with an open deadline past its due time at ``now``, by lead unit (``""``: none
    yet), most first."""
    late = (
        sa.select(deadlines.c.ticket_id)
        .where(deadlines.c.status.in_(OPEN), deadlines.c.due_at < now)
        .distinct()
        .subquery()
    )
    unit = sa.func.coalesce(tickets.c.lead_unit, "")
    query = (
        sa.select(unit, sa.func.count())
        .join_from(tickets, late, late.c.ticket_id == tickets.c.id)
        .group_by(unit)
        .order_by(sa.func.count().desc(), unit)
    )
    with store.reading() as conn:
        return {name: n for name, n in conn.execute(query)}
