"""The store: tickets, history, deadlines and outbox in one SQL database.

SQLite (embedded default) and PostgreSQL share this code; where they differ (write locking,
claims) the difference stays in ``db`` and in the one method that needs it. Writes go through
SQLAlchemy Core on the sqlmodel tables: this is the hot path of every command.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.engine.ticket import Event, Ticket
from hotline.errors import StaleVersion, UnknownDefinition, UnknownTicket
from hotline.persistence import db
from hotline.persistence.tables import DeadlineRow, DefinitionRow, EventRow, OutboxRow, TicketRow

tickets = TicketRow.__table__
events = EventRow.__table__
deadlines = DeadlineRow.__table__
outbox = OutboxRow.__table__
definitions = DefinitionRow.__table__


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
    idempotency_key: str | None = None


Decide = Callable[[Ticket], Decision]


class SqlStore:
    """Domain verbs over one database URL; every write is one transaction."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = db.normalise(url)
        self.engine = db.create_engine(self.url, **engine_kwargs)

    def migrate(self) -> None:
        """Create the schema or bring it up to date (alembic ``upgrade head``)."""
        from hotline.persistence import migrations

        migrations.upgrade(self.engine)

    def is_initialised(self) -> bool:
        """Has ``migrate`` created the schema in this database?"""
        return sa.inspect(self.engine).has_table("tickets")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            conn.execution_options(**{db.WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # -- definitions --------------------------------------------------------------------------

    def publish_definition(self, name: str, source: str, now: datetime) -> int:
        """Store ``source`` as the next version of ``name``; an unchanged text keeps its version."""
        checksum = hashlib.sha256(source.encode()).hexdigest()
        with self.writing() as conn:
            latest = conn.execute(
                sa.select(definitions.c.version, definitions.c.checksum)
                .where(definitions.c.name == name)
                .order_by(definitions.c.version.desc())
                .limit(1)
            ).first()
            if latest and latest.checksum == checksum:
                return latest.version
            version = latest.version + 1 if latest else 1
            conn.execute(
                definitions.insert().values(
                    name=name, version=version, source=source, checksum=checksum, published_at=now
                )
            )
            return version

    def definition_source(self, name: str, version: int | None = None) -> tuple[int, str]:
        """The (version, YAML text) of ``name`` at ``version``, or its newest version."""
        query = sa.select(definitions.c.version, definitions.c.source).where(
            definitions.c.name == name
        )
        if version is None:
            query = query.order_by(definitions.c.version.desc()).limit(1)
        else:
            query = query.where(definitions.c.version == version)
        with self.reading() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UnknownDefinition(name, version)
        return row.version, row.source

    # -- tickets ------------------------------------------------------------------------------

    def load(self, ticket_id: int) -> Ticket:
        """The ticket's current snapshot; raise UnknownTicket."""
        with self.reading() as conn:
            return self._load(conn, ticket_id)

    def create(self, new: NewTicket, decide: Decide, now: datetime) -> Ticket:
        """Insert a ticket and apply ``decide(ticket)`` in the same transaction.

        With an idempotency key, a key already used returns that ticket and writes nothing.
        """
        if new.idempotency_key:
            existing = self._by_key(new.idempotency_key)
            if existing is not None:
                return existing
        try:
            with self.writing() as conn:
                ticket_id = conn.execute(
                    tickets.insert().values(
                        definition_name=new.definition,
                        definition_version=new.definition_version,
                        state=new.state,
                        category=new.category,
                        urgency=new.urgency,
                        channel=new.channel,
                        summary=new.summary,
                        fields=new.fields or {},
                        contact_name=new.contact_name,
                        contact_phone=new.contact_phone,
                        contact_address=new.contact_address,
                        idempotency_key=new.idempotency_key,
                        created_at=now,
                        updated_at=now,
                        co_units=[],
                    )
                ).inserted_primary_key[0]
                decision = decide(self._load(conn, ticket_id))
                self._apply(conn, decision, now)
                return decision.after
        except sa.exc.IntegrityError:
            # A concurrent submit with the same key won the race: return its ticket.
            existing = self._by_key(new.idempotency_key) if new.idempotency_key else None
            if existing is None:
                raise
            return existing

    def update(self, ticket_id: int, decide: Decide, now: datetime) -> Decision:
        """Load the ticket, apply ``decide(ticket)``, commit; raise UnknownTicket, StaleVersion
        or whatever ``decide`` raises, in which case nothing is written."""
        with self.writing() as conn:
            decision = decide(self._load(conn, ticket_id, for_update=True))
            self._apply(conn, decision, now)
            return decision

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
            return [_ticket(row) for row in conn.execute(query)]

    def contact(self, ticket_id: int) -> dict[str, str | None]:
        """The complainant's personal data, kept apart from the engine and the history."""
        with self.reading() as conn:
            row = conn.execute(
                sa.select(
                    tickets.c.contact_name,
                    tickets.c.contact_phone,
                    tickets.c.contact_address,
                ).where(tickets.c.id == ticket_id)
            ).first()
        if row is None:
            raise UnknownTicket(ticket_id)
        return {
            "name": row.contact_name,
            "phone": row.contact_phone,
            "address": row.contact_address,
        }

    # -- history, deadlines, outbox -----------------------------------------------------------

    def events(self, ticket_id: int) -> list[Event]:
        """The ticket's history in order; raise UnknownTicket."""
        with self.reading() as conn:
            self._load(conn, ticket_id)
            rows = conn.execute(
                sa.select(events).where(events.c.ticket_id == ticket_id).order_by(events.c.seq)
            )
            return [_event(row) for row in rows]

    def deadlines(self, ticket_id: int | None = None, status: str | None = "pending") -> list[Any]:
        query = sa.select(deadlines).order_by(deadlines.c.due_at, deadlines.c.id)
        if ticket_id is not None:
            query = query.where(deadlines.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(deadlines.c.status == status)
        with self.reading() as conn:
            return list(conn.execute(query))

    def outbox(self, ticket_id: int | None = None, status: str | None = None) -> list[Any]:
        query = sa.select(outbox).order_by(outbox.c.id)
        if ticket_id is not None:
            query = query.where(outbox.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.reading() as conn:
            return list(conn.execute(query))

    # -- internals ----------------------------------------------------------------------------

    def _by_key(self, key: str) -> Ticket | None:
        with self.reading() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.idempotency_key == key)).first()
        return _ticket(row) if row else None

    def _load(self, conn: sa.Connection, ticket_id: int, for_update: bool = False) -> Ticket:
        query = sa.select(tickets).where(tickets.c.id == ticket_id)
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise UnknownTicket(ticket_id)
        return _ticket(row)

    def _apply(self, conn: sa.Connection, decision: Decision, now: datetime) -> None:
        before, after = decision.before, decision.after
        updated = conn.execute(
            tickets.update()
            .where(tickets.c.id == before.id, tickets.c.version == before.version)
            .values(
                state=after.state,
                version=after.version,
                round=after.round,
                category=after.category,
                urgency=after.urgency,
                lead_unit=after.lead_unit,
                co_units=list(after.co_units),
                excluded=after.excluded,
                fields=dict(after.fields),
                seq=after.seq,
                head_hash=after.head_hash,
                updated_at=now,
            )
        )
        if updated.rowcount != 1:
            actual = conn.execute(
                sa.select(tickets.c.version).where(tickets.c.id == before.id)
            ).scalar_one()
            raise StaleVersion(before.id, before.version, actual)
        conn.execute(events.insert(), [_event_values(e) for e in decision.events])
        for closed in decision.closed:
            query = deadlines.update().where(
                deadlines.c.ticket_id == before.id,
                deadlines.c.state == closed.state,
                deadlines.c.status == "pending",
            )
            if closed.kinds:
                query = query.where(deadlines.c.kind.in_(closed.kinds))
            conn.execute(query.values(status=closed.status.value, closed_at=now))
        if decision.opened:
            conn.execute(
                deadlines.insert(),
                [
                    {
                        "ticket_id": before.id,
                        "kind": d.kind,
                        "state": d.state,
                        "status": "pending",
                        "due_at": d.due_at,
                        "opened_at": d.opened_at,
                        "measure": d.measure,
                        "window_seconds": d.window_seconds,
                    }
                    for d in decision.opened
                ],
            )
        if decision.outbox:
            conn.execute(
                outbox.insert(),
                [
                    {
                        "ticket_id": before.id,
                        "handler": m.handler,
                        "key": m.key,
                        "payload": dict(m.payload),
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for m in decision.outbox
                ],
            )


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row.id,
        definition=row.definition_name,
        definition_version=row.definition_version,
        state=row.state,
        category=row.category,
        urgency=row.urgency,
        channel=row.channel,
        summary=row.summary,
        version=row.version,
        round=row.round,
        lead_unit=row.lead_unit,
        co_units=tuple(row.co_units or ()),
        excluded=row.excluded,
        fields=row.fields or {},
        seq=row.seq,
        head_hash=row.head_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event(row: Any) -> Event:
    return Event(
        ticket_id=row.ticket_id,
        seq=row.seq,
        trigger=row.trigger,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        payload=row.payload,
        occurred_at=row.occurred_at,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "ticket_id": event.ticket_id,
        "seq": event.seq,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "payload": dict(event.payload),
        "occurred_at": event.occurred_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
