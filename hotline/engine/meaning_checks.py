"""Static checks of what a definition says its transitions mean (``performer``, ``counts``, the
kpi section's fields): every name they use exists, with the type the assessment reads.

A kpi section naming a field or a deadline kind the transitions do not have would make every
rate silently zero (or a hundred): refused here, each problem with its path.
"""

from __future__ import annotations

from collections.abc import Iterator

from hotline.engine import meanings
from hotline.engine.definition import Counts, Definition, TransitionSpec
from hotline.errors import Problem


def check(definition: Definition) -> list[Problem]:
    """Every problem with the meanings ``definition`` declares."""
    return [
        *_performers_agree(definition),
        *_response_deadline(definition),
        *_answers(definition),
        *_route(definition),
        *_public_notes(definition),
    ]


def _performers_agree(definition: Definition) -> Iterator[Problem]:
    """Roles are checked by trigger, so every transition of one trigger names the same ones."""
    first: dict[str, TransitionSpec] = {}
    for i, t in enumerate(definition.transitions):
        earlier = first.setdefault(t.trigger, t)
        if set(earlier.performer) != set(t.performer):
            yield Problem(
                f"transitions of {t.trigger!r} name different performers "
                f"({', '.join(earlier.performer)} and {', '.join(t.performer)})",
                ("transitions", i, "performer"),
            )


def _response_deadline(definition: Definition) -> Iterator[Problem]:
    kind = definition.kpi.response_deadline
    if kind is None:
        return
    path = ("kpi", "response_deadline")
    rules = [r for s in definition.states for r in s.deadlines if r.kind == kind]
    if not rules:
        known = sorted({r.kind for s in definition.states for r in s.deadlines})
        yield Problem(f"unknown deadline kind {kind!r}; known: {', '.join(known)}", path)
        return
    responses = set(meanings.counting(definition, Counts.RESPONSE))
    if not responses:
        yield Problem(f"no transition counts as response, so {kind!r} is never met", path)
    elif not any(responses & set(r.closed_by) for r in rules):
        yield Problem(
            f"deadline {kind!r} is closed by none of the response triggers "
            f"({', '.join(sorted(responses))})",
            path,
        )


def _answers(definition: Definition) -> Iterator[Problem]:
    answers = definition.kpi.answers
    callbacks = [
        (i, t) for i, t in enumerate(definition.transitions) if Counts.CALLBACK in t.counts
    ]
    if answers is None:
        if callbacks:
            i, t = callbacks[0]
            yield Problem(
                f"{t.trigger!r} counts as callback_answers, but kpi.answers does not say where its "
                "answers are",
                ("transitions", i, "counts"),
            )
        return
    if not callbacks:
        yield Problem(
            "kpi.answers is given, but no transition counts as callback_answers", ("kpi",)
        )
    for i, t in callbacks:
        yield from _answer_fields(t, i, answers.resolved, answers.satisfaction)
        spec = t.fields.get(answers.satisfaction)
        if spec is None or spec.type != "enum":
            continue
        for value in answers.levels:
            if value not in spec.values:
                yield Problem(
                    f"kpi.answers level {value!r} is not a value of {t.trigger!r}'s field "
                    f"{answers.satisfaction!r} ({', '.join(spec.values)})",
                    ("kpi", "answers", "levels", value),
                )
        for value in spec.values:
            if value not in answers.levels:
                yield Problem(
                    f"value {value!r} of {t.trigger!r}'s field {answers.satisfaction!r} has "
                    "no level in kpi.answers.levels",
                    ("kpi", "answers", "levels"),
                )


def _answer_fields(
    t: TransitionSpec, i: int, resolved: str, satisfaction: str
) -> Iterator[Problem]:
    for key, name, wanted in (
        ("resolved", resolved, "bool"),
        ("satisfaction", satisfaction, "enum"),
    ):
        spec = t.fields.get(name)
        if spec is None or spec.type != wanted:
            yield Problem(
                f"kpi.answers.{key} names field {name!r}, but {t.trigger!r} (a callback) has "
                f"no {wanted} field of that name",
                ("kpi", "answers", key),
            )


def _route(definition: Definition) -> Iterator[Problem]:
    route = definition.kpi.via_district
    if route is None:
        return
    dispatches = [t for t in definition.transitions if Counts.DISPATCH in t.counts]
    if not dispatches:
        yield Problem(
            "kpi.via_district is given, but no transition counts as dispatch",
            ("kpi", "via_district"),
        )
    for t in dispatches:
        spec = t.fields.get(route.field)
        if spec is None:
            yield Problem(
                f"kpi.via_district names field {route.field!r}, which {t.trigger!r} does not have",
                ("kpi", "via_district", "field"),
            )
        elif spec.type == "enum" and route.value not in spec.values:
            yield Problem(
                f"kpi.via_district value {route.value!r} is not a value of {t.trigger!r}'s "
                f"field {route.field!r} ({', '.join(spec.values)})",
                ("kpi", "via_district", "value"),
            )


def _public_notes(definition: Definition) -> Iterator[Problem]:
    declared = {name for t in definition.transitions for name in t.fields}
    for i, name in enumerate(definition.public_notes):
        if name not in declared:
            yield Problem(
                f"public note field {name!r} is a field of no transition", ("public_notes", i)
            )
