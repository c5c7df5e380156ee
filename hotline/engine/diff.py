"""What changed between two versions of a definition, said in words.

``diff(old, new)`` walks the two parsed definitions structurally (their pydantic dumps), so a
section added to the definition later is compared without a change here. Lists of named things
(states, transitions, deadline rules, units, categories, ladder levels…) are matched by their
identity, not their position; descriptions are left out, as they change no behaviour. Each line
starts with ``+`` (added), ``-`` (removed) or ``~`` (changed), so an admin reviewing a publish
can scan it::

    ~ kpi.weights.resolution: 0.5 → 0.45
    + transition 'archive' from callback added
    ~ state 'dispatched' › deadline 'handling' (utility) › within: 24h → 12h
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hotline.engine.definition import Definition

IGNORED = frozenset({"description"})  # words for people; no behaviour
# How a list item is known across versions: the first rule whose key the item has. Transitions
# of one trigger and source differ by their guards, so those join the identity when needed.
IDENTITIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("code", ("code",), ()),
    ("name", ("name",), ()),
    ("trigger", ("trigger", "source"), ("conditions", "unless")),
    ("within", ("kind", "categories", "kinds", "urgency"), ()),
    ("level", ("level",), ()),
)
SINGULAR = {"escalate": "level", "categories": "category"}
Segment = tuple[str, str]  # ("key", name) or ("item", label)


def diff(old: Definition, new: Definition) -> list[str]:
    """Every difference from ``old`` to ``new``; empty when they describe the same workflow."""
    return list(_compare([], old.model_dump(mode="json"), new.model_dump(mode="json")))


def _compare(path: list[Segment], old: Any, new: Any) -> Iterator[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        yield from _mappings(path, old, new)
    elif _is_list(old) and _is_list(new) and _keyed(old, new):
        yield from _items(path, old, new)
    elif _is_list(old) and _is_list(new) and sorted(map(_show, old)) != sorted(map(_show, new)):
        yield from _members(path, old, new)
    elif old != new:
        yield f"~ {_where(path)}: {_show(old)} → {_show(new)}"


def _mappings(path: list[Segment], old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    for key in [*old, *(k for k in new if k not in old)]:
        if key in IGNORED:
            continue
        here = [*path, ("key", key)]
        if key not in new:
            yield f"- {_where(here)} removed"
        elif key not in old:
            yield f"+ {_where(here)} added: {_show(new[key])}"
        else:
            yield from _compare(here, old[key], new[key])


def _items(path: list[Segment], old: list[Any], new: list[Any]) -> Iterator[str]:
    """Items matched by identity: added, removed, then compared part by part."""
    section = path[-1][1] if path else ""
    before, after = _by_identity(old), _by_identity(new)
    for key, item in after.items():
        if key not in before:
            yield f"+ {_where([*path, ('item', _label(section, item, key))])} added"
    for key, item in before.items():
        if key not in after:
            yield f"- {_where([*path, ('item', _label(section, item, key))])} removed"
    for key, item in after.items():
        if key in before:
            yield from _compare([*path, ("item", _label(section, item, key))], before[key], item)


def _members(path: list[Segment], old: list[Any], new: list[Any]) -> Iterator[str]:
    """A list of plain values (sources, handlers, urgencies): what joined and what left."""
    was, now = [_show(v) for v in old], [_show(v) for v in new]
    added = [v for v in now if v not in was]
    removed = [v for v in was if v not in now]
    if not added and not removed:  # the same values in another order
        yield f"~ {_where(path)}: {_show(old)} → {_show(new)}"
        return
    words = [*(f"added {v}" for v in added), *(f"removed {v}" for v in removed)]
    yield f"~ {_where(path)}: {', '.join(words)}"


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _keyed(old: list[Any], new: list[Any]) -> bool:
    items = [*old, *new]
    return bool(items) and all(isinstance(i, Mapping) and _rule(i) for i in items)


def _rule(item: Mapping[str, Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    return next((rule for rule in IDENTITIES if rule[0] in item), None)


def _by_identity(items: list[Mapping[str, Any]]) -> dict[Any, Mapping[str, Any]]:
    """Items by identity; the extra keys (a transition's guards) join it where the short
    identity repeats, and a position where even that repeats."""
    short = [_identity(i, extended=False) for i in items]
    found: dict[Any, Mapping[str, Any]] = {}
    for item, key in zip(items, short, strict=True):
        if short.count(key) > 1:
            key = _identity(item, extended=True)
        while key in found:
            key = (*key, "#")
        found[key] = item
    return found


def _identity(item: Mapping[str, Any], extended: bool) -> tuple[Any, ...]:
    rule = _rule(item)
    assert rule is not None
    keys = (*rule[1], *rule[2]) if extended else rule[1]
    return tuple(_show(item.get(k)) for k in keys)


def _label(section: str, item: Mapping[str, Any], key: tuple[Any, ...]) -> str:
    """How an item is named in a line: ``transition 'reply' from dispatched`` (``when`` its
    guards, if other transitions of that trigger and source differ from it only by them)."""
    if "trigger" in item:
        guards = [*item.get("conditions", ()), *(f"not {g}" for g in item.get("unless", ()))]
        when = f" when {' and '.join(guards)}" if guards and len(key) > 2 else ""
        return f"transition {item['trigger']!r} from {', '.join(item['source'])}{when}"
    if "within" in item and "kind" in item:
        scope = [*item.get("categories", ()), *item.get("kinds", ())]
        scope += [f"urgency {u}" for u in item.get("urgency", ())]
        return f"deadline {item['kind']!r}" + (f" ({', '.join(scope)})" if scope else "")
    singular = SINGULAR.get(section, section.removesuffix("s"))
    for key in ("code", "name"):
        if key in item:
            return f"{singular} {item[key]!r}"
    return f"{singular} {item['level']}"


def _where(path: list[Segment]) -> str:
    """``kpi.weights.resolution``; ``state 'dispatched' › deadline 'handling' › within``.

    A list's own key is left out before its items (``state 'x'``, not ``states.state 'x'``).
    """
    words: list[str] = []
    for i, (kind, name) in enumerate(path):
        if kind == "key" and i + 1 < len(path) and path[i + 1][0] == "item":
            continue
        if words:
            joint = "." if kind == "key" and path[i - 1][0] == "key" else " › "
            words.append(joint)
        words.append(name)
    return "".join(words) or "definition"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return (
            "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if k not in IGNORED) + "}"
        )
    if _is_list(value):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)
