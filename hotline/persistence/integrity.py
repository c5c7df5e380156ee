"""What ``hotline soak`` reads back from the database to check the promises after a run of
kills and pauses: intake by key, firings against the history, due rungs left, the outbox.

Each function is one read; the soak compares the answers with what its clients saw.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hotline.persistence.rows import deadlines, events, firings, outbox, tickets

if TYPE_CHECKING:
    from hotline.persistence.sql import SqlStore


@dataclass(frozen=True)
class Message:
    handler: str
    key: str
    status: str


def ticket_count(store: SqlStore) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one()


def tickets_by_key(store: SqlStore, client: str) -> dict[str, list[int]]:
    """Every ticket ``client`` submitted with a key, by the key it sent (two ids: a duplicate)."""
    query = sa.select(tickets.c.id, tickets.c.idempotency_key).where(
        tickets.c.idempotency_key.is_not(None)
    )
    found: dict[str, list[int]] = {}
    with store.reading() as conn:
        for ticket_id, scoped in conn.execute(query):
            owner, key = json.loads(scoped)
            if owner == client:
                found.setdefault(key, []).append(ticket_id)
    return found


def firings_without_one_event(store: SqlStore, fired_triggers: Collection[str]) -> list[int]:
    """Deadlines whose firing rows and firing events (``fired_triggers``) differ in number:
    a rung fired twice, or a firing recorded without its history, or history without its row."""
    rows = sa.select(firings.c.deadline_id, sa.func.count()).group_by(firings.c.deadline_id)
    fired = sa.select(events.c.payload).where(events.c.trigger.in_(list(fired_triggers)))
    with store.reading() as conn:
        by_rows = Counter(dict(conn.execute(rows).all()))
        by_events = Counter(payload.get("deadline_id") for (payload,) in conn.execute(fired))
    return sorted(d for d in by_rows.keys() | by_events.keys() if by_rows[d] != by_events[d])


def due_unfired(store: SqlStore, before: datetime) -> int:
    """Pending deadline rungs that fell due before ``before`` and have not fired."""
    query = sa.select(sa.func.count()).where(
        deadlines.c.status == "pending", deadlines.c.fire_at <= before
    )
    with store.reading() as conn:
        return conn.execute(query).scalar_one()


def firing_count(store: SqlStore) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(firings)).scalar_one()


def messages(store: SqlStore, created_before: datetime) -> list[Message]:
    """Every outbox message written before ``created_before``, with its status."""
    query = sa.select(outbox.c.handler, outbox.c.key, outbox.c.status).where(
        outbox.c.created_at <= created_before
    )
    with store.reading() as conn:
        return [Message(*row) for row in conn.execute(query)]


def commands_by(store: SqlStore, actor: str) -> Counter[tuple[int, str]]:
    """How many events ``actor`` caused, by (ticket, trigger)."""
    query = (
        sa.select(events.c.ticket_id, events.c.trigger, sa.func.count())
        .where(events.c.actor == actor)
        .group_by(events.c.ticket_id, events.c.trigger)
    )
    with store.reading() as conn:
        return Counter({(t, trigger): n for t, trigger, n in conn.execute(query)})
