"""Deadlines: which rules apply, when each falls due, and how the clock stops and moves.

Every function here takes a Deadline and returns a changed copy; nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.engine.calendar import Calendar
from hotline.engine.definition import Command, DeadlineRule, Definition, Measure
from hotline.engine.durations import Span
from hotline.engine.ticket import Deadline, Ticket

# A whistle's deadlines belong to the whistle, not to a state: their ``state`` is this prefix and
# the whistle's number ("whistle#1"), so leaving or re-entering a state never closes them.
WHISTLE = "whistle#"
# A deadline keeps its measure as text; the calendar wants the member (looked up, not
# constructed: ``Measure(text)`` was a tenth of rescheduling a deadline).
MEASURES = {m.value: m for m in Measure}
TEXTS = {m: m.value for m in Measure}  # and back (``.value`` is a call too)


def follows_whistle(deadline: Deadline) -> bool:
    return deadline.state.startswith(WHISTLE)


@dataclass(frozen=True)
class Rung:
    """One firing of a deadline: a reminder, the due time, or a level of escalation (督办)."""

    name: str  # remind | due | escalate
    offset: int  # clock seconds after the window opened
    notify: str
    level: int = 0
    trigger: str | None = None  # fired on the ticket at the due time (e.g. start_callback)
    command: Command | None = None  # fired after commit (e.g. an automatic whistle)

    @property
    def key(self) -> str:
        """The rung's identity across versions of its rule (``remind``, ``due``,
        ``escalate-2``): a migration keeps what fired by it, not by position."""
        return f"{self.name}-{self.level}" if self.name == "escalate" else self.name


def applicable(definition: Definition, state: str, ticket: Ticket) -> tuple[DeadlineRule, ...]:
    """The rules of ``state`` that match the ticket's category and urgency.

    Rules of one kind are tried in order and the first match wins, so a definition lists the
    specific rule (basic utilities: 24h) before the general one (ordinary: 7d).
    """
    key = ("applicable", state, ticket.category, ticket.urgency)
    return definition.memo(key, lambda: tuple(_matching(definition, state, ticket)))


def _matching(definition: Definition, state: str, ticket: Ticket) -> Iterator[DeadlineRule]:
    taken: set[str] = set()
    category = definition.category(ticket.category)
    for rule in definition.state(state).deadlines:
        if rule.kind in taken:
            continue
        if rule.categories and ticket.category not in rule.categories:
            continue
        if rule.kinds and (category is None or category.kind not in rule.kinds):
            continue
        if rule.urgency and ticket.urgency not in rule.urgency:
            continue
        taken.add(rule.kind)
        yield rule


def rule_for(definition: Definition, ticket: Ticket, deadline: Deadline) -> DeadlineRule | None:
    """The rule a deadline fires by: its state's, or the definition's whistle settings."""
    if follows_whistle(deadline):
        return definition.whistle.rule(deadline.kind)
    return next(
        (r for r in applicable(definition, deadline.state, ticket) if r.kind == deadline.kind), None
    )


def rungs(rule: DeadlineRule, calendar: Calendar, window: int) -> tuple[Rung, ...]:
    """The firings of a deadline in order: reminder, due time, escalation levels.

    ``window`` is the deadline's own window, so an extension (延期) moves every rung with it.
    """
    own, ladder = _own(rule, calendar)
    return ladder if window == own else _ladder(rule, calendar, window)


def _own(rule: DeadlineRule, calendar: Calendar) -> tuple[int, tuple[Rung, ...]]:
    """The rule's own window in clock seconds and its ladder, kept with the rule."""

    def make() -> tuple[int, tuple[Rung, ...]]:
        window = calendar.seconds(rule.within, rule.measure)
        return window, _ladder(rule, calendar, window)

    return rule.memo(("rungs", calendar.day_seconds), make)


def _ladder(rule: DeadlineRule, calendar: Calendar, window: int) -> tuple[Rung, ...]:
    found = [Rung("due", window, rule.notify, trigger=rule.on_due)]
    if rule.remind_at:
        found.append(Rung("remind", int(window * rule.remind_at), rule.notify))
    for step in rule.escalate:
        offset = window + calendar.seconds(step.after, rule.measure)
        found.append(Rung("escalate", offset, step.notify, step.level, command=step.command))
    return tuple(sorted(found, key=lambda r: r.offset))


def fired_keys(rule: DeadlineRule, calendar: Calendar, deadline: Deadline) -> set[str]:
    """The identities of the rungs of ``deadline`` that already fired under ``rule``."""
    return {r.key for r in rungs(rule, calendar, deadline.window)[: deadline.rung]}


