"""Named changes a transition makes to its ticket (the ``before`` list of a definition).

Command fields are copied onto the ticket by the engine; actions cover what fields cannot say.
Each action is pure: it takes the ticket and returns a changed copy.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.engine.guards import Context
from hotline.engine.ticket import Ticket

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


def start_round(ticket: Ticket, ctx: Context) -> Ticket:
    """再派件: a new handling round begins after an unsatisfactory callback."""
    return ticket.evolve(round=ticket.round + 1)


def mark_excluded(ticket: Ticket, ctx: Context) -> Ticket:
    """剔除: the ticket no longer counts in the three rates."""
    return ticket.evolve(excluded=True)


ACTIONS: dict[str, Action] = {
    action.__name__: action
    for action in (clear_units, reset_response, record_response, start_round, mark_excluded)
}
