"""What a definition's transitions mean: who performs each trigger and what it counts for.

The definition declares it (``performer``, ``counts`` and the ``kpi`` fields); this module
answers the questions the access policy, the assessment and the shells ask, so no module has
to know a trigger by its name. The whistle's triggers are found by the engine action they run
(``open_whistle``, ``record_report``…), which is the engine's own vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.engine.definition import Counts, Definition, Performer


def performers(definition: Definition, trigger: str) -> frozenset[Performer]:
    """Everyone any transition of ``trigger`` names as its performer (none: no such trigger)."""
    return frozenset(p for t in definition.transitions if t.trigger == trigger for p in t.performer)


def counting(definition: Definition, meaning: Counts) -> tuple[str, ...]:
    """The triggers that count as ``meaning`` in the assessment, in definition order."""
    found = [t.trigger for t in definition.transitions if meaning in t.counts]
    return tuple(dict.fromkeys(found))


def destinations(definition: Definition, meaning: Counts) -> tuple[str, ...]:
    """The states reached by the transitions that count as ``meaning`` (a re-handling round)."""
    found = [t.dest for t in definition.transitions if meaning in t.counts and t.dest]
    return tuple(dict.fromkeys(found))


def actions(definition: Definition, trigger: str) -> frozenset[str]:
    """The engine actions the transitions of ``trigger`` run (its ``before`` lists)."""
    return frozenset(a for t in definition.transitions if t.trigger == trigger for a in t.before)


def running(definition: Definition, action: str) -> str | None:
    """The trigger whose transition runs the engine action ``action`` (e.g. ``open_whistle``)."""
    return next((t.trigger for t in definition.transitions if action in t.before), None)


def answers_in(definition: Definition, fields: Mapping[str, Any]) -> tuple[bool, str | None]:
    """A callback's answers as (resolved, satisfied | basic | unsatisfied | None).

    Read through ``kpi.answers``; a definition without it keeps its answers in fields named
    ``resolved`` and ``satisfaction`` whose values are the levels themselves.
    """
    answers = definition.kpi.answers
    if answers is None:
        return bool(fields.get("resolved")), fields.get("satisfaction")
    value = fields.get(answers.satisfaction)
    return bool(fields.get(answers.resolved)), answers.levels.get(value) if value else None


def declares(definition: Definition) -> bool:
    """Does ``definition`` declare any meaning (a performer other than the default, a count)?"""
    default = (Performer.OPERATOR,)
    kpi = definition.kpi
    return any(t.counts or t.performer != default for t in definition.transitions) or bool(
        kpi.answers or kpi.response_deadline or definition.public_notes
    )


def adopt(older: Definition, newer: Definition) -> Definition:
    """``older`` with the meanings ``newer`` declares for the triggers both have.

    A version stored before definitions declared meanings has none; its tickets' events mean
    what the same triggers mean in the newest version of its name, so reports and roles read
    them alike. A definition that declares meanings of its own is returned unchanged.
    """
    if declares(older) or not declares(newer):
        return older
    transitions = tuple(
        t.model_copy(
            update={
                "performer": tuple(performers(newer, t.trigger)) or t.performer,
                "counts": _counts_of(newer, t.trigger, t.dest),
            }
        )
        for t in older.transitions
    )
    meaning = {
        key: getattr(newer.kpi, key) for key in ("response_deadline", "answers", "via_district")
    }
    kpi = older.kpi.model_copy(update=meaning)
    notes = older.public_notes or newer.public_notes
    return older.model_copy(update={"transitions": transitions, "kpi": kpi, "public_notes": notes})


def _counts_of(definition: Definition, trigger: str, dest: str | None) -> tuple[Counts, ...]:
    same = [t for t in definition.transitions if t.trigger == trigger]
    exact = [t for t in same if t.dest == dest] or same
    return exact[0].counts if exact else ()


@dataclass(frozen=True)
class Reading:
    """How the assessment reads a history: the triggers and states each count is made of."""

    dispatch: tuple[str, ...]
    response: tuple[str, ...]
    exclusion: tuple[str, ...]
    callback: tuple[str, ...]
    redispatched: tuple[str, ...]  # states of a re-handling round
    response_deadline: str | None
    resolved: str | None
    satisfaction: str | None
    levels: tuple[tuple[str, str], ...]  # (field value, satisfied | basic | unsatisfied)
    route: tuple[str, str] | None  # (dispatch field, value meaning via a district)

    @property
    def triggers(self) -> tuple[str, ...]:
        return self.dispatch + self.response + self.exclusion + self.callback


def reading(definition: Definition) -> Reading:
    """The assessment's reading of ``definition``'s histories."""
    kpi = definition.kpi
    answers = kpi.answers
    return Reading(
        dispatch=counting(definition, Counts.DISPATCH),
        response=counting(definition, Counts.RESPONSE),
        exclusion=counting(definition, Counts.EXCLUSION),
        callback=counting(definition, Counts.CALLBACK),
        redispatched=destinations(definition, Counts.REDISPATCH),
        response_deadline=kpi.response_deadline,
        resolved=answers.resolved if answers else None,
        satisfaction=answers.satisfaction if answers else None,
        levels=tuple(answers.levels.items()) if answers else (),
        route=(kpi.via_district.field, kpi.via_district.value) if kpi.via_district else None,
    )
