"""Compile a definition into one ``transitions.Machine``, reused for every ticket.

No ticket is ever attached to the machine (attached models are never freed and bulk attachment
is quadratic). Each decision drives a throwaway cursor whose state is set from the snapshot, and
the machine only answers "which transition, if any, fires": callbacks collect, never write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel
from transitions import EventData, Machine

from hotline.engine import fields as command_fields
from hotline.engine.calendar import Calendar, round_the_clock
from hotline.engine.checks import sources
from hotline.engine.definition import Definition, TransitionSpec
from hotline.engine.guards import GUARDS, Context
from hotline.errors import GuardRejected, IllegalTransition

_KEPT = 4096  # validated command fields kept per definition version


class _Cursor:
    """The model the machine drives for one decision."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.chosen: TransitionSpec | None = None


def _guard(name: str) -> Callable[[EventData], bool]:
    guard = GUARDS[name]
    return lambda event: guard(event.kwargs["ctx"])


def _choose(spec: TransitionSpec) -> Callable[[EventData], None]:
    def record(event: EventData) -> None:
        event.model.chosen = spec

    return record


def _field_models(
    candidates: Mapping[tuple[str, str], list[TransitionSpec]],
) -> dict[tuple[str, str], type[BaseModel]]:
    """The command-field model of each (state, trigger).

    One model per distinct declaration, not per (state, trigger): building a pydantic model
    costs about a millisecond, and most transitions share theirs.
    """
    models: dict[tuple[Any, ...], type[BaseModel]] = {}
    found: dict[tuple[str, str], type[BaseModel]] = {}
    for key, specs in candidates.items():
        declared = tuple(specs[0].fields.items())
        if declared not in models:
            models[declared] = command_fields.compile_fields(key[1], specs[0].fields)
        found[key] = models[declared]
    return found


class CompiledDefinition:
    """A validated definition with its machine and its command-field models."""

    def __init__(
        self, definition: Definition, version: int = 1, calendar: Calendar | None = None
    ) -> None:
        self.definition = definition
        self.version = version
        self.calendar = calendar or round_the_clock()
        self._machine = Machine(
            model=None,
            states=definition.state_names,
            initial=definition.initial,
            transitions=[self._config(t) for t in definition.transitions],
            auto_transitions=False,
            send_event=True,
        )
        self._candidates: dict[tuple[str, str], list[TransitionSpec]] = {}
        for t in definition.transitions:
            for source in sources(definition, t):
                self._candidates.setdefault((source, t.trigger), []).append(t)
        self._fields = _field_models(self._candidates)
        self._references = {
            key: tuple(name for name, f in specs[0].fields.items() if f.type == "ticket")
            for key, specs in self._candidates.items()
        }
        # Triggers whose fields may all be left out: an empty command validates to nothing.
        self._optional = {
            key
            for key, model in self._fields.items()
            if not any(f.is_required() for f in model.model_fields.values())
        }
        # The guards a (state, trigger) may consult, and the machine's answer for each set of
        # their outcomes: guards are pure, so the answer is the same whenever they agree, and
        # driving the machine cost as much as the rest of a command's decision.
        self._guards = {
            key: tuple(dict.fromkeys(g for t in specs for g in (*t.conditions, *t.unless)))
            for key, specs in self._candidates.items()
        }
        self._answers: dict[tuple[str, str, tuple[bool, ...]], TransitionSpec | None] = {}
        self._validated: dict[tuple[Any, ...], tuple[dict[str, Any], bool]] = {}

    @staticmethod
    def _config(t: TransitionSpec) -> dict[str, Any]:
        return {
            "trigger": t.trigger,
            "source": list(t.source) if len(t.source) > 1 else t.source[0],
            "dest": t.dest,
            "conditions": [_guard(name) for name in t.conditions],
            "unless": [_guard(name) for name in t.unless],
            "after": _choose(t),
        }

    def allowed(self, state: str) -> list[str]:
        """Triggers that may fire from ``state``, in definition order."""
        return list(
            dict.fromkeys(trigger for (source, trigger) in self._candidates if source == state)
        )

    def reference_fields(self, state: str, trigger: str) -> tuple[str, ...]:
        """The fields of ``trigger`` from ``state`` that name another ticket (type ``ticket``)."""
        return self._references.get((state, trigger), ())

    def validate_fields(self, state: str, trigger: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The command's fields, validated against what ``trigger`` declares from ``state``."""
        self._require(state, trigger)
        if not raw and (state, trigger) in self._optional:
            return {}
        model = self._fields[(state, trigger)]
        try:  # the same fields validate the same way: kept, as many commands repeat theirs
            key = (model, tuple(raw.items()), tuple(map(type, raw.values())))  # True is not 1
            found = self._validated.get(key)
        except TypeError:  # a list among the values: validated each time
            return command_fields.validate(trigger, model, raw)
        if found is None:
            validated = command_fields.validate(trigger, model, raw)
            found = validated, any(isinstance(v, list) for v in validated.values())
            if len(self._validated) >= _KEPT:  # free texts make most keys unique: bounded
                self._validated.clear()
            self._validated[key] = found
        # A copy per command, lists too ("a,b" validates to one): no two tickets share a value.
        validated, lists = found
        if not lists:
            return dict(validated)
        return {k: list(v) if isinstance(v, list) else v for k, v in validated.items()}

    def choose(self, state: str, trigger: str, ctx: Context) -> TransitionSpec:
        """The transition that fires, or raise IllegalTransition / GuardRejected."""
        self._require(state, trigger)
        outcomes = (state, trigger, tuple(GUARDS[g](ctx) for g in self._guards[(state, trigger)]))
        if outcomes not in self._answers:
            cursor = _Cursor(state)
            self._machine.events[trigger].trigger(cursor, ctx=ctx)
            self._answers[outcomes] = cursor.chosen
        chosen = self._answers[outcomes]
        if chosen is None:
            raise GuardRejected(trigger, state, self._failed_guards(state, trigger, ctx))
        return chosen

    def _require(self, state: str, trigger: str) -> None:
        if (state, trigger) not in self._candidates:
            raise IllegalTransition(state, trigger, self.allowed(state))

    def _failed_guards(self, state: str, trigger: str, ctx: Context) -> list[str]:
        failed = []
        for t in self._candidates[(state, trigger)]:
            failed += [g for g in t.conditions if not GUARDS[g](ctx)]
            failed += [f"not {g}" for g in t.unless if GUARDS[g](ctx)]
        return list(dict.fromkeys(failed))
