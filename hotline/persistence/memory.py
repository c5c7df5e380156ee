"""The store in memory: the verbs of ``sql.SqlStore`` over plain dicts, without any SQL.

What it is for: users test their own handlers with it, and the engine's tests run without a
database (the what-if replay holds its one ticket more simply: ``simulation.held``). The
contract (what each verb returns and raises) is the SQL store's and is checked on all three
stores by ``tests/integration/test_store_contract.py``.

A write is all or nothing: every change is journalled with its undo, and a write that raises
undoes what it did. A ``guard`` is called with the store itself (the SQL store passes its
connection), so guards are store-specific: the service's own guards are SQL.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hotline.engine import history
from hotline.engine.decision import Decision, OutboxMessage
from hotline.engine.ticket import Deadline, Event, Ticket
from hotline.errors import AlreadyFired, KeyReused, StaleVersion, UnknownDefinition, UnknownTicket
from hotline.persistence import MAX_ID, facts
from hotline.persistence.due import Claim
from hotline.persistence.outbox import attempt
from hotline.persistence.sql import MORE_CONTACT, Decide, NewTicket, _scoped

OPEN = ("pending", "paused")
Guard = Callable[["MemoryStore"], bool]


@dataclass
class _Row:
    """A deadline or outbox row: its value and the lease a sweeper or relay holds on it."""

    id: int
    ticket_id: int | None
    value: Any  # Deadline, or the outbox columns as a dict
    claimed_by: str | None = None
    claimed_until: datetime | None = None


@dataclass
class _Tables:
    tickets: dict[int, Ticket] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    events: dict[int, list[Event]] = field(default_factory=dict)
    deadlines: dict[int, _Row] = field(default_factory=dict)
    of_ticket: dict[int, list[int]] = field(default_factory=dict)  # deadline ids, in order
    firings: set[tuple[int, str]] = field(default_factory=set)
    outbox: dict[int, _Row] = field(default_factory=dict)
    outbox_keys: set[str] = field(default_factory=set)
    links: list[tuple[int, str, int]] = field(default_factory=list)
    definitions: dict[str, list[tuple[str, str, datetime]]] = field(default_factory=dict)


class MemoryStore:
    """The store verbs on dicts; safe to share between threads (one lock, like one writer)."""

    url = "memory://"

    def __init__(self, chained: bool = True) -> None:
        """``chained=False`` keeps histories without their hash chain (``history.UNCHAINED``):
        for events that are counted and never audited."""
        self._head = history.GENESIS if chained else history.UNCHAINED
        self._t = _Tables()
        self._lock = threading.RLock()
        self._undo: list[Callable[[], None]] | None = None
        self._ids = {"ticket": 0, "deadline": 0, "outbox": 0}
        self.readings = facts.Readings()  # the service tells; no report reads this store

    def migrate(self) -> None:
        """Nothing to create: the tables are dicts."""

    def close(self) -> None:
        """Nothing to release."""

    # -- tickets ------------------------------------------------------------------------------

    def load(self, ticket_id: int) -> Ticket:
        """The ticket's current snapshot with its open deadlines; raise UnknownTicket."""
        with self._lock:
            return self._load(ticket_id)

    def create(self, new: NewTicket, decide: Decide, now: datetime) -> Ticket:
        """Insert a ticket and apply ``decide(ticket)`` in the same write (see SqlStore)."""
        key = _scoped(new)
        with self._writing():
            if key is not None and key in self._t.keys:
                ticket_id, digest = self._t.keys[key]
                if digest not in (None, new.idempotency_digest):
                    raise KeyReused(new.idempotency_key or "", ticket_id)
                return self._load(ticket_id)
            ticket_id = self._next("ticket")
            self._put_ticket(_ticket(ticket_id, new, now, self._head))
            self._put(self._t.contacts, ticket_id, _contact(new))
            self._put(self._t.events, ticket_id, [])
            self._put(self._t.of_ticket, ticket_id, [])
            if key is not None:
                self._put(self._t.keys, key, (ticket_id, new.idempotency_digest))
            decision = decide(self._load(ticket_id))
            assert decision is not None, "a submit always decides"
            self._apply(decision)
            return decision.after

    def update(
        self,
        ticket_id: int,
        decide: Decide,
        fired_by: str | None = None,
        guard: Guard | None = None,
    ) -> Decision | None:
        """Load the ticket, apply ``decide(ticket)``; see ``SqlStore.update``."""
        with self._writing():
            if guard is not None and not guard(self):
                return None
            decision = decide(self._load(ticket_id))
            if decision is not None:
                self._apply(decision)
            return decision

    def update_each(
        self,
        updates: Sequence[tuple[int, Decide]],
        fired_by: str | None = None,
        guard: Guard | None = None,
    ) -> list[Decision | None]:
        """``update`` for each (ticket id, decide) in order, all written or none."""
        with self._writing():
            if guard is not None and not guard(self):
                raise AlreadyFired("a claim of this batch was taken over by another replica")
            decisions = []
            for ticket_id, decide in updates:
                decisions.append(decide(self._load(ticket_id)))
                if decisions[-1] is not None:
                    self._apply(decisions[-1])
            return decisions

    def update_many(self, ticket_ids: list[int], decide: Decide) -> list[Decision]:
        """``update`` for several tickets in one write: every one is written, or none."""
        with self._writing():
            written = []
            for ticket_id in ticket_ids:
                decision = decide(self._load(ticket_id))
                if decision is not None:
                    self._apply(decision)
                    written.append(decision)
            return written

    def find(
        self,
        state: str | None = None,
        unit: str | None = None,
        category: str | None = None,
        limit: int = 100,
    ) -> list[Ticket]:
        with self._lock:
            found = [
                t
                for _, t in sorted(self._t.tickets.items())
                if (state is None or t.state == state)
                and (unit is None or t.lead_unit == unit)
                and (category is None or t.category == category)
            ]
            return found[:limit]

    def contact(self, ticket_id: int) -> dict[str, str | None]:
        """The complainant's personal data, kept apart from the engine and the history."""
        with self._lock:
            self._ticket(ticket_id)
            return dict(self._t.contacts[ticket_id])

    def events(self, ticket_id: int) -> list[Event]:
        """The ticket's history in order; raise UnknownTicket."""
        with self._lock:
            self._ticket(ticket_id)
            return list(self._t.events[ticket_id])

    # -- definitions --------------------------------------------------------------------------

    def publish_definition(self, name: str, source: str, now: datetime) -> int:
        """Store ``source`` as the next version of ``name``; an unchanged text keeps its version."""
        checksum = hashlib.sha256(source.encode()).hexdigest()
        with self._writing():
            versions = self._t.definitions.setdefault(name, [])
            if versions and versions[-1][1] == checksum:
                return len(versions)
            versions.append((source, checksum, now))
            return len(versions)

    def latest_definition_version(self, name: str) -> int:
        """The newest version of ``name``; raise UnknownDefinition."""
        with self._lock:
            if not self._t.definitions.get(name):
                raise UnknownDefinition(name)
            return len(self._t.definitions[name])

    def definition_source(self, name: str, version: int | None = None) -> tuple[int, str]:
        """The (version, YAML text) of ``name`` at ``version``, or its newest version."""
        with self._lock:
            versions = self._t.definitions.get(name, [])
            number = len(versions) if version is None else version
            if not 0 < number <= len(versions):
                raise UnknownDefinition(name, version)
            return number, versions[number - 1][0]

    # -- due deadline rungs -------------------------------------------------------------------

    def deadlines(
        self,
        ticket_id: int | None = None,
        status: str | None = "pending",
        due_before: datetime | None = None,
    ) -> list[Any]:
        """Deadline rows by due time, filtered by ticket, status and due time."""
        with self._lock:
            rows = [
                _deadline_row(r)
                for r in self._t.deadlines.values()
                if (ticket_id is None or r.ticket_id == ticket_id)
                and (status is None or r.value.status == status)
                and (due_before is None or r.value.due_at < due_before)
            ]
        return sorted(rows, key=lambda r: (r.due_at, r.id))

    def next_fire_at(self) -> datetime | None:
        """When the earliest pending rung falls due (None if nothing is pending)."""
        with self._lock:
            return min(
                (r.value.fire_at for r in self._pending() if r.value.fire_at is not None),
                default=None,
            )

    def claim_due(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Claim]:
        """Lease up to ``limit`` deadline rungs due at ``now`` to ``owner``, earliest first."""
        with self._lock:
            due = [
                r
                for r in self._pending()
                if r.value.fire_at is not None and r.value.fire_at <= now and _free(r, now)
            ]
            due.sort(key=lambda r: (r.value.fire_at, r.id))
            for row in due[:limit]:
                row.claimed_by, row.claimed_until = owner, now + lease
            return [
                Claim(r.id, r.ticket_id, r.value.fire_at, r.value.rung, owner) for r in due[:limit]
            ]

    # -- outbox -------------------------------------------------------------------------------

    def outbox(self, ticket_id: int | None = None, status: str | None = None) -> list[Any]:
        with self._lock:
            return [
                _outbox_row(r)
                for _, r in sorted(self._t.outbox.items())
                if (ticket_id is None or r.ticket_id == ticket_id)
                and (status is None or r.value["status"] == status)
            ]

    def claim_outbox(self, now: datetime, limit: int, owner: str, lease: timedelta) -> list[Any]:
        """Lease up to ``limit`` messages whose next attempt is due, oldest first."""
        with self._lock:
            due = [
                r
                for r in self._t.outbox.values()
                if r.value["status"] == "pending"
                and r.value["next_attempt_at"] <= now
                and _free(r, now)
            ]
            due.sort(key=lambda r: (r.value["next_attempt_at"], r.id))
            for row in due[:limit]:
                row.claimed_by, row.claimed_until = owner, now + lease
            return [_outbox_row(r) for r in due[:limit]]

    def outbox_done(
        self,
        message_id: int,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
        owner: str | None = None,
    ) -> bool:
        """Record an attempt: delivered, retried at ``retry_at``, or dead (see SqlStore)."""
        with self._lock:
            row = self._t.outbox.get(message_id)
            if row is None or row.value["status"] != "pending":
                return False
            if owner is not None and row.claimed_by != owner:
                return False
            row.value |= attempt(now, error, retry_at)
            row.value["attempts"] += 1
            row.claimed_by = row.claimed_until = None
            return True

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write: all of it, or (on any exception) none of it."""
        with self._lock:
            if self._undo is not None:  # nested in a write: part of it
                yield
                return
            self._undo = []
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                raise
            finally:
                self._undo = None

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        """``table[key] = value``, undone if the write fails."""
        missing = key not in table
        old = table.get(key)
        table[key] = value
        assert self._undo is not None, "writes happen inside _writing"
        self._undo.append(lambda: table.pop(key) if missing else table.__setitem__(key, old))

    def _next(self, name: str) -> int:
        self._ids[name] += 1
        return self._ids[name]

    def _ticket(self, ticket_id: int) -> Ticket:
        found = self._t.tickets.get(ticket_id) if 0 < ticket_id <= MAX_ID else None
        if found is None:
            raise UnknownTicket(ticket_id)
        return found

    def _load(self, ticket_id: int) -> Ticket:
        ticket = self._ticket(ticket_id)
        rows = (self._t.deadlines[i] for i in self._t.of_ticket[ticket_id])
        return ticket.evolve(deadlines=tuple(r.value for r in rows if r.value.status in OPEN))

    def _pending(self) -> Iterator[_Row]:
        return (r for r in self._t.deadlines.values() if r.value.status == "pending")

    def _put_ticket(self, ticket: Ticket) -> None:
        self._put(self._t.tickets, ticket.id, ticket.evolve(deadlines=()))

    def _apply(self, decision: Decision) -> None:
        before, after = decision.before, decision.after
        actual = self._ticket(before.id).version
        if actual != before.version:
            raise StaleVersion(before.id, before.version, actual)
        for deadline_id, _, key in decision.firings:
            if (deadline_id, key) in self._t.firings:
                raise AlreadyFired(f"deadline {deadline_id} rung {key} has fired already")
        self._put_ticket(after)
        self._put(self._t.events, before.id, [*self._t.events[before.id], *decision.events])
        self._write_deadlines(before.id, decision.deadlines)
        for deadline_id, _, key in decision.firings:
            self._put_firing((deadline_id, key))
        for message in decision.outbox:
            self._enqueue(before.id, message, after.updated_at)
        for name, target in decision.links:
            self._put_link((before.id, name, target))

    def _write_deadlines(self, ticket_id: int, written: Sequence[Deadline]) -> None:
        for deadline in written:
            row_id = deadline.id
            if row_id is None:
                row_id = self._next("deadline")
                self._put(self._t.of_ticket, ticket_id, [*self._t.of_ticket[ticket_id], row_id])
            stored = deadline if deadline.id == row_id else deadline.evolve(id=row_id)
            # Any write of a deadline ends a sweeper's claim on it, as in the SQL store.
            self._put(self._t.deadlines, row_id, _Row(row_id, ticket_id, stored))

    def _put_firing(self, firing: tuple[int, str]) -> None:
        self._t.firings.add(firing)
        assert self._undo is not None
        self._undo.append(lambda: self._t.firings.discard(firing))

    def _put_link(self, link: tuple[int, str, int]) -> None:
        self._t.links.append(link)
        assert self._undo is not None
        self._undo.append(self._t.links.pop)

    def _enqueue(self, ticket_id: int, message: OutboxMessage, now: datetime | None) -> None:
        if message.key in self._t.outbox_keys:
            raise AlreadyFired(f"outbox key {message.key} was written already")
        row_id = self._next("outbox")
        columns = {
            "handler": message.handler,
            "key": message.key,
            "payload": dict(message.payload),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "created_at": now,
            "delivered_at": None,
        }
        self._put(self._t.outbox, row_id, _Row(row_id, ticket_id, columns))
        self._t.outbox_keys.add(message.key)
        assert self._undo is not None
        self._undo.append(lambda: self._t.outbox_keys.discard(message.key))


def _ticket(ticket_id: int, new: NewTicket, now: datetime, head: str) -> Ticket:
    return Ticket(
        id=ticket_id,
        definition=new.definition,
        definition_version=new.definition_version,
        state=new.state,
        category=new.category,
        urgency=new.urgency,
        channel=new.channel,
        summary=new.summary,
        fields=dict(new.fields or {}),
        head_hash=head,
        created_at=now,
        updated_at=now,
    )


def _contact(new: NewTicket) -> dict[str, Any]:
    more = new.contact_more or {}
    return {
        "name": new.contact_name,
        "phone": new.contact_phone,
        "address": new.contact_address,
        **{key: more.get(key) for key in MORE_CONTACT},
    }


def _free(row: _Row, now: datetime) -> bool:
    return row.claimed_until is None or row.claimed_until <= now


def _deadline_row(row: _Row) -> SimpleNamespace:
    """A deadline as the SQL store's rows show it (the same attribute names)."""
    return SimpleNamespace(
        **row.value.__dict__,
        ticket_id=row.ticket_id,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
    )


def _outbox_row(row: _Row) -> SimpleNamespace:
    return SimpleNamespace(
        id=row.id,
        ticket_id=row.ticket_id,
        **row.value,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
    )
