"""``decide(ticket, command, now) -> Decision``: the whole of the engine's judgement.

Nothing here reads a clock or a database; the service passes the snapshot and the instant in
and writes the returned Decision in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from hotline.engine import deadlines, durations, history, whistle, whistle_steps
from hotline.engine.actions import ACTIONS
from hotline.engine.calendar import Calendar
from hotline.engine.decision import Decision, OutboxMessage
from hotline.engine.definition import ClockEffect, DeadlineRule, Definition, TransitionSpec
from hotline.engine.guards import Context
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Deadline, Ticket
from hotline.errors import InvalidField, StaleVersion

# Command fields that live in the ticket's own columns rather than in its free-form fields.
_COLUMNS = ("lead_unit", "co_units", "category", "urgency")
SUBMIT = "submit"
_PAUSE, _RESUME = ClockEffect.PAUSE, ClockEffect.RESUME  # an enum member looked up is a call
# The payload key the engine writes itself (the deadlines a command met). A command replayed
# from its event carries it; it is dropped and recomputed, never taken as a field.
MET = "met"


def decide(
    compiled: CompiledDefinition, ticket: Ticket, command: Command, now: datetime
) -> Decision:
    """Decide what ``command`` does to ``ticket``; raise a HotlineError if it may not."""
    if command.expected_version is not None and command.expected_version != ticket.version:
        raise StaleVersion(ticket.id, command.expected_version, ticket.version)
    definition = compiled.definition
    given = command.fields
    if MET in given:
        given = dict(given)
        del given[MET]
    fields = compiled.validate_fields(ticket.state, command.trigger, given)
    links: tuple[tuple[str, int], ...] = ()
    if fields:  # an empty command names no category, urgency, unit or other ticket
        check_classification(definition, fields.get("category"), fields.get("urgency"))
        check_units(definition, fields)
        links = _links(compiled, ticket, command.trigger, fields)
    ctx = Context(ticket, fields, definition, now, compiled.calendar)
    spec = compiled.choose(ticket.state, command.trigger, ctx)

    after = _with_fields(ticket, fields, state=spec.dest or ticket.state)
    for name in spec.before:
        after = ACTIONS[name](after, ctx)
    met = deadlines.closed_by(definition, ticket.state, command.trigger)
    current = _deadlines_after(compiled, ticket, after, spec, fields, now, met)
    if after.whistle is not None:  # its deadlines, some opened by the actions just run
        current += tuple(d for d in after.deadlines if deadlines.follows_whistle(d))
    changed = _changed(ticket.deadlines, current)
    decision = record(
        ticket,
        after,
        command.trigger,
        command.actor,
        _with_met(ticket, met, fields, now),
        now,
        ticket.state,
        handlers=spec.after,
        deadlines=changed,
        open_after=tuple(d for d in current if d.open),
    )
    return _settle_whistle(replace(decision, links=links) if links else decision, now)


def decide_submit(
    compiled: CompiledDefinition, ticket: Ticket, actor: str, now: datetime
) -> Decision:
    """The first event of a new ticket (受理), already stored in the initial state at version 0."""
    check_classification(compiled.definition, ticket.category, ticket.urgency)
    payload = {
        "category": ticket.category,
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "summary": ticket.summary,
        **ticket.fields,
    }
    opened = deadlines.open_for(compiled.definition, compiled.calendar, ticket.state, ticket, now)
    after = ticket.evolve(deadlines=opened)
    return record(ticket, after, SUBMIT, actor, payload, now, None, deadlines=opened)


def check_classification(definition: Definition, category: str | None, urgency: str | None) -> None:
    """Refuse a category or urgency the definition does not know (deadlines depend on them)."""
    if category is not None and definition.categories and definition.category(category) is None:
        known = ", ".join(c.code for c in definition.categories)
        raise InvalidField("category", f"unknown category {category!r}; known: {known}")
    if urgency is not None and urgency not in definition.urgencies:
        raise InvalidField("urgency", f"must be one of {', '.join(definition.urgencies)}")


def check_units(definition: Definition, fields: Mapping[str, Any]) -> None:
    """Refuse a lead or co-unit the definition's ``units`` catalogue does not declare (a typo
    would send the ticket to nobody); a definition without a catalogue names units freely."""
    if not definition.units:
        return
    if fields.get("lead_unit") is not None:
        definition.require_units("lead_unit", [fields["lead_unit"]])
    definition.require_units("co_units", fields.get("co_units") or ())


def record(
    before: Ticket,
    after: Ticket,
    trigger: str,
    actor: str,
    payload: Mapping[str, Any],
    now: datetime,
    from_state: str | None,
    *,
    handlers: tuple[str, ...] = (),
    deadlines: tuple[Deadline, ...] = (),
    messages: tuple[tuple[str, Mapping[str, Any]], ...] = (),
    firings: tuple[tuple[int, int, str], ...] = (),
    open_after: tuple[Deadline, ...] | None = None,
) -> Decision:
    """A decision with one event chained onto ``before``'s history; ``open_after``: the
    ticket's open deadlines if ``after`` does not hold them yet (one copy of it fewer)."""
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
    changes = {"deadlines": open_after} if open_after is not None else {}
    after = after.evolve(
        version=before.version + 1, seq=event.seq, head_hash=event.hash, updated_at=now, **changes
    )
    outbox: tuple[OutboxMessage, ...] = ()
    if handlers or messages:
        notices = [(h, _message(after, trigger, from_state, event.seq)) for h in handlers]
        outbox = tuple(
            OutboxMessage(handler=h, key=f"{before.id}:{event.seq}:{h}", payload=p)
            for h, p in (*notices, *messages)
        )
    return Decision(
        before=before,
        after=after,
        events=(event,),
        deadlines=deadlines,
        outbox=outbox,
        firings=firings,
    )


