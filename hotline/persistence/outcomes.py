"""Counts of history events by trigger, by one payload field (e.g. Art. 11's reason codes) and
by the unit holding the ticket when the event happened (e.g. Art. 12 objections per unit).

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

UNIT_FIELD = "lead_unit"  # the engine's own column: who holds the ticket (see engine.decide)


@dataclass(frozen=True)
class Outcome:
    trigger: str
    value: str | None  # the field's value; None when no field was asked for
    unit: str | None  # the lead unit just before the event; None unless asked for
    count: int


def count(
    store: SqlStore,
    start: datetime,
    end: datetime,
    field: str | None = None,
    triggers: Sequence[str] = (),
    by_unit: bool = False,
) -> list[Outcome]:
    """Events recorded in [start, end) by trigger (by ``field``'s value, skipping events
    without it; by the unit holding the ticket just before each event), most frequent first."""
    value = events.c.payload[field].as_string() if field else sa.null()
    unit = _unit_before() if by_unit else sa.null()
    chosen = sa.select(
        events.c.trigger.label("trigger"), value.label("value"), unit.label("unit")
    ).where(events.c.occurred_at >= start, events.c.occurred_at < end)
    if field:
        chosen = chosen.where(value.is_not(None))
    if triggers:
        chosen = chosen.where(events.c.trigger.in_(tuple(triggers)))
    rows = chosen.subquery()
    query = (
        sa.select(rows.c.trigger, rows.c.value, rows.c.unit, sa.func.count().label("n"))
        .group_by(rows.c.trigger, rows.c.value, rows.c.unit)
        .order_by(sa.desc("n"), rows.c.trigger, rows.c.unit)
    )
    with store.reading() as conn:
        return [Outcome(*row) for row in conn.execute(query)]


def _unit_before() -> sa.ScalarSelect[str]:
    """The lead unit the latest earlier event of the same ticket named (its dispatch)."""
    prior = events.alias("prior")
    named = prior.c.payload[UNIT_FIELD].as_string()
    return (
        sa.select(named)
        .where(prior.c.ticket_id == events.c.ticket_id, prior.c.seq < events.c.seq)
        .where(named.is_not(None))
        .order_by(prior.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
