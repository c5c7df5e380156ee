"""What a definition says its transitions mean is checked like the rest: each wrong name in the
kpi section or the performers is refused with its line, before anything is stored."""

from __future__ import annotations

import pytest

from hotline.errors import DefinitionError
from hotline.workflows import loader

SHIPPED = loader.shipped_text("beijing-12345")
ANSWERS = """  answers:
    resolved: resolved
    satisfaction: satisfaction
    levels: {satisfied: satisfied, basic: basic, unsatisfied: unsatisfied}
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# (what is changed, into what, a substring of the problem, the line it must point at)
CASES = [
    (
        "response_deadline: response",
        "response_deadline: respons",
        "unknown deadline kind 'respons'",
        "response_deadline: respons",
    ),
    (
        "    resolved: resolved\n",
        "    resolved: solved\n",
        "kpi.answers.resolved names field 'solved', but 'record_callback'",
        "resolved: solved",
    ),
    (
        "levels: {satisfied: satisfied, basic: basic, unsatisfied: unsatisfied}",
        "levels: {satisfied: satisfied, unsatisfied: unsatisfied}",
        "value 'basic' of 'record_callback''s field 'satisfaction' has no level",
        "levels: {satisfied",
    ),
    (
        "levels: {satisfied: satisfied, basic: basic, unsatisfied: unsatisfied}",
        "levels: {satisfied: satisfied, basic: basic, unsatisfied: unsatisfied, meh: basic}",
        "kpi.answers level 'meh' is not a value",
        "levels: {satisfied",
    ),
    (
        "via_district: {field: route, value: via_district}",
        "via_district: {field: path, value: via_district}",
        "kpi.via_district names field 'path', which 'dispatch' does not have",
        "via_district: {field: path",
    ),
    (
        "via_district: {field: route, value: via_district}",
        "via_district: {field: route, value: by_district}",
        "kpi.via_district value 'by_district' is not a value of 'dispatch''s field 'route'",
        "via_district: {field: route",
    ),
    (
        "public_notes: [opinion, answer, reason]",
        "public_notes: [opinion, answr, reason]",
        "public note field 'answr' is a field of no transition",
        "public_notes:",
    ),
    (
        "    performer: operator\n    counts: [callback_answers, redispatch]",
        "    performer: supervisor\n    counts: [callback_answers, redispatch]",
        "transitions of 'record_callback' name different performers (operator and supervisor)",
        "performer: supervisor",
    ),
    (
        ANSWERS,
        "",
        "'record_callback' counts as callback_answers, but kpi.answers does not say where",
        "counts: callback_answers",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected", "at"), CASES, ids=[c[2][:40] for c in CASES])
def test_a_wrong_meaning_is_refused_on_its_line(old: str, new: str, expected: str, at: str) -> None:
    assert old in SHIPPED
    text = SHIPPED.replace(old, new, 1)

    with pytest.raises(DefinitionError) as raised:
        loader.parse(text, "changed")

    found = [(p.line, p.message) for p in raised.value.problems]
    assert any(expected in message for _, message in found), found
    line = next(line for line, message in found if expected in message)
    assert line == line_of(text, at)


def test_a_kpi_deadline_no_response_meets_is_refused() -> None:
    text = SHIPPED.replace("response_deadline: response", "response_deadline: handling", 1)

    with pytest.raises(DefinitionError) as raised:
        loader.parse(text, "changed")

    assert "deadline 'handling' is closed by none of the response triggers (respond)" in str(
        raised.value.problems
    )
