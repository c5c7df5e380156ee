"""Moving a running ticket to another version of its definition (DESIGN.md principle 4).

A migration never restarts a clock: an open deadline keeps its consumed working time, its pause
ledger and any approved extension; only its window is taken from the new rule and its due time
recomputed. Deadlines the new version no longer has in that state are cancelled; kinds of
deadline it adds to the state open now. The move is one ``migrate`` event in the ticket's
history, written with the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hotline.engine import deadlines
from hotline.engine.decide import record
from hotline.engine.decision import Decision
from hotline.engine.definition import DeadlineRule, Definition, Measure
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Deadline, Ticket
from hotline.errors import HotlineError

TRIGGER = "migrate"


class UnmappedStates(HotlineError):
    """States of the old version that the new one lacks and the admin did not map."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.states = dict(counts)
        listed = ", ".join(f"{s!r} ({n} ticket(s))" for s, n in counts.items())
        super().__init__(
            f"no mapping for state(s) {listed}: the new version has no such state; "
            "add --map OLD=NEW for each"
        )


def check_mapping(source: Definition, target: Definition, mapping: Mapping[str, str]) -> None:
    """Refuse a mapping that names a state either version does not have."""
    problems = [
        f"{old!r} is not a state of {source.name} (old version)"
        for old in mapping
        if old not in source.state_names
    ] + [
        f"{new!r} is not a state of {target.name} (new version)"
        for new in mapping.values()
        if new not in target.state_names
    ]
    if problems:
        raise HotlineError("bad --map: " + "; ".join(problems))


def unmapped(
    target: Definition, counts: Mapping[str, int], mapping: Mapping[str, str]
) -> dict[str, int]:
    """The states (with their ticket counts) that would land on no state of ``target``."""
    return {
        state: n
        for state, n in counts.items()
        if mapping.get(state, state) not in target.state_names
    }


def decide_migration(
    source: CompiledDefinition,
    target: CompiledDefinition,
    ticket: Ticket,
    state: str,
    actor: str,
    now: datetime,
) -> Decision:
    """Move ``ticket`` from ``source`` to ``target``, into ``state`` of the target."""
    moved = ticket.evolve(definition_version=target.version, state=state)
    current = _deadlines(source, target, ticket, moved, now)
    changed = tuple(d for d in current if d.id is None or d not in ticket.deadlines)
    after = moved.evolve(deadlines=tuple(d for d in current if d.open))
    payload = {
        "definition": target.definition.name,
        "from_version": source.version,
        "to_version": target.version,
        "deadlines": {
            d.kind: {"status": d.status, "due_at": d.due_at.isoformat()} for d in current
        },
    }
    return record(ticket, after, TRIGGER, actor, payload, now, ticket.state, deadlines=changed)


def _deadlines(
    source: CompiledDefinition,
    target: CompiledDefinition,
    before: Ticket,
    after: Ticket,
    now: datetime,
) -> tuple[Deadline, ...]:
    kept = []
    for d in before.deadlines:
        rule = deadlines.rule_for(target.definition, after, d.evolve(state=after.state))
        if rule is None:
            kept.append(deadlines.close(d, "cancelled", now))
        else:
            fired = _fired(source, before, d)
            moved = _retime(d, _extension(source, before, d), fired, rule, target, after.state)
            kept.append(moved)
    # Only a kind of deadline the old version did not have here opens now: one that was
    # already met in this state stays met.
    had = {r.kind for r in deadlines.applicable(source.definition, before.state, before)}
    opened = deadlines.open_for(target.definition, target.calendar, after.state, after, now)
    return (*kept, *(d for d in opened if d.kind not in had))


def _extension(source: CompiledDefinition, ticket: Ticket, d: Deadline) -> int:
    """The clock seconds an approved extension (延期) added to ``d``'s window."""
    rule = deadlines.rule_for(source.definition, ticket, d)
    if rule is None:
        return 0
    return max(0, d.window - source.calendar.seconds(rule.within, rule.measure))


def _fired(source: CompiledDefinition, ticket: Ticket, d: Deadline) -> set[str]:
    """The identities of ``d``'s rungs that fired under the old version."""
    rule = deadlines.rule_for(source.definition, ticket, d)
    if rule is None:
        return set()
    return deadlines.fired_keys(rule, source.calendar, d)


def _retime(
    d: Deadline,
    extension: int,
    fired: set[str],
    rule: DeadlineRule,
    target: CompiledDefinition,
    state: str,
) -> Deadline:
    """The same clock (consumed, running_since, pause status) under the new rule's window,
    its ladder resumed after the last rung that fired, by identity (not by position)."""
    window = target.calendar.seconds(rule.within, rule.measure) + extension
    ladder = deadlines.rungs(rule, target.calendar, window)
    moved = d.evolve(
        state=state,
        window=window,
        measure=Measure(rule.measure).value,
        rung=deadlines.next_rung(ladder, fired),
    )
    return deadlines.schedule(moved, rule, target.calendar)
