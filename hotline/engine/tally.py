"""One ticket's history folded into what the assessment and the what-if report count, in Python.

The reports fold histories in the database (``persistence.reports``); a what-if replay has its
histories in memory, so it folds them here, by the same rules, into the same ``kpi.Counts``:
events read up to ``as_of``; a ticket enters the assessment with a dispatch, leaves it with an
exclusion; it responded in time if it has a response and no response deadline it met late or
the sweeper saw go overdue; the counted callback is its last (or first) one with its answers.
``tests/integration/test_whatif.py`` checks both folds give the same figures.

Beside the three rates, a replay reports what the deadlines and whistles did (``Activity``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.engine import kpi, values
from hotline.engine.meanings import Reading
from hotline.engine.ticket import Event

# The sweeper's event for a deadline that fell due unmet (``escalation.EVENTS["due"]``).
OVERDUE, REMIND, ESCALATE = "overdue", "remind", "escalate"
SYSTEM = "deadline"  # the actor of what a deadline fires (``escalation.ACTOR``)


@values.frozen
class Facts:
    """What a run of a ticket's events says for the assessment: the flags ``persistence.facts``
    keeps per ticket. A callback is ``seq × 10 + its answers' code``, so the smallest is the
    first answered callback and the largest the last."""

    entered: bool = False  # dispatched (a district forwarding counts)
    via_district: bool = False
    excluded: bool = False
    responses: int = 0
    late: int = 0  # responses that met their deadline late, and response deadlines missed
    redone: bool = False  # entered a re-handling round
    first_callback: int | None = None
    last_callback: int | None = None
    newest: datetime | None = None  # the newest event counted


def fold(events: Iterable[Event], read: Reading, as_of: datetime | None = None) -> Facts:
    """The facts of ``events`` (those up to ``as_of``, if given) as ``read`` names them."""
    entered = via = excluded = redone = False
    responses = late = 0
    callbacks: list[int] = []
    newest: datetime | None = None
    triggers = read.triggers  # worked out per call: once per ticket, not per event
    for e in events:
        if as_of is not None and e.occurred_at > as_of:
            continue
        trigger = e.trigger
        if trigger not in triggers and trigger != OVERDUE:
            continue
        newest = e.occurred_at if newest is None else max(newest, e.occurred_at)
        redone = redone or e.to_state in read.redispatched
        if trigger in read.dispatch:
            entered = True
            via = via or _via_district(e.payload, read)
        excluded = excluded or trigger in read.exclusion
        if trigger in read.response:
            responses += 1
            late += _met_late(e.payload, read)
        elif trigger == OVERDUE and read.response_deadline is not None:
            late += e.payload.get("deadline") == read.response_deadline
        if trigger in read.callback:
            callbacks.append(e.seq * 10 + _answer_code(e.payload, read))
    first, last = (min(callbacks), max(callbacks)) if callbacks else (None, None)
    return Facts(entered, via, excluded, responses, late, redone, first, last, newest)


def counts(
    events: Iterable[Event], read: Reading, as_of: datetime, counted: str = "last"
) -> kpi.Counts:
    """The ticket's contribution to its group's counts (``received`` is 1)."""
    facts = fold(events, read, as_of)
    callback = facts.last_callback if counted == "last" else facts.first_callback
    assessed = facts.entered and not facts.excluded
    in_time = assessed and facts.responses > 0 and facts.late == 0
    answers: tuple[tuple[bool, str, int], ...] = ()
    if assessed and callback is not None:
        resolved, place = divmod(callback % 10, 3)
        answers = ((bool(resolved), kpi.SATISFACTION[place], 1),)
    return kpi.Counts(
        received=1,
        direct=int(facts.entered and not facts.via_district),
        via_district=int(facts.via_district),
        excluded=int(facts.excluded),
        assessed=int(assessed),
        responded=int(in_time),
        redispatched=int(assessed and facts.redone),
        callbacks_responded=int(bool(answers) and in_time),
        answers=answers,
    )


def _via_district(payload: Any, read: Reading) -> bool:
    return read.route is not None and payload.get(read.route[0]) == read.route[1]


def _met_late(payload: Any, read: Reading) -> bool:
    met = payload.get("met") or {}
    return read.response_deadline is not None and bool(
        (met.get(read.response_deadline) or {}).get("late")
    )


def _answer_code(payload: Any, read: Reading) -> int:
    """3 × resolved + the satisfaction's place in ``kpi.SATISFACTION`` (2 if unknown), as the
    database's fold codes it."""
    if read.resolved is None or read.satisfaction is None:
        return 2
    levels = dict(read.levels)
    level = levels.get(payload.get(read.satisfaction))
    place = kpi.SATISFACTION.index(level) if level in kpi.SATISFACTION else 2
    return 3 * (payload.get(read.resolved) is True) + place


@dataclass
class Activity:
    """What deadlines, whistles and callbacks did over a set of histories."""

    tickets: int = 0
    transitions: int = 0  # events recorded (commands and firings)
    missed: Counter[str] = field(default_factory=Counter)  # overdue events by deadline kind
    reminders: int = 0
    escalations: Counter[int] = field(default_factory=Counter)  # by level
    automatic_whistles: int = 0  # opened by a deadline's command, not by a person
    callbacks: int = 0  # every callback answered (each round's)

    def add(
        self, events: Iterable[Event], read: Reading, whistle: str | None, as_of: datetime
    ) -> None:
        """Count one ticket's history up to ``as_of``; ``whistle`` is the trigger that opens
        a whistle."""
        self.tickets += 1
        for e in events:
            if e.occurred_at > as_of:
                continue
            self.transitions += 1
            if e.trigger == OVERDUE:
                self.missed[e.payload.get("deadline", "")] += 1
            elif e.trigger == REMIND:
                self.reminders += 1
            elif e.trigger == ESCALATE:
                self.escalations[int(e.payload.get("level", 0))] += 1
            elif e.trigger == whistle and e.actor == SYSTEM:
                self.automatic_whistles += 1
            elif e.trigger in read.callback:
                self.callbacks += 1

    def record(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "tickets": self.tickets,
            "transitions": self.transitions,
            "deadlines_missed": sum(self.missed.values()),
            "missed_by_kind": dict(sorted(self.missed.items())),
            "reminders": self.reminders,
            "escalations": sum(self.escalations.values()),
            "escalations_by_level": {str(k): n for k, n in sorted(self.escalations.items())},
            "automatic_whistles": self.automatic_whistles,
            "callbacks": self.callbacks,
        }
