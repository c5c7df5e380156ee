"""What changed between two versions of a definition, said in words.

``diff(old, new)`` lists states, transitions (with their guards) and deadline rules that were
added, removed or changed, then the top-level settings. Each line starts with ``+`` (added),
``-`` (removed) or ``~`` (changed), so an admin reviewing a publish can scan it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hotline.engine.definition import DeadlineRule, Definition, TransitionSpec

_SETTINGS = (
    "title",
    "calendar",
    "initial",
    "final",
    "round_limit",
    "round_record",
    "urgencies",
    "channels",
)
_TRANSITION_PARTS = ("dest", "before", "after", "clock", "extends")
_RULE_PARTS = ("within", "measure", "closed_by", "remind_at", "on_due", "notify", "escalate")


def diff(old: Definition, new: Definition) -> list[str]:
    """Every difference from ``old`` to ``new``; empty when they describe the same workflow."""
    return [
        *_states(old, new),
        *_transitions(old.transitions, new.transitions),
        *_deadlines(old, new),
        *_settings(old, new),
    ]


def _states(old: Definition, new: Definition) -> Iterator[str]:
    before, after = old.state_names, new.state_names
    yield from (f"+ state {name!r} added" for name in after if name not in before)
    yield from (f"- state {name!r} removed" for name in before if name not in after)


def _label(t: TransitionSpec) -> str:
    dest = t.dest or "(stays)"
    guards = _guards(t)
    when = f" when {' and '.join(guards)}" if guards else ""
    return f"transition {t.trigger!r} from {', '.join(t.source)} to {dest}{when}"


def _guards(t: TransitionSpec) -> list[str]:
    return [*t.conditions, *(f"not {g}" for g in t.unless)]


def _transitions(old: Iterable[TransitionSpec], new: Iterable[TransitionSpec]) -> Iterator[str]:
    """Transitions are matched on (trigger, sources, guards); a change of guards is then
    paired with the one transition of the same trigger and sources it replaced."""
    key = lambda t: (t.trigger, t.source, tuple(_guards(t)))  # noqa: E731
    before, after = {key(t): t for t in old}, {key(t): t for t in new}
    removed = [t for k, t in before.items() if k not in after]
    added = [t for k, t in after.items() if k not in before]
    for t in list(removed):
        twin = next((a for a in added if (a.trigger, a.source) == (t.trigger, t.source)), None)
        if twin is not None and twin.dest == t.dest:
            removed.remove(t)
            added.remove(twin)
            yield from _guard_change(t, twin)
            yield from _parts(_label(twin), t, twin, _TRANSITION_PARTS)
    yield from (f"+ {_label(t)} added" for t in added)
    yield from (f"- {_label(t)} removed" for t in removed)
    for k, t in after.items():
        if k in before:
            yield from _parts(_label(t), before[k], t, (*_TRANSITION_PARTS, "fields"))


def _guard_change(old: TransitionSpec, new: TransitionSpec) -> Iterator[str]:
    name = f"transition {new.trigger!r} from {', '.join(new.source)}"
    yield from (f"~ {name}: guard {g!r} added" for g in _guards(new) if g not in _guards(old))
    yield from (f"~ {name}: guard {g!r} removed" for g in _guards(old) if g not in _guards(new))


def _deadlines(old: Definition, new: Definition) -> Iterator[str]:
    for state in new.state_names:
        if state not in old.state_names:
            continue
        before = {_rule_key(r): r for r in old.state(state).deadlines}
        after = {_rule_key(r): r for r in new.state(state).deadlines}
        for k, rule in after.items():
            name = f"deadline {_rule_label(rule)} in {state!r}"
            if k not in before:
                yield f"+ {name} added (within {rule.within})"
            else:
                yield from _parts(name, before[k], rule, _RULE_PARTS)
        for k, rule in before.items():
            if k not in after:
                yield f"- deadline {_rule_label(rule)} in {state!r} removed"


def _rule_key(rule: DeadlineRule) -> tuple[Any, ...]:
    return (rule.kind, rule.categories, rule.kinds, rule.urgency)


def _rule_label(rule: DeadlineRule) -> str:
    scope = [*rule.categories, *rule.kinds, *(f"urgency {u}" for u in rule.urgency)]
    return repr(rule.kind) + (f" ({', '.join(scope)})" if scope else "")


def _settings(old: Definition, new: Definition) -> Iterator[str]:
    yield from _parts("setting", old, new, _SETTINGS)
    for attr, singular in (("categories", "category"), ("units", "unit")):
        before = {c.code: c for c in getattr(old, attr)}
        after = {c.code: c for c in getattr(new, attr)}
        yield from (f"+ {singular} {code!r} added" for code in after if code not in before)
        yield from (f"- {singular} {code!r} removed" for code in before if code not in after)
        for code in after:
            if code in before and after[code] != before[code]:
                yield f"~ {singular} {code!r} changed"


def _parts(name: str, old: Any, new: Any, parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        was, now = getattr(old, part), getattr(new, part)
        if was != now:
            yield f"~ {name}: {part} {_show(was)} -> {_show(now)}"


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}"
    if hasattr(value, "model_dump"):
        return ", ".join(f"{k}={v}" for k, v in value.model_dump(mode="json").items())
    return "none" if value is None else str(value)
