"""Checks of what cannot work though every name is known: a code declared twice, a unit that
supervises itself (or a ring of supervisors), a deadline rule that can never apply, a ladder
with two rungs of one level, an escalation command naming a trigger that does not exist.

Each is linear in the size of the definition; problems carry their path, the loader the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from hotline.engine.definition import DeadlineRule, Definition
from hotline.errors import Problem


def duplicate_codes(definition: Definition) -> Iterator[Problem]:
    """Category and unit codes are unique: a second one would be silently ignored."""
    for key, what in (("categories", "category"), ("units", "unit")):
        first: dict[str, int] = {}
        for i, item in enumerate(getattr(definition, key)):
            if item.code in first:
                yield Problem(f"{what} {item.code!r} is declared twice", (key, i, "code"))
            first.setdefault(item.code, i)


def supervision_cycles(definition: Definition) -> Iterator[Problem]:
    """No unit supervises itself, directly or through a ring of supervisors (督办 would go
    round forever). Each unit has one supervisor, so following them visits each unit once."""
    supervisor: dict[str, str | None] = {}
    index: dict[str, int] = {}
    for i, unit in enumerate(definition.units):  # the first of a code (a second is refused)
        supervisor.setdefault(unit.code, unit.supervisor)
        index.setdefault(unit.code, i)
    done: set[str] = set()
    for unit in definition.units:
        path: list[str] = []
        code: str | None = unit.code
        while code is not None and code not in done and code not in path:
            path.append(code)
            code = supervisor.get(code)
        if code is not None and code in path:  # a new ring, entered at ``code``
            ring = path[path.index(code) :]
            where = ("units", index[code], "supervisor")
            if len(ring) == 1:
                yield Problem(f"unit {code!r} supervises itself", where)
            else:
                chain = " -> ".join([*ring, code])
                yield Problem(f"units supervise each other in a ring: {chain}", where)
        done.update(path)


def repeated_deadlines(definition: Definition) -> Iterator[Problem]:
    """A deadline kind declared twice in a state for the same tickets, or after a rule of its
    kind that takes every ticket: the later rule can never apply. Escalation levels of one
    ladder are distinct, since a rung is known by its level (migration keeps rungs by it)."""
    for s, state in enumerate(definition.states):
        general: set[str] = set()
        scopes: set[tuple[object, ...]] = set()
        for d, rule in enumerate(state.deadlines):
            path = ("states", s, "deadlines", d)
            scope = (rule.kind, rule.categories, rule.kinds, rule.urgency)
            if rule.kind in general or scope in scopes:
                yield Problem(
                    f"deadline {rule.kind!r} is declared twice in state {state.name!r}: "
                    "the later rule can never apply",
                    (*path, "kind"),
                )
            scopes.add(scope)
            if not (rule.categories or rule.kinds or rule.urgency):
                general.add(rule.kind)
            yield from _repeated_levels(rule, path)


def _repeated_levels(rule: DeadlineRule, path: tuple[str | int, ...]) -> Iterator[Problem]:
    seen: set[int] = set()
    for e, step in enumerate(rule.escalate):
        if step.level in seen:
            yield Problem(
                f"escalation level {step.level} appears twice in deadline {rule.kind!r}",
                (*path, "escalate", e, "level"),
            )
        seen.add(step.level)


def escalation_commands(definition: Definition) -> Iterator[Problem]:
    """An escalation's command fires a trigger the definition declares."""
    triggers = {t.trigger for t in definition.transitions}
    for s, state in enumerate(definition.states):
        for d, rule in enumerate(state.deadlines):
            for e, step in enumerate(rule.escalate):
                if step.command is not None and step.command.trigger not in triggers:
                    yield Problem(
                        f"unknown trigger {step.command.trigger!r} in the escalation command "
                        f"of deadline {rule.kind!r}",
                        ("states", s, "deadlines", d, "escalate", e, "command", "trigger"),
                    )