def _links(
    compiled: CompiledDefinition, ticket: Ticket, trigger: str, fields: Mapping[str, Any]
) -> tuple[tuple[str, int], ...]:
    """The other tickets the command names; whether they exist is the service's to check."""
    links = []
    for name in compiled.reference_fields(ticket.state, trigger):
        if name in fields:
            if fields[name] == ticket.id:
                raise InvalidField(name, f"ticket {ticket.id} cannot name itself")
            links.append((name, int(fields[name])))
    return tuple(links)


def _with_fields(ticket: Ticket, fields: Mapping[str, Any], state: str) -> Ticket:
    """The ticket in ``state`` with the command's fields: some are columns, the rest fields."""
    if not fields:
        return ticket.evolve(state=state)
    columns = {k: fields[k] for k in _COLUMNS if k in fields}
    if "co_units" in columns:
        columns["co_units"] = tuple(columns["co_units"])
    rest = {k: v for k, v in fields.items() if k not in _COLUMNS}
    return ticket.evolve(**columns, fields={**ticket.fields, **rest}, state=state)


def _deadlines_after(
    compiled: CompiledDefinition,
    before: Ticket,
    after: Ticket,
    spec: TransitionSpec,
    fields: Mapping[str, Any],
    now: datetime,
    met: frozenset[str],
) -> tuple[Deadline, ...]:
    """The ticket's deadlines after a transition: closed, opened, moved or untouched; ``met``:
    the kinds the transition meets.

    A transition with a ``dest`` (even its own state: a re-entry) closes the deadlines of the
    state it leaves and opens those of the state it enters; one without only touches the clock.
    """
    definition, calendar = compiled.definition, compiled.calendar
    # A whistle's deadlines follow the whistle, whatever the state does (see ``whistle``).
    own = before.deadlines  # a ticket that never blew the whistle has no whistle deadline
    if before.whistle is not None:
        own = tuple(d for d in own if not deadlines.follows_whistle(d))
    if spec.dest is not None:
        closed = tuple(
            deadlines.close(d, "met" if d.kind in met else "cancelled", now) for d in own
        )
        opened = deadlines.open_for(definition, calendar, spec.dest, after, now, own)
        return closed + opened
    changed = []
    for d in own:
        if d.kind in met:
            d = deadlines.close(d, "met", now)
        elif spec.clock is not None or d.kind in spec.extends:  # else the clock runs on
            d = _clock(d, deadlines.rule_for(definition, after, d), spec, fields, calendar, now)
        changed.append(d)
    return tuple(changed)


