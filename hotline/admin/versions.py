"""Moving running tickets from one definition version to another (``hotline workflow migrate``).

``plan`` says how many tickets would move from each state to which, and refuses before anything
is written when a state has no mapping. ``migrate`` then moves them a batch per transaction:
each ticket's ``migrate`` event is written with its version change. An interrupted run is
resumed by running it again: tickets already on the target version are no longer selected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hotline import admin, errors
from hotline.engine import migration
from hotline.engine.decision import Decision
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Ticket
from hotline.persistence import versions
from hotline.service import Service

BATCH = admin.MIGRATION_BATCH


@dataclass(frozen=True)
class Plan:
    """A checked migration of ``name`` from ``source`` to ``target``."""

    source: CompiledDefinition
    target: CompiledDefinition
    mapping: Mapping[str, str]
    moves: dict[tuple[str, str], int] = field(default_factory=dict)  # (old, new) -> tickets

    @property
    def name(self) -> str:
        return self.source.definition.name

    @property
    def total(self) -> int:
        return sum(self.moves.values())


def mapping(items: list[str], option: str = "--map") -> dict[str, str]:
    """``old_state=new_state`` items as a mapping; a clear error naming a malformed one."""
    pairs = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise errors.HotlineError(f"{option} {item!r}: write it as old_state=new_state")
        pairs[old.strip()] = new.strip()
    return pairs


def plan(
    service: Service, name: str, from_version: int, to_version: int, mapping: Mapping[str, str]
) -> Plan:
    """The moves a migration would make; raise UnmappedStates naming every unmapped state."""
    if from_version == to_version:
        raise errors.HotlineError(f"--from and --to are both {from_version}: nothing to migrate")
    source = service.compiled(name, from_version)
    target = service.compiled(name, to_version)
    migration.check_mapping(source.definition, target.definition, mapping)
    counts = versions.state_counts(service.store, name, from_version, source.definition.final)
    missing = migration.unmapped(target.definition, counts, mapping)
    if missing:
        raise migration.UnmappedStates(missing)
    moves = {(state, mapping.get(state, state)): n for state, n in counts.items()}
    return Plan(source, target, dict(mapping), moves)


def migrate(
    service: Service,
    chosen: Plan,
    actor: str = "admin",
    batch: int = BATCH,
    on_batch: Callable[[int], None] = lambda n: None,
) -> int:
    """Move every running ticket of the plan; return how many moved in this run.

    ``on_batch(n)`` is called after each committed batch of ``n`` tickets (progress bars).
    """
    final = chosen.source.definition.final
    moved, after = 0, 0
    while ids := versions.running_ids(
        service.store, chosen.name, chosen.source.version, final, after, batch
    ):
        decide_on = functools.partial(_decide, chosen, actor=actor, now=service.clock.now())
        moved += len(service.store.update_many(ids, decide_on))
        after = ids[-1]
        on_batch(len(ids))
    return moved


def _decide(chosen: Plan, ticket: Ticket, *, actor: str, now: datetime) -> Decision | None:
    source, target = chosen.source, chosen.target
    if ticket.definition_version != source.version or ticket.state == source.definition.final:
        return None  # moved or closed since it was selected
    state = chosen.mapping.get(ticket.state, ticket.state)
    if state not in target.definition.state_names:
        raise migration.UnmappedStates({ticket.state: 1})
    return migration.decide_migration(source, target, ticket, state, actor, now)
