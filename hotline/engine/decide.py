"""``decide(ticket, command, now) -> Decision``: the whole of the engine's judgement.

Nothing here reads a clock or a database; the service passes the snapshot and the instant in
and writes the returned Decision in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.engine import deadlines, history
from hotline.engine.actions import ACTIONS
from hotline.engine.calendar import Calendar, CalendarHours
from hotline.engine.decision import (
    DeadlineOpened,
    DeadlinesClosed,
    DeadlineStatus,
    Decision,
    OutboxMessage,
)
from hotline.engine.guards import Context
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Ticket
from hotline.errors import StaleVersion

# Command fields that live in the ticket's own columns rather than in its free-form fields.
_COLUMNS = ("lead_unit", "co_units", "category", "urgency")
SUBMIT = "submit"


def decide(
    compiled: CompiledDefinition,
    ticket: Ticket,
    command: Command,
    now: datetime,
    calendar: Calendar | None = None,
) -> Decision:
    """Decide what ``command`` does to ``ticket``; raise a HotlineError if it may not."""
    if command.expected_version is not None and command.expected_version != ticket.version:
        raise StaleVersion(ticket.id, command.expected_version, ticket.version)
    definition = compiled.definition
    fields = compiled.validate_fields(ticket.state, command.trigger, command.fields)
    ctx = Context(ticket=ticket, fields=fields, definition=definition, now=now)
    spec = compiled.choose(ticket.state, command.trigger, ctx)
    dest = spec.dest or ticket.state

    after = _with_fields(ticket, fields).evolve(state=dest)
    for name in spec.before:
        after = ACTIONS[name](after, ctx)

    if dest != ticket.state:
        closed = (DeadlinesClosed(ticket.state, DeadlineStatus.CANCELLED),)
        opened = deadlines.open_for(definition, calendar or CalendarHours(), dest, after, now)
    else:
        met = deadlines.closed_by(definition, ticket.state, command.trigger)
        closed = (DeadlinesClosed(ticket.state, DeadlineStatus.MET, met),) if met else ()
        opened = ()
    return _record(
        ticket,
        after,
        command.trigger,
        command.actor,
        fields,
        now,
        ticket.state,
        handlers=spec.after,
        opened=opened,
        closed=closed,
    )


def decide_submit(
    compiled: CompiledDefinition,
    ticket: Ticket,
    actor: str,
    now: datetime,
    calendar: Calendar | None = None,
) -> Decision:
    """The first event of a new ticket (受理), already stored in the initial state at version 0."""
    definition = compiled.definition
    payload = {
        "category": ticket.category,
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "summary": ticket.summary,
        **ticket.fields,
    }
    opened = deadlines.open_for(definition, calendar or CalendarHours(), ticket.state, ticket, now)
    return _record(ticket, ticket, SUBMIT, actor, payload, now, None, opened=opened)


def _with_fields(ticket: Ticket, fields: Mapping[str, Any]) -> Ticket:
    columns = {k: fields[k] for k in _COLUMNS if k in fields}
    if "co_units" in columns:
        columns["co_units"] = tuple(columns["co_units"])
    rest = {k: v for k, v in fields.items() if k not in _COLUMNS}
    return ticket.evolve(**columns, fields={**ticket.fields, **rest})


def _record(
    before: Ticket,
    after: Ticket,
    trigger: str,
    actor: str,
    payload: Mapping[str, Any],
    now: datetime,
    from_state: str | None,
    *,
    handlers: tuple[str, ...] = (),
    opened: tuple[DeadlineOpened, ...] = (),
    closed: tuple[DeadlinesClosed, ...] = (),
) -> Decision:
    event = history.seal(
        ticket_id=before.id,
        seq=before.seq + 1,
        prev_hash=before.head_hash,
        trigger=trigger,
        from_state=from_state,
        to_state=after.state,
        actor=actor,
        payload=payload,
        occurred_at=now,
    )
    after = after.evolve(
        version=before.version + 1, seq=event.seq, head_hash=event.hash, updated_at=now
    )
    outbox = tuple(
        OutboxMessage(
            handler=h,
            key=f"{before.id}:{event.seq}:{h}",
            payload=_message(after, event.trigger, event.from_state, event.seq),
        )
        for h in handlers
    )
    return Decision(
        before=before, after=after, events=(event,), opened=opened, closed=closed, outbox=outbox
    )


def _message(ticket: Ticket, trigger: str, from_state: str | None, seq: int) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "trigger": trigger,
        "from": from_state,
        "to": ticket.state,
        "seq": seq,
        "category": ticket.category,
        "lead_unit": ticket.lead_unit,
        "co_units": list(ticket.co_units),
    }
