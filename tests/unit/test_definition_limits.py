"""The validator refuses what cannot work and never crashes or hangs on malformed text: each
refusal is a problem with its line, schema and semantic problems reported together."""

from __future__ import annotations

import malformed
import pytest
from test_definition_checks import MINI

from hotline.errors import DefinitionError, Problem
from hotline.workflows import loader


def problems_of(text: str | bytes) -> list[Problem]:
    with pytest.raises(DefinitionError) as refused:
        loader.parse(text, "draft.yaml")
    return refused.value.problems


def line_of(text: str, snippet: str) -> int:
    (line,) = [n for n, content in enumerate(text.splitlines(), 1) if snippet in content]
    return line


@pytest.mark.parametrize("case", sorted(malformed.CASES))
def test_malformed_text_is_one_clear_problem_not_a_crash(case: str) -> None:
    raw, expected = malformed.CASES[case]

    problems = problems_of(raw)

    assert any(expected in p.message for p in problems), problems


def test_a_key_repeated_in_one_mapping_names_both_lines() -> None:
    text = MINI.replace("initial: received\n", "initial: received\ninitial: received\n")

    problems = problems_of(text)

    assert [(p.line, p.message) for p in problems] == [
        (3, "key 'initial' appears twice, on lines 2 and 3")
    ]


UNITS = """\
units:
  - {code: street-a, name: A, kind: street, supervisor: district-b}
  - {code: district-b, name: B, kind: district, supervisor: city-c}
  - {code: city-c, name: C, kind: city, supervisor: street-a}
  - {code: lonely, name: L, kind: department, supervisor: lonely}
  - {code: lonely, name: L2, kind: department}
"""

# (what is changed in MINI, the snippet on the line the problem is on, the message)
REFUSED = [
    (
        ("name: mini\n", "name: mini\n" + UNITS),
        "code: street-a",
        "units supervise each other in a ring: street-a -> district-b -> city-c -> street-a",
    ),
    (
        ("name: mini\n", "name: mini\n" + UNITS),
        "supervisor: lonely",
        "unit 'lonely' supervises itself",
    ),
    (("name: mini\n", "name: mini\n" + UNITS), "name: L2", "unit 'lonely' is declared twice"),
    (
        (
            "  - {code: noise, name: 噪音扰民}\n",
            "  - {code: noise, name: 噪音扰民}\n  - {code: noise, name: again}\n",
        ),
        "name: again",
        "category 'noise' is declared twice",
    ),
    (
        (
            "      - {kind: handling, within: 7d, categories: [noise]}\n",
            "      - {kind: handling, within: 7d, categories: [noise]}\n"
            "      - {kind: handling, within: 9d, categories: [noise]}\n",
        ),
        "within: 9d",
        "deadline 'handling' is declared twice in state 'dispatched'",
    ),
    (
        (
            "{kind: response, within: 12h, closed_by: [respond]}",
            "{kind: response, within: 12h, closed_by: [respond],\n"
            "         escalate: [{level: 1, command: {trigger: whistel}}]}",
        ),
        "trigger: whistel",
        "unknown trigger 'whistel' in the escalation command of deadline 'response'",
    ),
    (
        (
            "{kind: response, within: 12h, closed_by: [respond]}",
            "{kind: response, within: 12h, closed_by: [respond],\n"
            "         escalate: [{level: 1}, {level: 1, after: 2h}]}",
        ),
        "after: 2h",
        "escalation level 1 appears twice in deadline 'response'",
    ),
    (("within: 7d", "within: 367d"), "within: 367d", "duration 367d is longer than a year"),
    (("within: 12h", "within: 9000h"), "within: 9000h", "longer than a year"),
    (("within: 12h", "within: 99999999999999999999999d"), "within: 9999", "longer than a year"),
    (
        ("final: closed\n", "final: closed\nround_limit: 11\n"),
        "round_limit",
        "less than or equal to 10",
    ),
]


@pytest.mark.parametrize(("change", "snippet", "message"), REFUSED)
def test_what_cannot_work_is_refused_with_its_line(change, snippet, message) -> None:
    text = MINI.replace(*change)
    assert text != MINI

    problems = problems_of(text)

    found = [(p.line, p.message) for p in problems]
    assert any(line == line_of(text, snippet) and message in m for line, m in found), found


def test_schema_and_semantic_problems_are_reported_together() -> None:
    text = MINI.replace("dest: dispatched", "dest: dispatched\n    colour: red").replace(
        "before: record_response", "before: record_reponse"
    )

    problems = problems_of(text)

    found = [(p.line, p.message) for p in problems]
    assert (line_of(text, "colour: red"), "transitions.0.colour: unknown key 'colour'") in found
    assert any(
        line == line_of(text, "record_reponse") and "unknown action 'record_reponse'" in m
        for line, m in found
    ), found
