"""Whole histories of the tickets received in a period, streamed a chunk at a time.

A what-if replay reads every ticket of a month with its events; loading a month at once would
hold millions of events, so tickets come in the order they were received (then by id),
``chunk`` tickets per pair of queries. Each page is sought on ``ix_tickets_received`` from the
last ticket of the page before (keyset paging): paging in id order made the database sort the
period's tickets once a page, and a page bounded by the period's start made it scan them, so a
month cost the square of its size. Read-only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from hotline.engine.ticket import Event
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


class Header(NamedTuple):
    """What a stream tells of a ticket besides its history: a what-if reads no more of it, and
    building whole tickets (their JSON columns, their whistle) was a quarter of reading a month."""

    id: int
    created_at: datetime
    lead_unit: str | None  # as it is now


def count(store: SqlStore, scope: Received) -> int:
    """How many tickets ``stream`` yields (for a progress bar)."""
    where = _where(scope.start, scope.end, scope.definition, scope.unit, scope.category)
    query = sa.select(sa.func.count()).select_from(tickets).where(where)
    with store.reading() as conn:
        return conn.execute(query).scalar_one()


def stream(
    store: SqlStore, scope: Received, chunk: int = 500
) -> Iterator[tuple[Header, list[Event]]]:
    """Each ticket of ``scope`` with its whole history, in the order received."""
    page = _page(scope.unit is not None, scope.category is not None)
    values = {"end": scope.end, "definition": scope.definition, "chunk": chunk}
    values |= {"unit": scope.unit, "category": scope.category}
    values |= {"after_at": scope.start, "after_id": 0}  # before the period's first ticket
    while True:
        with store.reading() as conn:
            found = page.rows(conn, values)
            if not found:
                return
            ids = [t.id for t in found]
            history: dict[int, list[Event]] = {i: [] for i in ids}
            for row in _EVENTS.for_dialect(conn).rows(conn, {"ids": ids}):
                history[row[0]].append(Event(*row))
        yield from ((t, history[t.id]) for t in found)
        values |= {"after_at": found[-1].created_at, "after_id": found[-1].id}


@cache
def _page(by_unit: bool, by_category: bool) -> compiled.Statement:
    """A page of the scope's tickets after (``after_at``, ``after_id``), compiled once for each
    choice of filters: a what-if reads a month in thousands of pages."""
    t = tickets.c
    after = (sa.bindparam("after_at", type_=t.created_at.type), sa.bindparam("after_id"))
    where = _where(
        after[0],  # not the period's start: the index is searched from the page's first ticket
        sa.bindparam("end", type_=t.created_at.type),
        sa.bindparam("definition", type_=t.definition_name.type),
        sa.bindparam("unit", type_=t.lead_unit.type) if by_unit else None,
        sa.bindparam("category", type_=t.category.type) if by_category else None,
    )
    received = (t.created_at, t.id)
    return compiled.Statement(
        sa.select(*(t[name] for name in Header._fields))
        .where(where, sa.tuple_(*received) > sa.tuple_(*after))
        .order_by(*received)
        .limit(sa.bindparam("chunk")),
        row=Header,
    )


def _events(dialect: str) -> Any:
    """The histories of a chunk of tickets, compiled once: a what-if reads ten events a
    ticket, and SQLAlchemy's result rows cost more than SQLite reading them."""
    chosen = compiled.one_of(events.c.ticket_id, "ids", dialect)
    return sa.select(*rows.event_columns()).where(chosen).order_by(events.c.ticket_id, events.c.seq)


_EVENTS = compiled.ByDialect(_events)


def _where(start: Any, end: Any, definition: Any, unit: Any, category: Any) -> Any:
    """The scope's filters, on its values or on parameters to bind them to (None: no filter)."""
    t = tickets.c
    where = sa.and_(t.created_at >= start, t.created_at < end, t.definition_name == definition)
    if unit is not None:
        where = sa.and_(where, t.lead_unit == unit)
    if category is not None:
        where = sa.and_(where, t.category == category)
    return where
