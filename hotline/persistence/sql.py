"""The store: tickets, history, deadlines and outbox in one SQL database.

SQLite (embedded default) and PostgreSQL share this code; where they differ (write locking,
claims) the difference stays in ``db`` and in ``_claim``. Writes go through SQLAlchemy Core on
the sqlmodel tables: this is the hot path of every command.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.engine.ticket import Event, Ticket
from hotline.errors import AlreadyFired, StaleVersion, UnknownDefinition, UnknownTicket
from hotline.persistence import db, rows, whistles
from hotline.persistence.rows import deadlines, events, outbox, tickets
from hotline.persistence.tables import DefinitionRow, FiringRow

definitions = DefinitionRow.__table__
firings = FiringRow.__table__
OPEN = ("pending", "paused")

# The hot path's statements, built once: values travel as parameters, so SQLAlchemy reuses the
# compiled SQL instead of building and caching a statement per call.
LOAD_TICKET = sa.select(tickets).where(tickets.c.id == sa.bindparam("b_id"))
LOAD_DEADLINES = (
    sa.select(deadlines)
    .where(deadlines.c.ticket_id == sa.bindparam("b_id"), deadlines.c.status.in_(OPEN))
    .order_by(deadlines.c.id)
)
LOCK_TICKETS = (
    sa.select(tickets.c.id)
    .where(tickets.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    .order_by(tickets.c.id)
    .with_for_update()
)
UPDATE_TICKET = tickets.update().where(
    tickets.c.id == sa.bindparam("b_id"), tickets.c.version == sa.bindparam("b_version")
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
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Claim:
    """A due row a sweeper has leased: a deadline rung, or an outbox message."""

    id: int
    ticket_id: int | None
    due: datetime
    rung: int = 0
    owner: str | None = None  # the replica holding the lease; recorded on the firing row


Decide = Callable[[Ticket], Decision | None]
# Runs first in an update's transaction; False means "not any more": write nothing.
Guard = Callable[[sa.Connection], bool]


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
        try:
            return self._publish(name, source, checksum, now)
        except sa.exc.IntegrityError:
            # Another process published at the same moment (replicas running `hotline init`
            # together): read again, and find the text stored or publish the next version.
            return self._publish(name, source, checksum, now)

    def _publish(self, name: str, source: str, checksum: str, now: datetime) -> int:
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

    def latest_definition_version(self, name: str) -> int:
        """The newest version of ``name``; raise UnknownDefinition."""
        query = sa.select(sa.func.max(definitions.c.version)).where(definitions.c.name == name)
        with self.reading() as conn:
            version = conn.execute(query).scalar()
        if version is None:
            raise UnknownDefinition(name)
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
        """The ticket's current snapshot with its open deadlines; raise UnknownTicket."""
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
                assert decision is not None, "a submit always decides"
                self._apply(conn, decision)
                return decision.after
        except sa.exc.IntegrityError:
            # A concurrent submit with the same key won the race: return its ticket.
            existing = self._by_key(new.idempotency_key) if new.idempotency_key else None
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
        self, updates: Sequence[tuple[int, Decide]], fired_by: str | None = None
    ) -> list[Decision | None]:
        """``update`` for each (ticket id, decide) in order, all in one transaction: all are
        written or, if any raises, none.

        The tickets are locked up front in id order, so that replicas committing batches that
        share a ticket wait for each other instead of deadlocking.
        """
        ids = sorted({ticket_id for ticket_id, _ in updates})
        with self._firing_conflicts(), self.writing() as conn:
            conn.execute(LOCK_TICKETS, {"b_ids": ids}).all()
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

    # -- history and deadlines ----------------------------------------------------------------

    def events(self, ticket_id: int) -> list[Event]:
        """The ticket's history in order; raise UnknownTicket."""
        with self.reading() as conn:
            self._load(conn, ticket_id)
            found = conn.execute(
                sa.select(events).where(events.c.ticket_id == ticket_id).order_by(events.c.seq)
            )
            return [rows.event(row) for row in found]

    def deadlines(
        self,
        ticket_id: int | None = None,
        status: str | None = "pending",
        due_before: datetime | None = None,
    ) -> list[Any]:
        """Deadline rows by due time, filtered by ticket, status and due time."""
        query = sa.select(deadlines).order_by(deadlines.c.due_at, deadlines.c.id)
        if ticket_id is not None:
            query = query.where(deadlines.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(deadlines.c.status == status)
        if due_before is not None:
            query = query.where(deadlines.c.due_at < due_before)
        with self.reading() as conn:
            return list(conn.execute(query))

    def next_fire_at(self) -> datetime | None:
        """When the earliest pending rung falls due (None if nothing is pending)."""
        query = sa.select(sa.func.min(deadlines.c.fire_at)).where(deadlines.c.status == "pending")
        with self.reading() as conn:
            return conn.execute(query).scalar()  # min() keeps the column's aware-UTC type

    def claim_due(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Claim]:
        """Lease up to ``limit`` deadline rungs due at ``now`` to ``owner``, earliest first.

        A claim only stops other sweepers from taking the row until the lease ends; a sweeper
        that dies leaves its rows to be taken over then. The firing itself is made safe by the
        ticket's version, the rung check and the unique (deadline, rung) firing row.
        """
        due = sa.and_(deadlines.c.status == "pending", deadlines.c.fire_at <= now)
        found = self._claim(
            deadlines,
            due,
            deadlines.c.fire_at,
            now,
            limit,
            owner,
            lease,
            (deadlines.c.ticket_id, deadlines.c.fire_at, deadlines.c.rung),
        )
        return sorted(
            (Claim(r.id, r.ticket_id, r.fire_at, r.rung, owner) for r in found),
            key=lambda c: (c.due, c.id),
        )

    # -- outbox -------------------------------------------------------------------------------

    def outbox(self, ticket_id: int | None = None, status: str | None = None) -> list[Any]:
        query = sa.select(outbox).order_by(outbox.c.id)
        if ticket_id is not None:
            query = query.where(outbox.c.ticket_id == ticket_id)
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.reading() as conn:
            return list(conn.execute(query))

    def claim_outbox(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Any]:
        """Lease up to ``limit`` messages whose next attempt is due, oldest first."""
        due = sa.and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        columns = (
            outbox.c.ticket_id,
            outbox.c.handler,
            outbox.c.key,
            outbox.c.payload,
            outbox.c.attempts,
            outbox.c.next_attempt_at,
        )
        found = self._claim(
            outbox, due, outbox.c.next_attempt_at, now, limit, owner, lease, columns
        )
        return sorted(found, key=lambda r: (r.next_attempt_at, r.id))

    def outbox_done(
        self,
        message_id: int,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        """Record an attempt: delivered (no error), retried at ``retry_at``, or else dead."""
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": now}
        else:
            values = {
                "status": "pending" if retry_at else "dead",
                "last_error": error[:2000],
                "next_attempt_at": retry_at or now,
            }
        with self.writing() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == message_id)
                .values(
                    attempts=outbox.c.attempts + 1, claimed_by=None, claimed_until=None, **values
                )
            )

    # -- internals ----------------------------------------------------------------------------

    def _claim(
        self,
        table: sa.Table,
        due: Any,
        order: Any,
        now: datetime,
        limit: int,
        owner: str,
        lease: timedelta,
        columns: tuple[Any, ...],
    ) -> list[Any]:
        free = sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now)
        chosen = sa.select(table.c.id).where(due, free).order_by(order).limit(limit)
        if self.engine.dialect.name == "postgresql":
            # Replicas skip each other's locked rows instead of waiting for them.
            chosen = chosen.with_for_update(skip_locked=True)
        claim = (
            table.update()
            .where(table.c.id.in_(chosen.scalar_subquery()))
            .values(claimed_by=owner, claimed_until=now + lease)
            .returning(table.c.id, *columns)
        )
        with self.writing() as conn:
            return list(conn.execute(claim))

    @contextmanager
    def _firing_conflicts(self) -> Iterator[None]:
        """Turn a duplicate (deadline, rung) firing into AlreadyFired."""
        try:
            yield
        except sa.exc.IntegrityError as error:
            if "deadline_firings" in str(error) or "deadline_id" in str(error):
                raise AlreadyFired(str(error.orig)) from None
            raise

    def _by_key(self, key: str) -> Ticket | None:
        with self.reading() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.idempotency_key == key)).first()
        return rows.ticket(row) if row else None

    def _load(self, conn: sa.Connection, ticket_id: int, for_update: bool = False) -> Ticket:
        query = LOAD_TICKET.with_for_update() if for_update else LOAD_TICKET
        row = conn.execute(query, {"b_id": ticket_id}).first()
        if row is None:
            raise UnknownTicket(ticket_id)
        found = conn.execute(LOAD_DEADLINES, {"b_id": ticket_id})
        return rows.ticket(row, tuple(rows.deadline(d) for d in found))

    def _apply(self, conn: sa.Connection, decision: Decision, fired_by: str | None = None) -> None:
        before, after = decision.before, decision.after
        updated = conn.execute(
            UPDATE_TICKET,
            {**rows.ticket_values(after), "b_id": before.id, "b_version": before.version},
        )
        if updated.rowcount != 1:
            actual = conn.execute(
                sa.select(tickets.c.version).where(tickets.c.id == before.id)
            ).scalar_one()
            raise StaleVersion(before.id, before.version, actual)
        conn.execute(events.insert(), [rows.event_values(e) for e in decision.events])
        self._write_deadlines(conn, decision)
        whistles.write(conn, decision)
        now = after.updated_at
        if decision.firings:
            conn.execute(
                firings.insert(),
                [
                    {"deadline_id": d, "rung": r, "fired_at": now, "fired_by": fired_by}
                    for d, r in decision.firings
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
            conn.execute(deadlines.insert(), new)
        if changed:
            conn.execute(
                deadlines.update().where(deadlines.c.id == sa.bindparam("deadline_id")), changed
            )
