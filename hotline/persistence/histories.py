"""Whole histories of the tickets received in a period, streamed a chunk at a time.

A what-if replay reads every ticket of a month with its events; loading a month at once would
hold millions of events, so tickets come in id order, ``chunk`` tickets per pair of queries.
Read-only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hotline.engine.ticket import Event, Ticket
from hotline.persistence import compiled, rows
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class Received:
    """Which tickets: received in [start, end) on ``definition``, optionally of one lead unit
    (as it is now) and category."""

    start: datetime
    end: datetime
    definition: str
    unit: str | None = None
    category: str | None = None


def count(store: SqlStore, scope: Received) -> int:
    """How many tickets ``stream`` yields (for a progress bar)."""
    query = sa.select(sa.func.count()).select_from(tickets).where(_where(scope))
    with store.reading() as conn:
        return conn.execute(query).scalar_one()


def stream(
    store: SqlStore, scope: Received, chunk: int = 500
) -> Iterator[tuple[Ticket, list[Event]]]:
    """Each ticket of ``scope`` (as it is now) with its whole history, in id order."""
    after = 0
    while True:
        query = (
            sa.select(tickets)
            .where(_where(scope), tickets.c.id > after)
            .order_by(tickets.c.id)
            .limit(chunk)
        )
        with store.reading() as conn:
            found = [rows.ticket(r) for r in conn.execute(query)]
            if not found:
                return
            ids = [t.id for t in found]
            history: dict[int, list[Event]] = {i: [] for i in ids}
            for row in _EVENTS.for_dialect(conn).rows(conn, {"ids": ids}):
                history[row[0]].append(Event(*row))
        yield from ((t, history[t.id]) for t in found)
        after = ids[-1]


def _events(dialect: str) -> Any:
    """The histories of a chunk of tickets, compiled once: a what-if reads ten events a
    ticket, and SQLAlchemy's result rows cost more than SQLite reading them."""
    chosen = compiled.one_of(events.c.ticket_id, "ids", dialect)
    return sa.select(*rows.event_columns()).where(chosen).order_by(events.c.ticket_id, events.c.seq)


_EVENTS = compiled.ByDialect(_events)


def _where(scope: Received) -> sa.ColumnElement[bool]:
    t = tickets.c
    where = sa.and_(
        t.created_at >= scope.start, t.created_at < scope.end, t.definition_name == scope.definition
    )
    if scope.unit is not None:
        where = sa.and_(where, t.lead_unit == scope.unit)
    if scope.category is not None:
        where = sa.and_(where, t.category == scope.category)
    return where
