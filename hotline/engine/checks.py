"""Static checks of a parsed definition: every problem at once, each with its path.

The ``transitions`` library accepts unknown state, trigger and condition names silently until
they fire, so everything it would trip over later is caught here, before a definition is used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator

from hotline.engine import actions, consistency, guards, meaning_checks, references, whistle
from hotline.engine.definition import ANY_STATE, Definition, TransitionSpec
from hotline.errors import Problem


def check(definition: Definition, handlers: Collection[str]) -> list[Problem]:
    """Return every problem of ``definition``; ``handlers`` are the handler names known.

    Every check is linear in the size of the definition (20,000 transitions take seconds).
    """
    return [
        *check_local(definition, handlers),
        *_unknown_states(definition),
        *_deadline_problems(definition),
        *_clock_problems(definition),
        *_reachability(definition),
        *_unit_problems(definition),
        *consistency.escalation_commands(definition),
    ]


def check_local(definition: Definition, handlers: Collection[str]) -> list[Problem]:
    """The checks that stay sound on part of a definition (the items the schema accepted):
    none of them reports a name as unknown or a state as unreachable."""
    return [
        *_duplicate_states(definition),
        *_unknown_names(definition, handlers),
        *_shadowed_transitions(definition),
        *_kpi_problems(definition),
        *_round_problems(definition),
        *_whistle_problems(definition, handlers),
        *consistency.duplicate_codes(definition),
        *consistency.supervision_cycles(definition),
        *consistency.repeated_deadlines(definition),
        *meaning_checks.check(definition),
    ]


def sources(definition: Definition, transition: TransitionSpec) -> list[str]:
    """The concrete source states of a transition (``*`` expanded)."""
    if ANY_STATE in transition.source:
        return definition.state_names
    return list(transition.source)


def allowed_triggers(definition: Definition) -> dict[str, set[str]]:
    """The triggers each state allows, in one pass over the transitions."""
    allowed: dict[str, set[str]] = defaultdict(set)
    for t in definition.transitions:
        for source in sources(definition, t):
            allowed[source].add(t.trigger)
    return allowed


def _duplicate_states(definition: Definition) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, state in enumerate(definition.states):
        if state.name in seen:
            yield Problem(f"state {state.name!r} is declared twice", ("states", i, "name"))
        seen.add(state.name)


def _unknown_states(definition: Definition) -> Iterator[Problem]:
    known = set(definition.state_names)
    for key in ("initial", "final"):
        if getattr(definition, key) not in known:
            yield Problem(f"{key} state {getattr(definition, key)!r} is not declared", (key,))
    for i, t in enumerate(definition.transitions):
        for j, source in enumerate(t.source):
            if source != ANY_STATE and source not in known:
                yield Problem(
                    f"unknown state {source!r} in source of {t.trigger!r}",
                    ("transitions", i, "source", j),
                )
        if t.dest is not None and t.dest not in known:
            yield Problem(
                f"unknown state {t.dest!r} in dest of {t.trigger!r}", ("transitions", i, "dest")
            )


def _unknown_names(definition: Definition, handlers: Collection[str]) -> Iterator[Problem]:
    lists = (
        ("conditions", guards.GUARDS, "guard"),
        ("unless", guards.GUARDS, "guard"),
        ("before", actions.ACTIONS, "action"),
        ("after", handlers, "handler"),
    )
    for i, t in enumerate(definition.transitions):
        for key, known, what in lists:
            for j, name in enumerate(getattr(t, key)):
                if name not in known:
                    yield Problem(
                        f"unknown {what} {name!r} in {t.trigger!r}; known: "
                        f"{', '.join(sorted(known))}",
                        ("transitions", i, key, j),
                    )
    for s, state in enumerate(definition.states):
        for d, rule in enumerate(state.deadlines):
            path = ("states", s, "deadlines", d)
            where = f"deadline {rule.kind!r} of state {state.name!r}"
            if rule.notify not in handlers:
                yield Problem(f"unknown handler {rule.notify!r} in {where}", (*path, "notify"))
            for e, step in enumerate(rule.escalate):
                if step.notify not in handlers:
                    yield Problem(
                        f"unknown handler {step.notify!r} in escalation of {where}",
                        (*path, "escalate", e, "notify"),
                    )


def _shadowed_transitions(definition: Definition) -> Iterator[Problem]:
    """Two transitions with one trigger from one source: the first must be guarded.

    ``transitions`` tries them in order, so an unguarded first one makes the others dead, and
    two with the same guards can never be told apart.
    """
    earlier: dict[tuple[str, str], list[TransitionSpec]] = defaultdict(list)
    for i, t in enumerate(definition.transitions):
        for source in sources(definition, t):
            for before in earlier[(t.trigger, source)]:
                unguarded = not (before.conditions or before.unless)
                same = (before.conditions, before.unless) == (t.conditions, t.unless)
                if unguarded or same:
                    yield Problem(
                        f"duplicate trigger {t.trigger!r} from state {source!r}: "
                        "an earlier transition already takes it",
                        ("transitions", i),
                    )
                elif before.fields != t.fields:
                    yield Problem(
                        f"transitions of {t.trigger!r} from {source!r} declare different fields",
                        ("transitions", i, "fields"),
                    )
            earlier[(t.trigger, source)].append(t)


def _round_problems(definition: Definition) -> Iterator[Problem]:
    declared = {name for t in definition.transitions for name in t.fields}
    for i, name in enumerate(definition.round_record):
        if name not in declared:
            yield Problem(
                f"round_record names {name!r}, a field no transition declares", ("round_record", i)
            )


def _deadline_problems(definition: Definition) -> Iterator[Problem]:
    triggers = {t.trigger for t in definition.transitions}
    kinds = {rule.kind for state in definition.states for rule in state.deadlines}
    categories = {c.code for c in definition.categories}
    allowed_from = allowed_triggers(definition)
    for s, state in enumerate(definition.states):
        allowed = allowed_from[state.name]
        for d, rule in enumerate(state.deadlines):
            path = ("states", s, "deadlines", d)
            for j, trigger in enumerate(rule.closed_by):
                if trigger not in triggers:
                    yield Problem(
                        f"unknown trigger {trigger!r} in closed_by of deadline {rule.kind!r}",
                        (*path, "closed_by", j),
                    )
            if rule.until is not None and rule.until not in kinds:
                yield Problem(
                    f"unknown deadline kind {rule.until!r} in until of deadline {rule.kind!r}",
                    (*path, "until"),
                )
            if rule.on_due is not None and rule.on_due not in allowed:
                yield Problem(
                    f"on_due trigger {rule.on_due!r} of deadline {rule.kind!r} is not "
                    f"allowed from state {state.name!r}",
                    (*path, "on_due"),
                )
            for j, code in enumerate(rule.categories):
                if code not in categories:
                    yield Problem(
                        f"unknown category {code!r} in deadline {rule.kind!r}",
                        (*path, "categories", j),
                    )
            for j, urgency in enumerate(rule.urgency):
                if urgency not in definition.urgencies:
                    yield Problem(
                        f"unknown urgency {urgency!r} in deadline {rule.kind!r}",
                        (*path, "urgency", j),
                    )


def _clock_problems(definition: Definition) -> Iterator[Problem]:
    """``extends`` names deadline kinds of its source states and needs a duration field ``by``."""
    for i, t in enumerate(definition.transitions):
        if not t.extends:
            continue
        by = t.fields.get("by")
        if by is None or by.type != "duration":
            yield Problem(
                f"{t.trigger!r} extends deadlines, so it needs a duration field 'by'",
                ("transitions", i, "extends"),
            )
        known = set(definition.state_names)
        kinds = {
            r.kind
            for s in sources(definition, t)
            if s in known
            for r in definition.state(s).deadlines
        }
        for j, kind in enumerate(t.extends):
            if kind not in kinds:
                yield Problem(
                    f"{t.trigger!r} extends deadline {kind!r}, which its source states do not have",
                    ("transitions", i, "extends", j),
                )


def _edges(definition: Definition) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for t in definition.transitions:
        for source in sources(definition, t):
            edges[source].add(t.dest or source)
    return edges


def _reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _reversed(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    back: dict[str, set[str]] = defaultdict(set)
    for source, dests in edges.items():
        for dest in dests:
            back[dest].add(source)
    return back


def _reachability(definition: Definition) -> Iterator[Problem]:
    """One search forward from the initial state, one backward from the final state."""
    known = set(definition.state_names)
    if definition.initial not in known or definition.final not in known:
        return  # already reported; reachability would only repeat it
    edges = _edges(definition)
    from_initial = _reachable(definition.initial, edges)
    to_final = _reachable(definition.final, _reversed(edges))
    for i, state in enumerate(definition.states):
        if state.name not in from_initial:
            yield Problem(
                f"state {state.name!r} cannot be reached from {definition.initial!r}",
                ("states", i, "name"),
            )
        elif state.name not in to_final:
            yield Problem(
                f"{definition.final!r} cannot be reached from state {state.name!r}",
                ("states", i, "name"),
            )


def _kpi_problems(definition: Definition) -> Iterator[Problem]:
    w = definition.kpi.weights
    total = w.response + w.resolution + w.satisfaction
    if abs(total - 1) > 1e-9:
        yield Problem(f"kpi weights add up to {total:g}, not 1", ("kpi", "weights"))


def _unit_problems(definition: Definition) -> Iterator[Problem]:
    """Every unit a unit or a category names is declared (codes are unique: ``consistency``)."""
    known = {u.code for u in definition.units}
    for i, unit in enumerate(definition.units):
        for key in ("district", "supervisor"):
            named = getattr(unit, key)
            if named is not None and named not in known:
                yield Problem(
                    f"unknown unit {named!r} in {key} of unit {unit.code!r}", ("units", i, key)
                )
    for i, category in enumerate(definition.categories):
        if category.unit is not None and category.unit not in known:
            yield Problem(
                f"unknown unit {category.unit!r} in category {category.code!r}",
                ("categories", i, "unit"),
            )


def _whistle_problems(definition: Definition, handlers: Collection[str]) -> Iterator[Problem]:
    """The whistle's notify handler is known; escalation commands refer to known names."""
    if definition.whistle.notify not in handlers:
        yield Problem(
            f"unknown handler {definition.whistle.notify!r} in whistle settings",
            (whistle.KEY, "notify"),
        )
    for s, state in enumerate(definition.states):
        for d, rule in enumerate(state.deadlines):
            for e, step in enumerate(rule.escalate):
                if step.command is None:
                    continue
                for name in references.names_in(step.command.fields):
                    if name not in references.NAMES:
                        yield Problem(
                            f"unknown reference {{{name}}} in the command of deadline "
                            f"{rule.kind!r}; known: {', '.join(references.NAMES)}",
                            ("states", s, "deadlines", d, "escalate", e, "command", "fields"),
                        )
