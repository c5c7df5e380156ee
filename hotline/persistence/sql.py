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
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.engine.ticket import Event, Ticket
from hotline.errors import AlreadyFired, KeyReused, StaleVersion, UnknownTicket
from hotline.persistence import (
    MAX_ID,
    compiled,
    definitions,
    due,
    facts,
    links,
    outbox,
    rows,
    whistles,
)
from hotline.persistence.rows import deadlines, events, firings, tickets

OPEN = ("pending", "paused")

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
        deadlines.c.status.in_([sa.literal(s) for s in OPEN]),  # not expanding: compiled once
    )
    .order_by(deadlines.c.id)
)
LOCK_TICKETS = (
    sa.select(tickets.c.id)
    .where(tickets.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    .order_by(tickets.c.id)
    .with_for_update()
)
UPDATE_TICKET = compiled.Statement(
    tickets.update().where(_BY_ID, tickets.c.version == sa.bindparam("b_version")),
    rows.TICKET_COLUMNS,
)
# A new ticket: what intake knows, and the columns' defaults (a compiled statement has none).
NEW_TICKET = {"version": 0, "round": 1, "lead_unit": None, "excluded": False, "seq": 0}
NEW_TICKET |= {"head_hash": "", "whistle": None, "co_units": []}
INSERT_TICKET = compiled.Statement(
    tickets.insert().returning(tickets.c.id), [c.key for c in tickets.c if c.key != "id"]
)
INSERT_EVENT = compiled.Statement(events.insert(), rows.EVENT_FIELDS)
INSERT_DEADLINE = compiled.Statement(deadlines.insert(), ("ticket_id", *rows.DEADLINE_COLUMNS))
UPDATE_DEADLINE = compiled.Statement(
    deadlines.update().where(deadlines.c.id == sa.bindparam("deadline_id")), rows.DEADLINE_COLUMNS
)
INSERT_FIRING = compiled.Statement(
    firings.insert(), ("deadline_id", "rung", "rung_key", "fired_at", "fired_by")
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
                ticket_id = INSERT_TICKET.rows(conn, _new_row(new, key, now))[0].id
                decision = decide(self._load(conn, ticket_id))
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
        with self._firing_conflicts(), self.writing() as conn:
            conn.execute(LOCK_TICKETS, {"b_ids": ids}).all()
            if guard is not None and not guard(conn):
                raise AlreadyFired("a claim of this batch was taken over by another replica")
            decisions = []
            for ticket_id, decide in updates:
                decisions.append(decide(self._load(conn, ticket_id)))
                if decisions[-1] is not None:
                    self._apply(conn, decisions[-1], fired_by)
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
        more = row.contact_more or {}
        return {
            "name": row.contact_name,
            "phone": row.contact_phone,
            "address": row.contact_address,
            **{key: more.get(key) for key in MORE_CONTACT},
        }

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
        before, after = decision.before, decision.after
        updated = UPDATE_TICKET.execute(
            conn, {**rows.ticket_values(after), "b_id": before.id, "b_version": before.version}
        )
        if updated != 1:
            actual = conn.execute(
                sa.select(tickets.c.version).where(tickets.c.id == before.id)
            ).scalar_one()
            raise StaleVersion(before.id, before.version, actual)
        INSERT_EVENT.execute_many(conn, [rows.event_values(e) for e in decision.events])
        facts.refresh(conn, decision, self.readings)
        self._write_deadlines(conn, decision)
        whistles.write(conn, decision)
        links.write(conn, decision)
        now = after.updated_at
        if decision.firings:
            INSERT_FIRING.execute_many(
                conn,
                [
                    {
                        "deadline_id": d,
                        "rung": r,
                        "rung_key": key,
                        "fired_at": now,
                        "fired_by": fired_by,
                    }
                    for d, r, key in decision.firings
                ],
            )
        if decision.outbox:
            outbox.enqueue(conn, before.id, decision.outbox, now)

    def _write_deadlines(self, conn: sa.Connection, decision: Decision) -> None:
        new = [
            rows.deadline_values(d) | {"ticket_id": decision.before.id}
            for d in decision.deadlines
            if d.id is None
        ]
        changed = [
            rows.deadline_values(d) | {"deadline_id": d.id}
            for d in decision.deadlines
            if d.id is not None
        ]
        if new:
            INSERT_DEADLINE.execute_many(conn, new)
        if changed:
            UPDATE_DEADLINE.execute_many(conn, changed)


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
