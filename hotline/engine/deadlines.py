"""Which deadline rules apply to a ticket in a state, and when each falls due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from hotline.engine.calendar import Calendar
from hotline.engine.decision import DeadlineOpened
from hotline.engine.definition import DeadlineRule, Definition
from hotline.engine.ticket import Ticket


def applicable(definition: Definition, state: str, ticket: Ticket) -> Iterator[DeadlineRule]:
    """The rules of ``state`` that match the ticket's category and urgency.

    Rules of one kind are tried in order and the first match wins, so a definition lists the
    specific rule (basic utilities: 24h) before the general one (ordinary: 7d).
    """
    taken: set[str] = set()
    for rule in definition.state(state).deadlines:
        if rule.kind in taken:
            continue
        if rule.categories and ticket.category not in rule.categories:
            continue
        category = definition.category(ticket.category)
        if rule.kinds and (category is None or category.kind not in rule.kinds):
            continue
        if rule.urgency and ticket.urgency not in rule.urgency:
            continue
        taken.add(rule.kind)
        yield rule


def open_for(
    definition: Definition, calendar: Calendar, state: str, ticket: Ticket, now: datetime
) -> tuple[DeadlineOpened, ...]:
    """The deadlines to open as ``ticket`` enters ``state`` at ``now``."""
    return tuple(
        DeadlineOpened(
            kind=rule.kind,
            state=state,
            due_at=calendar.add(now, rule.within, rule.measure),
            opened_at=now,
            measure=rule.measure.value,
            window_seconds=int(rule.within.total_seconds()),
        )
        for rule in applicable(definition, state, ticket)
    )


def closed_by(definition: Definition, state: str, trigger: str) -> tuple[str, ...]:
    """Kinds of deadline in ``state`` that ``trigger`` meets without leaving the state."""
    kinds = (r.kind for r in definition.state(state).deadlines if trigger in r.closed_by)
    return tuple(dict.fromkeys(kinds))