def next_rung(ladder: tuple[Rung, ...], fired: set[str]) -> int:
    """The position in ``ladder`` of the next rung to fire, given the identities that fired:
    the one after the last rung that fired. A rung the ladder gained before it is behind the
    ticket and is not fired late; a rung it lost changes no later rung's turn."""
    done = [i for i, r in enumerate(ladder) if r.key in fired]
    return done[-1] + 1 if done else 0


def open_for(
    definition: Definition,
    calendar: Calendar,
    state: str,
    ticket: Ticket,
    now: datetime,
    left: tuple[Deadline, ...] = (),
) -> tuple[Deadline, ...]:
    """The deadlines to open as ``ticket`` enters ``state`` at ``now``; ``left``: those of the
    state it leaves, as they were (a rule's ``until`` takes its due time from one of them)."""
    opened = []
    for rule in applicable(definition, state, ticket):
        measure, (window, ladder) = rule.measure, _own(rule, calendar)
        inherited = rule.until and next((d for d in left if d.open and d.kind == rule.until), None)
        if inherited:  # wall-clock seconds to the inherited due time, 0 if past
            measure = Measure.CALENDAR
            window = max(0, int((_due_at(inherited, calendar, now) - now).total_seconds()))
            ladder = rungs(rule, calendar, window)
        timing = _timing(ladder, calendar, measure, window, now)
        opened.append(
            Deadline(
                kind=rule.kind,
                state=state,
                measure=TEXTS[measure],
                window=window,
                opened_at=now,
                running_since=now,
                **timing,
            )
        )
    return tuple(opened)


def _due_at(deadline: Deadline, calendar: Calendar, now: datetime) -> datetime:
    """When ``deadline`` falls due; a paused one as if its clock restarted at ``now``."""
    if deadline.running_since is not None:
        return deadline.due_at
    left = max(0, deadline.window - deadline.consumed)
    return calendar.add(now, left, MEASURES[deadline.measure])


def schedule(deadline: Deadline, rule: DeadlineRule, calendar: Calendar) -> Deadline:
    """Recompute ``due_at`` and ``fire_at`` of a running deadline from its clock."""
    if deadline.running_since is None:
        return deadline
    measure = MEASURES[deadline.measure]
    ladder = rungs(rule, calendar, deadline.window)
    timing = _timing(
        ladder,
        calendar,
        measure,
        deadline.window,
        deadline.running_since,
        deadline.consumed,
        deadline.rung,
    )
    return deadline.evolve(**timing)


def _timing(
    ladder: tuple[Rung, ...],
    calendar: Calendar,
    measure: Measure,
    window: int,
    running_since: datetime,
    consumed: int = 0,
    rung: int = 0,
) -> dict[str, Any]:
    """The ``due_at``, ``fire_at`` and ``provisional`` of a clock running since
    ``running_since`` with ``consumed`` seconds used, its next rung ``rung`` on ``ladder``."""

    def at(offset: int) -> datetime:
        return calendar.add(running_since, max(0, offset - consumed), measure)

    due_at = at(window)
    fire_at = None
    if rung < len(ladder):  # the next rung is often the due time itself
        offset = ladder[rung].offset
        fire_at = due_at if offset == window else at(offset)
    provisional = calendar.provisional(due_at, measure)
    return {"due_at": due_at, "fire_at": fire_at, "provisional": provisional}


def close(deadline: Deadline, status: str, now: datetime) -> Deadline:
    return deadline.evolve(status=status, closed_at=now, fire_at=None)


def pause(deadline: Deadline, calendar: Calendar, now: datetime) -> Deadline:
    """Stop the clock, keeping the time consumed so far."""
    if deadline.running_since is None:
        return deadline
    used = calendar.elapsed(deadline.running_since, now, MEASURES[deadline.measure])
    return deadline.evolve(
        status="paused", consumed=deadline.consumed + used, running_since=None, fire_at=None
    )


def resume(deadline: Deadline, rule: DeadlineRule, calendar: Calendar, now: datetime) -> Deadline:
    """Restart the clock where it stopped; the due time moves by the length of the pause."""
    if deadline.running_since is not None:
        return deadline
    return schedule(deadline.evolve(status="pending", running_since=now), rule, calendar)


def extend(deadline: Deadline, by: Span, rule: DeadlineRule, calendar: Calendar) -> Deadline:
    """延期: lengthen the window; the consumed time is kept."""
    window = deadline.window + calendar.seconds(by, MEASURES[deadline.measure])
    return schedule(deadline.evolve(window=window), rule, calendar)


def closed_by(definition: Definition, state: str, trigger: str) -> frozenset[str]:
    """Kinds of deadline in ``state`` that ``trigger`` meets."""
    return definition.memo(
        ("closed_by", state, trigger),
        lambda: frozenset(
            r.kind for r in definition.state(state).deadlines if trigger in r.closed_by
        ),
    )