def _clock(
    deadline: Deadline,
    rule: DeadlineRule | None,
    spec: TransitionSpec,
    fields: Mapping[str, Any],
    calendar: Calendar,
    now: datetime,
) -> Deadline:
    """``deadline`` paused, resumed or extended by the transition (unchanged if no rule of the
    ticket's state still applies to it)."""
    if rule is None:
        return deadline
    if spec.clock is _PAUSE:
        return deadlines.pause(deadline, calendar, now)
    if spec.clock is _RESUME:
        return deadlines.resume(deadline, rule, calendar, now)
    if deadline.kind in spec.extends:
        return deadlines.extend(deadline, durations.parse(fields["by"]), rule, calendar)
    return deadline


def _changed(before: tuple[Deadline, ...], current: tuple[Deadline, ...]) -> tuple[Deadline, ...]:
    """The deadlines of ``current`` to write: new, or not as they were. Each is compared with
    its own row only (by id; the same object if untouched): a search of ``before`` compared it
    field by field with the others first."""
    if not current:
        return current
    rows = {d.id: d for d in before}
    return tuple(d for d in current if d.id is None or _differs(rows.get(d.id), d))


def _differs(old: Deadline | None, new: Deadline) -> bool:
    return old is not new and old != new


def _settle_whistle(decision: Decision, now: datetime) -> Decision:
    """The answer that settles a whistle's last participant and task also closes it."""
    ticket = decision.after
    if ticket.whistle is None or not ticket.whistle.finished:
        return decision
    closed = whistle_steps.close(ticket, whistle.SETTLED_REASON, now)
    ended = tuple(d for d in closed.deadlines if not d.open)
    after = closed.evolve(deadlines=tuple(d for d in closed.deadlines if d.open))
    payload = {whistle.KEY: ticket.whistle.no, "reason": whistle.SETTLED_REASON}
    settled = record(
        ticket, after, whistle.CLOSED, "system", payload, now, ticket.state, deadlines=ended
    )
    return decision.then(settled)


def _with_met(
    ticket: Ticket, kinds: frozenset[str], fields: Mapping[str, Any], now: datetime
) -> Mapping[str, Any]:
    """The event payload: the command's fields, plus the deadlines it meets (of ``kinds``)
    and whether late.

    ``met`` is what the assessment reads ("responded in time" is a ``respond`` that met its
    response deadline with ``late`` false), so it never depends on a sweeper having fired.
    A deadline met while paused is late only if it had used up its window before the pause.
    """
    if not kinds:
        return fields
    met = {
        d.kind: {"late": now > d.due_at if d.running_since is not None else d.consumed > d.window}
        for d in ticket.deadlines
        if d.open and d.kind in kinds
    }
    return {**fields, MET: met} if met else fields


def _message(ticket: Ticket, trigger: str, from_state: str | None, seq: int) -> dict[str, Any]:
    message = {
        "ticket_id": ticket.id,
        "trigger": trigger,
        "from": from_state,
        "to": ticket.state,
        "seq": seq,
        "category": ticket.category,
        "lead_unit": ticket.lead_unit,
        "co_units": list(ticket.co_units),
    }
    if ticket.whistle and ticket.whistle.open:  # so a handler can tell the summoned departments
        message[whistle.KEY] = {"no": ticket.whistle.no, "missing": ticket.whistle.missing}
    return message
