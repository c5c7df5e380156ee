"""Firing a deadline's rung: a reminder, the due time, or a level of supervision (督办).

``decide_firing`` is what the sweeper asks for each claimed (deadline, rung). It returns None
when the claim is stale (the deadline was met, moved, or that rung already fired), so a firing
that lost a race writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.engine import deadlines, references, whistle_steps
from hotline.engine.decide import decide, record
from hotline.engine.decision import Decision
from hotline.engine.definition import Command as EscalationCommand
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Deadline, Ticket
from hotline.engine.whistle import ABSENT, TASK_OVERDUE
from hotline.errors import CommandError

ACTOR = "deadline"
EVENTS = {"remind": "remind", "due": "overdue", "escalate": "escalate"}
FIRED = frozenset((*EVENTS.values(), ABSENT, TASK_OVERDUE))  # every event a firing records
FIRE_COMMAND = "fire_command"  # the outbox handler that fires a rung's command after commit
COMMAND_REFUSED = "command_refused"  # the event of a rung's command the engine refused
MESSAGE_REQUEUED = "message_requeued"  # an operator put a dead outbox message back


def decide_firing(
    compiled: CompiledDefinition, ticket: Ticket, deadline_id: int, rung: int, now: datetime
) -> Decision | None:
    """Fire rung ``rung`` of deadline ``deadline_id`` and every later rung already due at
    ``now`` (a daemon back from downtime catches up in order); None if nothing is due."""
    decision = None
    while (deadline := _find(ticket, deadline_id)) and _due(deadline, rung, now):
        fired = _fire(compiled, ticket, deadline, now)
        if fired is None:
            break
        decision = fired if decision is None else decision.then(fired)
        ticket, rung = fired.after, rung + 1
    return decision


def _find(ticket: Ticket, deadline_id: int) -> Deadline | None:
    return next((d for d in ticket.deadlines if d.id == deadline_id), None)


def _fire(
    compiled: CompiledDefinition, ticket: Ticket, deadline: Deadline, now: datetime
) -> Decision | None:
    rule = deadlines.rule_for(compiled.definition, ticket, deadline)
    if rule is None:  # the ticket was reclassified and no rule of this kind applies any more
        return None
    step = deadlines.rungs(rule, compiled.calendar, deadline.window)[deadline.rung]
    advanced = deadlines.schedule(deadline.evolve(rung=deadline.rung + 1), rule, compiled.calendar)
    after = ticket.evolve(
        deadlines=tuple(advanced if d.id == deadline.id else d for d in ticket.deadlines)
    )
    payload = _payload(deadline, step.level, now)
    event = EVENTS[step.name]
    if deadlines.follows_whistle(deadline):  # a department absent, or a task overdue
        after, event, more = whistle_steps.missed(after, deadline, compiled.definition)
        payload |= more
    notice = {
        "ticket_id": ticket.id,
        "state": ticket.state,
        "lead_unit": ticket.lead_unit,
        "category": ticket.category,
        **payload,
    }
    messages = [(step.notify, notice)]
    if step.command:
        messages.append((FIRE_COMMAND, _command(compiled, ticket, step.command)))
    fired = record(
        ticket,
        after,
        event,
        ACTOR,
        payload,
        now,
        ticket.state,
        deadlines=(advanced,),
        messages=tuple(messages),
        firings=((deadline.id, deadline.rung, step.key),),
    )
    return fired.then(_on_due(compiled, fired.after, step.trigger, now)) if step.trigger else fired


def _payload(deadline: Deadline, level: int, now: datetime) -> dict[str, Any]:
    return {
        "deadline": deadline.kind,
        "deadline_id": deadline.id,
        "due_at": deadline.due_at.isoformat(),
        "level": level,
        "overdue_minutes": max(0, int((now - deadline.due_at).total_seconds() // 60)),
    }


def _command(
    compiled: CompiledDefinition, ticket: Ticket, command: EscalationCommand
) -> dict[str, Any]:
    """The outbox payload that fires a rung's command, its fields' references resolved."""
    fields = references.resolve(command.fields, compiled.definition, ticket)
    return {"ticket_id": ticket.id, "trigger": command.trigger, "fields": fields}


def fire_command(
    compiled: CompiledDefinition, ticket: Ticket, payload: Mapping[str, Any], now: datetime
) -> Decision:
    """Apply the command a rung's ``FIRE_COMMAND`` message carries; raise CommandError if
    the engine refuses it."""
    command = Command(payload["trigger"], dict(payload.get("fields") or {}), ACTOR)
    return decide(compiled, ticket, command, now)


def refuse_command(
    compiled: CompiledDefinition, ticket: Ticket, payload: Mapping[str, Any], now: datetime
) -> Decision | None:
    """The ``command_refused`` event (trigger, fields and the engine's reason) of a rung's
    command that ``fire_command`` refuses at ``now``, changing nothing else; None if the
    command would apply. A refusal is not transient: the message is not retried."""
    try:
        fire_command(compiled, ticket, payload, now)
    except CommandError as refused:
        fields = dict(payload.get("fields") or {})
        recorded = {"trigger": payload["trigger"], "fields": fields, "reason": str(refused)}
        return record(ticket, ticket, COMMAND_REFUSED, ACTOR, recorded, now, ticket.state)
    return None


def requeued(ticket: Ticket, message: Mapping[str, Any], actor: str, now: datetime) -> Decision:
    """The ``message_requeued`` event: who put which dead message (``id``, ``handler``,
    ``error``) back to be delivered again, changing nothing else on the ticket."""
    return record(ticket, ticket, MESSAGE_REQUEUED, actor, dict(message), now, ticket.state)


def _due(deadline: Deadline, rung: int, now: datetime) -> bool:
    return (
        deadline.status == "pending"
        and deadline.rung == rung
        and deadline.fire_at is not None
        and deadline.fire_at <= now
    )


def _on_due(compiled: CompiledDefinition, ticket: Ticket, trigger: str, now: datetime) -> Decision:
    """The definition's ``on_due`` trigger (Art. 23: the callback starts when time is up)."""
    try:
        return decide(compiled, ticket, Command(trigger, {}, ACTOR), now)
    except CommandError as refused:
        # Not allowed now (say, the state has no such trigger): the overdue event stands alone.
        return record(
            ticket,
            ticket,
            "on_due_refused",
            ACTOR,
            {"trigger": trigger, "reason": str(refused)},
            now,
            ticket.state,
        )
