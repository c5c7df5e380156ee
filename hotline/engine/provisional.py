"""Deadlines counted over a year without an official schedule: noted, then recomputed.

China's holiday schedule (with its 调休 make-up working days) is published each November for the
next year only. A working-time deadline that reaches into a year nobody knows yet is counted on
plain weekdays and marked provisional (``calendar``); a hotline never stops taking work because
of a calendar. Two history events keep that visible:

- ``deadline_provisional`` follows the event that opened or moved such a deadline;
- ``deadlines_recomputed`` records the new due times once the year's schedule is known.

Both are notes on the clock, not commands: replay takes them as recorded (``is_note``), since a
rebuild always counts on today's calendar.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.engine import deadlines
from hotline.engine.decide import record
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Deadline, Ticket

PROVISIONAL = "deadline_provisional"
RECOMPUTED = "deadlines_recomputed"
ACTOR = "calendar"


NOTES = frozenset((PROVISIONAL, RECOMPUTED))


def is_note(trigger: str) -> bool:
    return trigger in NOTES


def note(compiled: CompiledDefinition, decision: Decision) -> Decision:
    """``decision`` followed by a ``deadline_provisional`` event if it opened or moved a
    deadline whose due time is provisional."""
    # Most decisions touch no provisional deadline; many touch no deadline at all.
    if not decision.deadlines or not any(d.provisional for d in decision.deadlines):
        return decision
    before = {d.id: d for d in decision.before.deadlines if d.id is not None}
    fresh = [d for d in decision.deadlines if d.open and d.provisional and _moved(d, before)]
    if not fresh:
        return decision
    ticket, now = decision.after, decision.events[-1].occurred_at
    payload = {
        "calendar": compiled.calendar.name,
        "covered_until": _day(compiled),
        "deadlines": [_entry(d) for d in fresh],
    }
    noted = record(ticket, ticket, PROVISIONAL, ACTOR, payload, now, ticket.state)
    return decision.then(noted)


def recompute(compiled: CompiledDefinition, ticket: Ticket, now: datetime) -> Decision | None:
    """Count the ticket's provisional deadlines again on today's calendar; None if no due time
    or mark changes (the year is still unpublished)."""
    changed = []
    for d in ticket.deadlines:
        rule = deadlines.rule_for(compiled.definition, ticket, d)
        if not d.provisional or rule is None:  # a paused clock is counted again on resume
            continue
        again = deadlines.schedule(d, rule, compiled.calendar)
        if again != d:
            changed.append((d, again))
    if not changed:
        return None
    after = ticket.evolve(
        deadlines=tuple(next((a for b, a in changed if b is d), d) for d in ticket.deadlines)
    )
    payload = {
        "calendar": compiled.calendar.name,
        "covered_until": _day(compiled),
        "deadlines": [_entry(new) | {"was_due_at": old.due_at.isoformat()} for old, new in changed],
    }
    return record(
        ticket,
        after,
        RECOMPUTED,
        ACTOR,
        payload,
        now,
        ticket.state,
        deadlines=tuple(new for _, new in changed),
    )


def _moved(d: Deadline, before: dict[int, Deadline]) -> bool:
    """New, newly provisional, or moved to another provisional due time."""
    old = before.get(d.id) if d.id is not None else None
    return old is None or not old.provisional or old.due_at != d.due_at


def _entry(d: Deadline) -> dict[str, Any]:
    return {"kind": d.kind, "due_at": d.due_at.isoformat(), "provisional": d.provisional}


def _day(compiled: CompiledDefinition) -> str | None:
    until = compiled.calendar.covered_until
    return until.isoformat() if until else None
