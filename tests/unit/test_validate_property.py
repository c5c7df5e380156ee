"""Property: for any definition, valid or not, validate either accepts it, and then a ticket
runs to the final state through the pure engine, or refuses it with problems that each have a
message and a line; it never raises anything else.

Definitions are the shipped ones mutated at random: states and triggers dropped or renamed
(everywhere, or in one place only), durations garbled, unknown handlers, supervision cycles,
duplicated codes, keys dropped, and garbage scalars anywhere. Bounded examples by default;
``HOTLINE_FUZZ_EXAMPLES=5000`` runs more.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hotline.engine.decide import decide, decide_submit
from hotline.engine.definition import Definition
from hotline.engine.machine import CompiledDefinition
from hotline.engine.ticket import Command, Ticket
from hotline.errors import DefinitionError, HotlineError
from hotline.workflows import loader

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "60"))
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # frozen: a Monday, 09:00 in Beijing
SHIPPED = {name: yaml.safe_load(loader.shipped_text(name)) for name in loader.shipped_names()}
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["24 hours", "-1h", "0m", "99999999999999d", "[x]", "*", "", "1y"]),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path in the data to a value (mapping keys and list indexes)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _rename_everywhere(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: _rename_everywhere(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_everywhere(v, old, new) for v in node]
    return new if node == old else node


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A shipped definition with one to three random mutations, as YAML text."""
    data = copy.deepcopy(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))])
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _names(data: dict, section: str, key: str) -> list[str]:
    return [i[key] for i in data.get(section) or [] if isinstance(i, dict) and key in i]


def drop_item(draw: st.DrawFn, data: dict) -> dict:
    section = draw(st.sampled_from(["states", "transitions", "units", "categories"]))
    items = data.get(section)
    if isinstance(items, list) and items:
        del items[draw(st.integers(0, len(items) - 1))]
    return data


def duplicate_item(draw: st.DrawFn, data: dict) -> dict:
    section = draw(st.sampled_from(["states", "transitions", "units", "categories"]))
    items = data.get(section)
    if isinstance(items, list) and items:
        items.append(copy.deepcopy(draw(st.sampled_from(items))))
    return data


def rename(draw: st.DrawFn, data: dict) -> dict:
    """A state or trigger renamed everywhere (still valid) or in one place (often not)."""
    names = _names(data, "states", "name") + _names(data, "transitions", "trigger")
    if not names:
        return data
    old = draw(st.sampled_from(names))
    new = draw(st.sampled_from([f"{old}-2", f"[{old}]", "x y", old.upper()]))
    if draw(st.booleans()):
        return _rename_everywhere(data, old, new)
    places = [p for p in _paths(data) if _parent(data, p)[p[-1]] == old]
    path = draw(st.sampled_from(places))
    _parent(data, path)[path[-1]] = new
    return data


def garble(draw: st.DrawFn, data: dict) -> dict:
    """A garbage scalar, list or mapping anywhere, or a key dropped."""
    path = draw(st.sampled_from(_paths(data)))
    parent = _parent(data, path)
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(GARBAGE)
    return data


def bad_duration(draw: st.DrawFn, data: dict) -> dict:
    places = [p for p in _paths(data) if p[-1] in ("within", "after")]
    if places:
        path = draw(st.sampled_from(places))
        _parent(data, path)[path[-1]] = draw(st.sampled_from(["24 hours", "0m", "400d", "2h"]))
    return data


def unknown_handler(draw: st.DrawFn, data: dict) -> dict:
    transitions = [t for t in data.get("transitions") or [] if isinstance(t, dict)]
    if transitions:
        draw(st.sampled_from(transitions))["after"] = ["notify_nobody"]
    return data


def supervision_cycle(draw: st.DrawFn, data: dict) -> dict:
    units = [u for u in data.get("units") or [] if isinstance(u, dict)]
    if units:
        first, second = draw(st.sampled_from(units)), draw(st.sampled_from(units))
        first["supervisor"], second["supervisor"] = second.get("code"), first.get("code")
    return data


