"""Reading the whole history in chunks (verify, export, seal), and storing seals.

Nothing here loads the events table into memory: every reader pages with a keyset (the last key
seen) so memory stays bounded by ``chunk`` however many hundreds of millions of events there are.
There is no verb to change or delete an event: the table refuses both (migration 0002).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hotline.engine.ticket import Event
from hotline.persistence import rows
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import SealRow

seals = SealRow.__table__
CHUNK = 1000


@dataclass(frozen=True)
class Head:
    """What a ticket's row says is the end of its chain."""

    ticket_id: int
    seq: int
    hash: str


@dataclass(frozen=True)
class Seal:
    """A seal as stored and as written to its file. A Merkle seal has a ``root`` (its leaves
    and tree are rows, ``persistence.seals``); a legacy seal (before 0007) lists ``heads``."""

    day: str
    sealed_at: datetime
    tickets: int
    digest: str
    heads: dict[str, Any]  # legacy: ticket id (as text) -> [seq, hash]; empty in a Merkle seal
    root: str | None = None
    previous: str | None = None  # the digest of the seal before it
    id: int | None = None  # its row in the database

    @property
    def legacy(self) -> bool:
        return self.root is None


def count_tickets(store: SqlStore, ticket_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(tickets)
    if ticket_id is not None:
        query = query.where(tickets.c.id == ticket_id)
    with store.reading() as conn:
        return conn.execute(query).scalar_one()


def heads(store: SqlStore, chunk: int = CHUNK) -> Iterator[Head]:
    """Every ticket's head, in id order."""
    after = 0
    while True:
        query = (
            sa.select(tickets.c.id, tickets.c.seq, tickets.c.head_hash)
            .where(tickets.c.id > after)
            .order_by(tickets.c.id)
            .limit(chunk)
        )
        with store.reading() as conn:
            found = [Head(r.id, r.seq, r.head_hash) for r in conn.execute(query)]
        yield from found
        if len(found) < chunk:
            return
        after = found[-1].ticket_id


def chains(
    store: SqlStore, ticket_id: int | None = None, chunk: int = CHUNK
) -> Iterator[tuple[Head, list[Event]]]:
    """Each ticket's head with its events in seq order, a chunk of tickets at a time."""
    batch: list[Head] = []
    for head in heads(store, chunk) if ticket_id is None else _one(store, ticket_id):
        batch.append(head)
        if len(batch) == chunk:
            yield from _with_events(store, batch)
            batch = []
    yield from _with_events(store, batch)


def _one(store: SqlStore, ticket_id: int) -> Iterator[Head]:
    ticket = store.load(ticket_id)  # raises UnknownTicket
    yield Head(ticket.id, ticket.seq, ticket.head_hash)


def _with_events(store: SqlStore, batch: list[Head]) -> Iterator[tuple[Head, list[Event]]]:
    if not batch:
        return
    query = (
        sa.select(events)
        .where(events.c.ticket_id.in_([h.ticket_id for h in batch]))
        .order_by(events.c.ticket_id, events.c.seq)
    )
    found: dict[int, list[Event]] = {h.ticket_id: [] for h in batch}
    with store.reading() as conn:
        for row in conn.execute(query):
            found[row.ticket_id].append(rows.event(row))
    for head in batch:
        yield head, found[head.ticket_id]


def stream(
    store: SqlStore, since: datetime, until: datetime | None = None, chunk: int = CHUNK
) -> Iterator[Event]:
    """Every event that occurred at or after ``since`` (and before ``until``), in the order
    they were written."""
    after = 0
    within = [events.c.occurred_at >= since]
    if until is not None:
        within.append(events.c.occurred_at < until)
    while True:
        query = (
            sa.select(events).where(events.c.id > after, *within).order_by(events.c.id).limit(chunk)
        )
        with store.reading() as conn:
            found = list(conn.execute(query))
        yield from (rows.event(r) for r in found)
        if len(found) < chunk:
            return
        after = found[-1].id


def save_seal(store: SqlStore, seal: Seal) -> None:
    with store.writing() as conn:
        conn.execute(
            seals.insert().values(
                day=seal.day,
                sealed_at=seal.sealed_at,
                tickets=seal.tickets,
                digest=seal.digest,
                heads=seal.heads,
            )
        )


def latest_seal(store: SqlStore) -> Seal | None:
    """The latest finished seal (one being written has no digest yet)."""
    return _seal_where(seals.c.digest != "", store)


def seal_by_digest(store: SqlStore, digest: str) -> Seal | None:
    return _seal_where(seals.c.digest == digest, store)


def seal_by_id(store: SqlStore, seal_id: int) -> Seal | None:
    return _seal_where(seals.c.id == seal_id, store)


def seal_listing(store: SqlStore, limit: int) -> list[Seal]:
    """The latest ``limit`` finished seals, newest first, without their ``heads`` (a legacy
    seal's are megabytes)."""
    narrow = [c for c in seals.c if c.name != "heads"]
    query = (
        sa.select(*narrow)
        .where(seals.c.digest != "")
        .order_by(seals.c.sealed_at.desc(), seals.c.id.desc())
        .limit(limit)
    )
    with store.reading() as conn:
        found = list(conn.execute(query))
    return [_seal(r, {}) for r in found]


def _seal_where(condition: Any, store: SqlStore) -> Seal | None:
    """The latest seal matching ``condition``. Its id is found first, on narrow columns, so
    that old seals' ``heads`` (megabytes each, before 0007) are never read while searching."""
    latest = (
        sa.select(seals.c.id)
        .where(condition)
        .order_by(seals.c.sealed_at.desc(), seals.c.id.desc())
        .limit(1)
    )
    with store.reading() as conn:
        row = conn.execute(sa.select(seals).where(seals.c.id == latest.scalar_subquery())).first()
    if row is None:
        return None
    return _seal(row, dict(row.heads or {}))


def _seal(row: Any, heads: dict[str, Any]) -> Seal:
    return Seal(
        row.day, row.sealed_at, row.tickets, row.digest, heads, row.root, row.previous, row.id
    )
