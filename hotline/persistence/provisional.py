"""Which tickets have a deadline counted over a year without an official schedule."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.persistence.rows import OPEN, deadlines
from hotline.persistence.sql import SqlStore


def ticket_ids(store: SqlStore) -> list[int]:
    """Tickets with an open provisional deadline, oldest first (a partial index holds them)."""
    query = (
        sa.select(deadlines.c.ticket_id)
        .where(deadlines.c.provisional, deadlines.c.status.in_(OPEN))
        .group_by(deadlines.c.ticket_id)
        .order_by(deadlines.c.ticket_id)
    )
    with store.reading() as conn:
        return list(conn.execute(query).scalars())


def count(store: SqlStore) -> int:
    """How many open deadlines are provisional right now."""
    query = sa.select(sa.func.count()).where(deadlines.c.provisional, deadlines.c.status.in_(OPEN))
    with store.reading() as conn:
        return conn.execute(query).scalar_one()