def new_transition(draw: st.DrawFn, data: dict) -> dict:
    states = _names(data, "states", "name") or ["nowhere"]
    data.setdefault("transitions", []).append(
        {
            "trigger": draw(st.sampled_from(["poke", "reply", "dispatch"])),
            "source": draw(st.sampled_from(states)),
            "dest": draw(st.sampled_from(states)),
        }
    )
    return data


MUTATIONS = [
    drop_item,
    duplicate_item,
    rename,
    garble,
    bad_duration,
    unknown_handler,
    supervision_cycle,
    new_transition,
]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_validate_accepts_a_runnable_definition_or_refuses_with_lines(text: str) -> None:
    try:
        compiled = loader.compile_source(text, 1, "fuzzed")
    except DefinitionError as refused:
        event("refused")
        assert refused.problems
        for problem in refused.problems:
            assert problem.message and problem.line, problem
        return
    event("accepted")
    assert run_to_final(compiled) == compiled.definition.final


def test_the_shipped_definitions_run_to_their_final_state() -> None:
    for name in SHIPPED:
        compiled = loader.compile_source(loader.shipped_text(name), 1, name)
        assert run_to_final(compiled) == compiled.definition.final


def run_to_final(compiled: CompiledDefinition, limit: int = 200) -> str:
    """Drive a new ticket through the pure engine towards the final state, one command at a
    time with a frozen clock: at each step the first command the engine accepts whose
    destination is nearest the final state (guards decide which answers work)."""
    definition = compiled.definition
    category = definition.categories[0].code if definition.categories else "any"
    ticket = Ticket(1, definition.name, 1, definition.initial, category, created_at=NOW)
    ticket = ticket.evolve(urgency=definition.urgencies[0]) if definition.urgencies else ticket
    ticket = decide_submit(compiled, ticket, "fuzz", NOW).after
    distance = _distances(definition)
    now = NOW
    for _ in range(limit):
        if ticket.state == definition.final:
            break
        now += timedelta(minutes=5)
        ticket = _step(compiled, ticket, distance, now)
    return ticket.state


def _step(
    compiled: CompiledDefinition, ticket: Ticket, distance: dict[str, int], now: datetime
) -> Ticket:
    tried = []
    for trigger in compiled.allowed(ticket.state):
        for fields in _field_choices(compiled, ticket.state, trigger):
            try:
                decision = decide(compiled, ticket, Command(trigger, fields, "fuzz"), now)
            except HotlineError:
                continue
            tried.append(decision.after)
    assert tried, f"no command applies in state {ticket.state!r}"
    return min(tried, key=lambda t: distance.get(t.state, len(distance) + 1))


def _field_choices(compiled: CompiledDefinition, state: str, trigger: str) -> list[dict]:
    """Values for the required fields of ``trigger``: each answer of a bool or enum field."""
    definition = compiled.definition
    spec = next(
        t.fields
        for t in definition.transitions
        if t.trigger == trigger and (state in t.source or "*" in t.source)
    )
    unit = definition.units[0].code if definition.units else "unit"
    options: dict[str, list[Any]] = {}
    for name, field in spec.items():
        if not field.required:
            continue
        options[name] = {
            "bool": [True, False],
            "enum": list(field.values),
            "int": [1],
            "float": [1.0],
            "datetime": [NOW.isoformat()],
            "duration": ["1h"],
            "list": [[unit]],
        }.get(field.type, [unit])
    names = list(options)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*options.values())]


def _distances(definition: Definition) -> dict[str, int]:
    """Transitions to the final state from each state (breadth first, backwards)."""
    back: dict[str, set[str]] = defaultdict(set)
    for t in definition.transitions:
        sources = definition.state_names if "*" in t.source else t.source
        for source in sources:
            back[t.dest or source].add(source)
    distance, frontier = {definition.final: 0}, [definition.final]
    while frontier:
        state = frontier.pop(0)
        for source in back[state]:
            if source not in distance:
                distance[source] = distance[state] + 1
                frontier.append(source)
    return distance
