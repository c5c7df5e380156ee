"""Counts of history events by trigger and by one payload field (e.g. Art. 11's reason codes).

Generic on purpose: which triggers and which field matter is the definition's business, so a
report names them and this query knows nothing of any workflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.persistence.rows import events
from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class Outcome:
    trigger: str
    value: str | None  # the field's value; None when no field was asked for
    count: int


def count(
    store: SqlStore,
    start: datetime,
    end: datetime,
    field: str | None = None,
    triggers: Sequence[str] = (),
) -> list[Outcome]:
    """Events recorded in [start, end) by trigger (and by ``field``'s value, skipping events
    without it), most frequent first."""
    value = events.c.payload[field].as_string() if field else sa.null()
    query = (
        sa.select(events.c.trigger, value.label("value"), sa.func.count().label("n"))
        .where(events.c.occurred_at >= start, events.c.occurred_at < end)
        .group_by(events.c.trigger, value)
        .order_by(sa.desc("n"), events.c.trigger)
    )
    if field:
        query = query.where(value.is_not(None))
    if triggers:
        query = query.where(events.c.trigger.in_(tuple(triggers)))
    with store.reading() as conn:
        return [Outcome(t, v, n) for t, v, n in conn.execute(query)]
