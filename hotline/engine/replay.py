"""A ticket exactly as it was at any instant, rebuilt from its history.

Why replay rather than fold: an event records a command and its fields, not the deadline
arithmetic it caused (windows, pauses, extensions, rungs on a business calendar). Replaying each
event's command through the definition version the ticket was pinned to at the time, with the
event's ``occurred_at`` as ``now``, runs the very code that produced it, so the deadlines come
out exactly as they were. Each replayed event is then sealed again and its hash must equal the
stored one: a rebuild that drifted, or a history that was tampered with, is refused, never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from hotline.engine import escalation, migration, provisional
from hotline.engine.decide import SUBMIT, decide, decide_submit, record
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Event, Ticket
from hotline.errors import HotlineError

Compiled = Callable[[int], CompiledDefinition]  # definition version -> compiled definition
_INTAKE = ("category", "urgency", "channel", "summary")


class ReplayMismatch(HotlineError):
    """The history does not replay to its own hashes (tampered, or written by other code)."""

    def __init__(self, ticket_id: int, seq: int, reason: str) -> None:
        self.ticket_id, self.seq = ticket_id, seq
        super().__init__(
            f"ticket {ticket_id}: history does not replay at event {seq} ({reason}); "
            "run `hotline audit verify`"
        )


def first_version(events: Sequence[Event], current: int) -> int:
    """The definition version a ticket started on: before its first migration, if any."""
    moved = next((e for e in events if e.trigger == migration.TRIGGER), None)
    return int(moved.payload["from_version"]) if moved else current


def rebuild(
    events: Sequence[Event], name: str, version: int, compiled: Compiled, at: datetime | None
) -> Ticket | None:
    """The ticket after every event up to ``at`` (all of them if None); None if it did not
    exist yet. ``version`` is the version it started on (see ``first_version``)."""
    past = [e for e in events if at is None or e.occurred_at <= at]
    ticket, i = None, 0
    while i < len(past):
        decision = _step(ticket, past[i], name, version, compiled)
        recorded = past[i : i + len(decision.events)]
        _check(decision.events, recorded)
        ticket, i = _with_ids(decision.after), i + len(decision.events)
        version = ticket.definition_version
    return ticket


def _step(
    ticket: Ticket | None, event: Event, name: str, version: int, compiled: Compiled
) -> Decision:
    now, actor = event.occurred_at, event.actor
    if ticket is None:
        if event.trigger != SUBMIT:
            raise ReplayMismatch(event.ticket_id, event.seq, "the first event is not a submit")
        return decide_submit(compiled(version), intake(event, name, version), actor, now)
    if event.trigger == migration.TRIGGER:
        source, target = compiled(version), compiled(int(event.payload["to_version"]))
        return migration.decide_migration(source, target, ticket, event.to_state, actor, now)
    if event.trigger in escalation.FIRED:
        return _firing(ticket, event, compiled(version))
    if event.trigger == escalation.COMMAND_REFUSED:
        return _refused(ticket, event, compiled(version))
    if provisional.is_note(event.trigger):  # a rebuild counts on today's calendar anyway
        return record(ticket, ticket, event.trigger, actor, event.payload, now, event.from_state)
    return decide(compiled(version), ticket, Command(event.trigger, event.payload, actor), now)


def intake(event: Event, name: str, version: int) -> Ticket:
    """The new ticket a ``submit`` event took in, before its first decision."""
    payload = event.payload
    return Ticket(
        id=event.ticket_id,
        definition=name,
        definition_version=version,
        state=event.to_state,
        category=payload["category"],
        urgency=payload["urgency"],
        channel=payload["channel"],
        summary=payload["summary"],
        fields={k: v for k, v in payload.items() if k not in _INTAKE},
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _firing(ticket: Ticket, event: Event, compiled: CompiledDefinition) -> Decision:
    """A sweeper's firing: the open deadline of that kind, at its next rung, at that instant."""
    kind = event.payload.get("deadline")
    deadline = next((d for d in ticket.deadlines if d.kind == kind), None)
    if deadline is None:
        raise ReplayMismatch(ticket.id, event.seq, f"no open {kind!r} deadline to fire")
    # The event names the deadline by its row id: give the replayed deadline that id.
    row_id = int(event.payload["deadline_id"])
    ticket = ticket.evolve(
        deadlines=tuple(d.evolve(id=row_id) if d is deadline else d for d in ticket.deadlines)
    )
    decision = escalation.decide_firing(compiled, ticket, row_id, deadline.rung, event.occurred_at)
    if decision is None:
        raise ReplayMismatch(ticket.id, event.seq, f"the {kind!r} deadline was not due")
    return decision


def _refused(ticket: Ticket, event: Event, compiled: CompiledDefinition) -> Decision:
    """A rung's command the engine refused: it must still be refused at that instant."""
    decision = escalation.refuse_command(compiled, ticket, event.payload, event.occurred_at)
    if decision is None:
        trigger = event.payload.get("trigger")
        raise ReplayMismatch(ticket.id, event.seq, f"{trigger!r} would not be refused")
    return decision


def _check(replayed: Sequence[Event], recorded: Sequence[Event]) -> None:
    for mine, theirs in zip(replayed, recorded, strict=False):
        if mine.hash != theirs.hash:
            raise ReplayMismatch(theirs.ticket_id, theirs.seq, "its hash differs")
    if len(recorded) < len(replayed):
        last = replayed[len(recorded)]
        raise ReplayMismatch(last.ticket_id, last.seq, "events are missing")


def _with_ids(ticket: Ticket) -> Ticket:
    """Number new deadlines so later firings can name them: below zero, so that they never
    collide with the row ids a firing event brings in (see ``_firing``)."""
    next_id = min((d.id for d in ticket.deadlines if d.id is not None and d.id < 0), default=0)
    numbered = []
    for d in ticket.deadlines:
        if d.id is None:
            next_id -= 1
            d = d.evolve(id=next_id)
        numbered.append(d)
    return ticket.evolve(deadlines=tuple(numbered))
