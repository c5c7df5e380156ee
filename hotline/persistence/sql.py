"""The store: tickets, history, deadlines and outbox in one SQL database.

SQLite (embedded default) and PostgreSQL share this code; where they differ (write locking,
claims) the difference stays in ``db``. ``SqlStore`` is one class made of verb groups, one
module per noun: tickets and their decisions here (the hot path of every command, SQLAlchemy
Core on the sqlmodel tables), ``definitions``, ``schedule`` (deadline rungs) and ``outbox``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from hotline import clock
from hotline.engine.decision import Decision
from hotline.engine.ticket import Event, Ticket
from hotline.errors import AlreadyFired, KeyReused, UnknownTicket
from hotline.persistence import MAX_ID, compiled, definitions, due, facts, outbox, rows, writes
from hotline.persistence.rows import deadlines, events, tickets

# The hot path's statements, compiled once per dialect and run on the DB-API cursor (see
# ``compiled``). A ticket is read with the columns of the engine's snapshot only: never the
# contact details, decoded for nothing. Batches lock their tickets in id order (``update_each``).
_BY_ID = tickets.c.id == sa.bindparam("b_id")
_SNAPSHOT = sa.select(*(tickets.c[name] for name in rows.TICKET_SNAPSHOT)).where(_BY_ID)
LOAD_TICKET = compiled.Statement(_SNAPSHOT)
LOCK_TICKET = compiled.Statement(_SNAPSHOT.with_for_update())
LOAD_DEADLINES = compiled.Statement(
    sa.select(deadlines.c.id, *(deadlines.c[name] for name in rows.DEADLINE_FIELDS))
    .where(
        deadlines.c.ticket_id == sa.bindparam("b_id"),
        deadlines.c.status.in_([sa.literal(s) for s in rows.OPEN]),  # not expanding: compiled once
    )
    .order_by(deadlines.c.id)
)
LOCK_TICKETS = (
    sa.select(tickets.c.id)
    .where(tickets.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    .order_by(tickets.c.id)
    .with_for_update()
)
# A new ticket: what intake knows, and the columns' defaults (a compiled statement has none).
NEW_TICKET = {"version": 0, "round": 1, "lead_unit": None, "excluded": False, "seq": 0}
NEW_TICKET |= {"head_hash": "", tickets.c.whistle.key: None, "co_units": []}
INSERT_TICKET = compiled.Statement(
    tickets.insert().returning(tickets.c.id), [c.key for c in tickets.c if c.key != "id"]
)


@dataclass(frozen=True)
class NewTicket:
    """What intake knows about a new ticket before it has an id."""

    definition: str
    definition_version: int
    state: str
    category: str
    urgency: str
    channel: str
    summary: str = ""
    fields: dict[str, Any] | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None
    idempotency_key: str | None = None  # as the client sent it
    idempotency_client: str = ""  # whose key it is: keys of different clients never meet
    idempotency_digest: str | None = None  # of the request it came with
    contact_more: dict[str, str] | None = None


# Personal data beyond name, phone and address that an intake may give (Open311 does).
MORE_CONTACT = ("email", "device_id", "account_id")

Decide = Callable[[Ticket], Decision | None]
# Runs first in an update's transaction; False means "not any more": write nothing.
Guard = Callable[[sa.Connection], bool]


class SqlStore(definitions.DefinitionVerbs, due.DueVerbs, outbox.OutboxVerbs):
    """Domain verbs over one database URL; every write is one transaction.

    The engine, its transactions and ``migrate`` come from ``db.Database``; the definition,
    deadline-schedule and outbox verbs from the module of each noun.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        super().__init__(url, **engine_kwargs)
        # How each definition version's histories are read for the assessment: the service
        # tells, the writes fold each decision into its ticket's facts (``facts.refresh``).
        self.readings = facts.Readings()

    # -- tickets ------------------------------------------------------------------------------

    def load(self, ticket_id: int) -> Ticket:
        """The ticket's current snapshot with its open deadlines; raise UnknownTicket."""
        with self.reading() as conn:
            return self._load(conn, ticket_id)

    def create(self, new: NewTicket, decide: Decide, now: datetime) -> Ticket:
        """Insert a ticket and apply ``decide(ticket)`` in the same transaction.

        With an idempotency key, a key the same client used before returns that ticket and
        writes nothing; KeyReused if it came then with another request (another digest).
        """
        key = _scoped(new)
        if key is not None and (existing := self._by_key(key, new)) is not None:
            return existing
        try:
            with self.writing() as conn:
                row = _new_row(new, key, clock.utc(now))
                row["id"] = INSERT_TICKET.rows(conn, row)[0].id
                # The ticket as just written, without reading it back: it has no deadlines yet.
                decision = decide(rows.ticket(SimpleNamespace(**row)))
                assert decision is not None, "a submit always decides"
                self._apply(conn, decision)
                return decision.after
        except sa.exc.IntegrityError:
            # A concurrent submit with the same key won the race: return its ticket.
            existing = self._by_key(key, new) if key is not None else None
            if existing is None:
                raise
            return existing

    def update(
        self,
        ticket_id: int,
        decide: Decide,
        fired_by: str | None = None,
        guard: Guard | None = None,
    ) -> Decision | None:
        """Load the ticket, apply ``decide(ticket)``, commit; ``fired_by`` names the replica
        on the decision's firing rows. A ``guard`` returning False makes it write nothing and
        return None (see ``delivery.consume``).

        Raise UnknownTicket, StaleVersion or whatever ``decide`` raises, and then write
        nothing; a ``decide`` that returns None writes nothing either.
        """
        with self._firing_conflicts(), self.writing() as conn:
            if guard is not None and not guard(conn):
                return None
            decision = decide(self._load(conn, ticket_id, for_update=True))
            if decision is not None:
                self._apply(conn, decision, fired_by)
            return decision

    def update_each(
        self,
        updates: Sequence[tuple[int, Decide]],
        fired_by: str | None = None,
        guard: Guard | None = None,
    ) -> list[Decision | None]:
        """``update`` for each (ticket id, decide) in order, all in one transaction: all are
        written or, if any raises, none. A ``guard`` returning False raises AlreadyFired.

        The tickets are locked up front in id order, so that replicas committing batches that
        share a ticket wait for each other instead of deadlocking.
        """
        ids = sorted({ticket_id for ticket_id, _ in updates})
        decisions: list[Decision | None] = [None] * len(updates)
        with self._firing_conflicts(), self.writing() as conn:
            conn.execute(LOCK_TICKETS, {"b_ids": ids}).all()
            if guard is not None and not guard(conn):
                raise AlreadyFired("a claim of this batch was taken over by another replica")
            for wave in _waves(updates):
                loaded = writes.load_many(conn, (updates[i][0] for i in wave))
                for i in wave:
                    ticket_id, decide = updates[i]
                    if ticket_id not in loaded:
                        raise UnknownTicket(ticket_id)
                    decisions[i] = decide(loaded[ticket_id])
                writes.apply(
                    conn,
                    [d for i in wave if (d := decisions[i]) is not None],
                    self.readings,
                    fired_by,
                )
            return decisions

    def update_many(self, ticket_ids: list[int], decide: Decide) -> list[Decision]:
        """``update`` for several tickets in one transaction: every one is written, or none."""
        written = []
        with self.writing() as conn:
            for ticket_id in ticket_ids:
                decision = decide(self._load(conn, ticket_id, for_update=True))
                if decision is not None:
                    self._apply(conn, decision)
                    written.append(decision)
        return written

    def find(
        self,
        state: str | None = None,
        unit: str | None = None,
        category: str | None = None,
        limit: int = 100,
    ) -> list[Ticket]:
        query = sa.select(tickets).order_by(tickets.c.id).limit(limit)
        for column, value in (
            (tickets.c.state, state),
            (tickets.c.lead_unit, unit),
            (tickets.c.category, category),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.reading() as conn:
            return [rows.ticket(row) for row in conn.execute(query)]

    def contact(self, ticket_id: int) -> dict[str, str | None]:
        """The complainant's personal data, kept apart from the engine and the history."""
        if not 0 < ticket_id <= MAX_ID:
            raise UnknownTicket(ticket_id)
        with self.reading() as conn:
            row = conn.execute(
                sa.select(
                    tickets.c.contact_name,
                    tickets.c.contact_phone,
                    tickets.c.contact_address,
                    tickets.c.contact_more,
                ).where(tickets.c.id == ticket_id)
            ).first()
        if row is None:
            raise UnknownTicket(ticket_id)
        return contact_of(row)

    def events(self, ticket_id: int) -> list[Event]:
        """The ticket's history in order; raise UnknownTicket."""
        with self.reading() as conn:
            self._load(conn, ticket_id)
            found = conn.execute(
                sa.select(events).where(events.c.ticket_id == ticket_id).order_by(events.c.seq)
            )
            return [rows.event(row) for row in found]

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _firing_conflicts(self) -> Iterator[None]:
        """Turn a duplicate (deadline, rung) firing into AlreadyFired."""
        try:
            yield
        except sa.exc.IntegrityError as error:
            if "deadline_firings" in str(error) or "deadline_id" in str(error):
                raise AlreadyFired(str(error.orig)) from None
            raise

    def _by_key(self, key: str, new: NewTicket) -> Ticket | None:
        with self.reading() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.idempotency_key == key)).first()
        if row is None:
            return None
        if row.idempotency_digest not in (None, new.idempotency_digest):
            raise KeyReused(new.idempotency_key or "", row.id)
        return rows.ticket(row)

    def _load(self, conn: sa.Connection, ticket_id: int, for_update: bool = False) -> Ticket:
        if not 0 < ticket_id <= MAX_ID:
            raise UnknownTicket(ticket_id)  # a bigger id overflows PostgreSQL's column
        found = (LOCK_TICKET if for_update else LOAD_TICKET).rows(conn, {"b_id": ticket_id})
        if not found:
            raise UnknownTicket(ticket_id)
        open_deadlines = LOAD_DEADLINES.rows(conn, {"b_id": ticket_id})
        return rows.ticket(found[0], tuple(rows.deadline(d) for d in open_deadlines))

    def _apply(self, conn: sa.Connection, decision: Decision, fired_by: str | None = None) -> None:
        writes.apply(conn, [decision], self.readings, fired_by)


