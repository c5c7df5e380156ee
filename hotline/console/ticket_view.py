"""What a ticket page shows, worked out from the ticket and its definition: the timeline by
round, each open deadline's time left and rungs, and the actions the viewer may take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.engine import access, deadlines, rounds
from hotline.engine.access import Principal
from hotline.engine.definition import FieldSpec
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Deadline, Event, Ticket

FIELD_PREFIX = "f_"  # form inputs named f_<field> carry a trigger's fields


@dataclass(frozen=True)
class DeadlineView:
    deadline: Deadline
    seconds_left: float  # negative: overdue
    fired: list[str]
    ahead: list[str]


@dataclass(frozen=True)
class Action:
    """A trigger the viewer may fire now, with the fields its definition declares."""

    trigger: str
    description: str = ""
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)


def timeline(compiled: CompiledDefinition, events: list[Event], private: bool) -> list[Any]:
    """The events grouped by handling round, each with its payload (masked for ``private``
    viewers)."""
    return [
        [(e, access.mask_values(dict(e.payload)) if private else dict(e.payload)) for e in group]
        for group in rounds.grouped(compiled.definition, events)
    ]


def open_deadlines(compiled: CompiledDefinition, ticket: Ticket, now: datetime) -> list[Any]:
    """Each open deadline with its time left and the rungs (reminder, due, escalation levels)
    fired and still ahead."""
    views = []
    for d in ticket.deadlines:
        rule = deadlines.rule_for(compiled.definition, ticket, d)
        ladder = deadlines.rungs(rule, compiled.calendar, d.window) if rule else ()
        views.append(
            DeadlineView(
                d,
                (d.due_at - now).total_seconds(),
                [r.key for r in ladder[: d.rung]],
                [r.key for r in ladder[d.rung :]],
            )
        )
    return views


def actions(
    principal: Principal, ticket: Ticket, compiled: CompiledDefinition, allowed: list[str]
) -> list[Action]:
    """The triggers allowed from the ticket's state that ``principal`` may fire on it."""
    definition = compiled.definition
    found = []
    for trigger in allowed:
        if not access.may_fire(principal, trigger, ticket, definition):
            continue
        specs = [t for t in definition.transitions if t.trigger == trigger]
        here = [t for t in specs if ticket.state in t.source] or specs
        fields: dict[str, FieldSpec] = {}
        for spec in here:
            fields |= spec.fields
        found.append(Action(trigger, here[0].description if here else "", fields))
    return found


def fields_of(form: Mapping[str, Any]) -> dict[str, str]:
    """A trigger's fields from a form: the filled-in ``f_<name>`` inputs, as text (the
    definition's field types convert them, as they do the CLI's ``--set``)."""
    return {
        name.removeprefix(FIELD_PREFIX): value.strip()
        for name, value in form.items()
        if name.startswith(FIELD_PREFIX) and isinstance(value, str) and value.strip()
    }
