"""Named conditions a definition may put on a transition (``conditions`` / ``unless``).

A guard is a pure predicate over the ticket, the command's fields and the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import datetime
from typing import Any

from hotline.engine import kpi, meanings, values
from hotline.engine.calendar import Calendar, round_the_clock
from hotline.engine.definition import Definition
from hotline.engine.ticket import Ticket


@values.frozen
class Context:
    """What a guard or an action may look at while a trigger is being decided."""

    ticket: Ticket
    fields: Mapping[str, Any]
    definition: Definition
    now: datetime
    calendar: Calendar = field(default_factory=round_the_clock)  # what deadlines count on


Guard = Callable[[Context], bool]
OBJECTION = "objection"  # the ticket field holding a pending dispatch objection


def both_yes(ctx: Context) -> bool:
    """双是: the citizen says the problem is solved and is satisfied."""
    resolved, level = meanings.answers_in(ctx.definition, ctx.fields)
    return resolved and kpi.satisfied(level, ctx.definition.kpi)


def round_limit_reached(ctx: Context) -> bool:
    """The ticket has been handled as many rounds as the definition allows."""
    return ctx.ticket.round >= ctx.definition.round_limit


def not_responded(ctx: Context) -> bool:
    """The unit has not yet made first contact (响应) in this handling round."""
    return ctx.ticket.fields.get("responded_round") != ctx.ticket.round


def not_excluded(ctx: Context) -> bool:
    """The ticket still counts in the assessment (not yet 剔除)."""
    return not ctx.ticket.excluded


def other_unit(ctx: Context) -> bool:
    """The command names a lead unit other than the current one."""
    return ctx.fields.get("lead_unit") != ctx.ticket.lead_unit


def clock_paused(ctx: Context) -> bool:
    """The ticket's deadlines are stopped (waiting on the citizen)."""
    return any(d.status == "paused" for d in ctx.ticket.deadlines)


def clock_running(ctx: Context) -> bool:
    return not clock_paused(ctx)


def whistle_open(ctx: Context) -> bool:
    """A whistle (吹哨报到) on the ticket is still open."""
    return ctx.ticket.whistle is not None and ctx.ticket.whistle.open


def objection_open(ctx: Context) -> bool:
    """A dispatch objection (派单异议, 退单) awaits the centre's ruling."""
    return ctx.ticket.fields.get(OBJECTION) is not None


def names_unit(ctx: Context) -> bool:
    """The command names a lead unit (a confirmed objection re-routes the ticket to it)."""
    return ctx.fields.get("lead_unit") is not None


GUARDS: dict[str, Guard] = {
    guard.__name__: guard
    for guard in (
        both_yes,
        round_limit_reached,
        not_responded,
        not_excluded,
        other_unit,
        clock_paused,
        clock_running,
        whistle_open,
        objection_open,
        names_unit,
    )
}