def contact_of(row: Any) -> dict[str, str | None]:
    """The complainant's personal data from a row with the ``contact_*`` columns."""
    more = row.contact_more or {}
    return {
        "name": row.contact_name,
        "phone": row.contact_phone,
        "address": row.contact_address,
        **{key: more.get(key) for key in MORE_CONTACT},
    }


def _waves(updates: Sequence[tuple[int, Decide]]) -> list[list[int]]:
    """Positions of ``updates`` cut into consecutive runs of distinct tickets: a run is loaded,
    decided and written at once, the next sees what it wrote, and the history is written in
    the order of ``updates`` (a sweeper's: due order)."""
    waves: list[list[int]] = [[]]
    seen: set[int] = set()
    for i, (ticket_id, _) in enumerate(updates):
        if ticket_id in seen:
            waves.append([])
            seen.clear()
        seen.add(ticket_id)
        waves[-1].append(i)
    return waves


def _new_row(new: NewTicket, key: str | None, now: datetime) -> dict[str, Any]:
    return NEW_TICKET | {
        "definition_name": new.definition,
        "definition_version": new.definition_version,
        "state": new.state,
        "category": new.category,
        "urgency": new.urgency,
        "channel": new.channel,
        "summary": new.summary,
        "fields": new.fields or {},
        "contact_name": new.contact_name,
        "contact_phone": new.contact_phone,
        "contact_address": new.contact_address,
        "idempotency_key": key,
        "idempotency_digest": new.idempotency_digest,
        "contact_more": new.contact_more,
        "created_at": now,
        "updated_at": now,
    }


def _scoped(new: NewTicket) -> str | None:
    """The key as stored: the client's name and its key, so two clients' keys never meet."""
    if new.idempotency_key is None:
        return None
    return json.dumps([new.idempotency_client, new.idempotency_key], ensure_ascii=False)
