"""Named changes a transition makes to its ticket (the ``before`` list of a definition).

Command fields are copied onto the ticket by the engine; actions cover what fields cannot say.
Each action is pure: it takes the ticket and returns a changed copy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hotline.engine import durations, whistle_steps
from hotline.engine.guards import OBJECTION, Context
from hotline.engine.ticket import Ticket
from hotline.errors import InvalidField

Action = Callable[[Ticket, Context], Ticket]


def clear_units(ticket: Ticket, ctx: Context) -> Ticket:
    """退单: the unit gives the ticket back; nobody holds it until it is dispatched again."""
    return reset_response(ticket.evolve(lead_unit=None, co_units=()), ctx)


def reset_response(ticket: Ticket, ctx: Context) -> Ticket:
    """A new unit takes the ticket: its first contact is still to be made."""
    fields = {
        k: v for k, v in ticket.fields.items() if k not in ("responded_round", "responded_at")
    }
    return ticket.evolve(fields=fields)


def record_response(ticket: Ticket, ctx: Context) -> Ticket:
    """响应: remember that this round had its first contact, and when."""
    fields = {**ticket.fields, "responded_round": ticket.round, "responded_at": ctx.now.isoformat()}
    return ticket.evolve(fields=fields)


def open_objection(ticket: Ticket, ctx: Context) -> Ticket:
    """派单异议 (退单, Art. 12): the unit disputes the order; the centre rules on it. The ticket
    stays with the unit meanwhile and its clock runs on."""
    objection = {
        "unit": ctx.ticket.lead_unit,
        "reason": ctx.fields["reason"],
        "at": ctx.now.isoformat(),
    }
    return ticket.evolve(fields={**ticket.fields, OBJECTION: objection})


def close_objection(ticket: Ticket, ctx: Context) -> Ticket:
    """The centre has ruled on the objection (confirmed or rejected: the event says which)."""
    return ticket.evolve(fields={k: v for k, v in ticket.fields.items() if k != OBJECTION})


def start_round(ticket: Ticket, ctx: Context) -> Ticket:
    """再派件: a new handling round begins after an unsatisfactory callback."""
    return ticket.evolve(round=ticket.round + 1)


def mark_excluded(ticket: Ticket, ctx: Context) -> Ticket:
    """剔除: the ticket no longer counts in the three rates."""
    return ticket.evolve(excluded=True)


# Whistle actions (吹哨报到). A whistle command's fields describe the whistle: they are kept on
# it and in the event, not copied onto the ticket's own fields like other commands' fields.


def _within(ctx: Context) -> durations.Span | None:
    return durations.parse(ctx.fields["within"]) if "within" in ctx.fields else None


def open_whistle(ticket: Ticket, ctx: Context) -> Ticket:
    """吹哨: summon the departments in ``to``, each to report within ``within``."""
    whistler = ctx.fields.get("by") or ctx.ticket.lead_unit
    if whistler is None:
        raise InvalidField("by", "name the whistling unit (the ticket has no lead unit)")
    f, d = ctx.fields, ctx.definition
    opened = whistle_steps.summon(
        ticket, f["to"], f["reason"], whistler, _within(ctx), d, ctx.calendar, ctx.now
    )
    return opened.evolve(fields=ctx.ticket.fields)


def record_report(ticket: Ticket, ctx: Context) -> Ticket:
    """报到: a department shows up and takes its share, with the person and a note."""
    f = ctx.fields
    reported = whistle_steps.answer(
        ticket, f["department"], "reported", ctx.now, person=f.get("person"), note=f.get("note")
    )
    return reported.evolve(fields=ctx.ticket.fields)


def record_decline(ticket: Ticket, ctx: Context) -> Ticket:
    """A department says the matter is not its own; the whistling unit rules on it."""
    declined = whistle_steps.answer(
        ticket, ctx.fields["department"], "declined", ctx.now, reason=ctx.fields["reason"]
    )
    return declined.evolve(fields=ctx.ticket.fields)


def _rule(ticket: Ticket, ctx: Context, accepted: bool) -> Ticket:
    f = ctx.fields
    note = f.get("note") or f.get("reason")
    ruled = whistle_steps.rule_on_decline(
        ticket, f["department"], accepted, note, _within(ctx), ctx.definition, ctx.calendar, ctx.now
    )
    return ruled.evolve(fields=ctx.ticket.fields)


def accept_decline(ticket: Ticket, ctx: Context) -> Ticket:
    """The decline stands: the department is excused."""
    return _rule(ticket, ctx, accepted=True)


def reject_decline(ticket: Ticket, ctx: Context) -> Ticket:
    """The decline is overruled: the department is summoned again with a fresh deadline."""
    return _rule(ticket, ctx, accepted=False)


def record_conference(ticket: Ticket, ctx: Context) -> Ticket:
    """联席会商: date, attendees and decisions of a joint conference."""
    f = ctx.fields
    held_at = datetime.fromisoformat(f["held_at"])
    conferred = whistle_steps.confer(ticket, held_at, f["attendees"], f["decisions"])
    return conferred.evolve(fields=ctx.ticket.fields)


def assign_task(ticket: Ticket, ctx: Context) -> Ticket:
    """A conference's task for an owner department, due at a date."""
    f = ctx.fields
    due = datetime.fromisoformat(f["due"])
    assigned = whistle_steps.assign(
        ticket, f["owner"], f["title"], due, ctx.definition, ctx.calendar, ctx.now
    )
    return assigned.evolve(fields=ctx.ticket.fields)


def finish_task(ticket: Ticket, ctx: Context) -> Ticket:
    done = whistle_steps.finish_task(ticket, ctx.fields["task"], ctx.fields.get("note"), ctx.now)
    return done.evolve(fields=ctx.ticket.fields)


def close_whistle(ticket: Ticket, ctx: Context) -> Ticket:
    """The whistling unit ends the whistle with a reason; pending report deadlines are dropped."""
    closed = whistle_steps.close(ticket, ctx.fields["reason"], ctx.now)
    return closed.evolve(fields=ctx.ticket.fields)


ACTIONS: dict[str, Action] = {
    action.__name__: action
    for action in (
        clear_units,
        reset_response,
        record_response,
        start_round,
        open_objection,
        close_objection,
        mark_excluded,
        open_whistle,
        record_report,
        record_decline,
        accept_decline,
        reject_decline,
        record_conference,
        assign_task,
        finish_task,
        close_whistle,
    )
}
