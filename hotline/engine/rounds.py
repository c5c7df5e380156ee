"""Handling rounds (再派件、再处置、再验收), read back from a ticket's history.

A ticket re-dispatched after an unsatisfactory callback is handled again; each round keeps its
own record. Which event fields make that record (the unit's closing opinion, the callback's
answers) is the definition's ``round_record``; a round ends with the event of a transition that
runs the ``start_round`` action. The unit of a round is the lead unit the history last named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.engine.definition import Definition
from hotline.engine.ticket import Event

STARTS_A_ROUND = "start_round"  # the engine action that begins the next round
UNIT = "lead_unit"


def record(definition: Definition, events: Sequence[Event]) -> list[dict[str, Any]]:
    """One entry per round: its number, unit, and the latest value of each record field, with
    when it was given (``<field>_at``); empty if the definition declares no ``round_record``."""
    if not definition.round_record:
        return []
    boundaries = _boundaries(definition)
    rounds: list[dict[str, Any]] = [{"round": 1, "unit": None}]
    for event in events:
        current = rounds[-1]
        if UNIT in event.payload and event.payload[UNIT] is not None:
            current["unit"] = event.payload[UNIT]
        for name in definition.round_record:
            if name in event.payload:
                current[name] = event.payload[name]
                current[f"{name}_at"] = event.occurred_at.isoformat()
        if (event.trigger, event.from_state, event.to_state) in boundaries:
            rounds.append({"round": current["round"] + 1, "unit": current["unit"]})
    recorded = any(name in r for r in rounds for name in definition.round_record)
    return rounds if recorded else []  # nothing handled yet: no round to show


def sources(definition: Definition) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``record`` reads, as (payload keys, triggers): an event carrying none of the keys
    and firing none of the triggers changes no round, so a reader may leave it out."""
    if not definition.round_record:
        return (), ()
    keys = (UNIT, *definition.round_record)
    triggers = sorted({trigger for trigger, _, _ in _boundaries(definition)})
    return keys, tuple(triggers)


def grouped(definition: Definition, events: Sequence[Event]) -> list[list[Event]]:
    """The events of each handling round in order: a round's last event is the one that starts
    the next (see ``record``)."""
    boundaries = _boundaries(definition)
    rounds: list[list[Event]] = [[]]
    for event in events:
        rounds[-1].append(event)
        if (event.trigger, event.from_state, event.to_state) in boundaries:
            rounds.append([])
    return [r for r in rounds if r]


def _boundaries(definition: Definition) -> set[tuple[str, str | None, str]]:
    """(trigger, from, to) of every transition that starts a new round."""
    found = set()
    for t in definition.transitions:
        if STARTS_A_ROUND in t.before:
            for source in t.source:
                found.add((t.trigger, source, t.dest or source))
    return found
