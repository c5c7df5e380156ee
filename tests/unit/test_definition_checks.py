"""A definition is checked at the border: every problem at once, each with the line it is on.

Each file in ``bad_definitions/`` is the small MINI definition below with exactly one mistake,
described in its first line; the table says which problem it must produce, and on which line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.errors import DefinitionError, Problem
from hotline.workflows import loader

BAD = Path(__file__).parent / "bad_definitions"

MINI = """\
name: mini
initial: received
final: closed
categories:
  - {code: noise, name: 噪音扰民}
states:
  - name: received
  - name: dispatched
    deadlines:
      - {kind: response, within: 12h, closed_by: [respond]}
      - {kind: handling, within: 7d, categories: [noise]}
  - name: closed
transitions:
  - trigger: dispatch
    source: received
    dest: dispatched
    after: [notify_unit]
  - trigger: respond
    source: dispatched
    conditions: not_responded
    before: record_response
  - trigger: reply
    source: dispatched
    dest: closed
    fields:
      opinion: {type: text, required: true}
"""

# (file, a substring of the problem's message, the line the problem points at)
EXPECTED = [
    ("yaml_syntax", "not valid YAML: mapping values are not allowed here", 17),
    # The line of the "[" left open, not line 19 where the parser gave up.
    ("yaml_unclosed_bracket", "not valid YAML: while parsing a flow sequence; expected ','", 18),
    ("unknown_dest", "unknown state 'dispatchd' in dest of 'dispatch'", 17),
    ("unknown_source", "unknown state 'dispached' in source of 'reply'", 24),
    ("unreachable_state", "state 'archived' cannot be reached from 'received'", 13),
    ("dead_end_state", "'closed' cannot be reached from state 'parked'", 13),
    ("unknown_guard_in_conditions", "unknown guard 'not_respondd' in 'respond'", 21),
    ("unknown_guard_in_unless", "unknown guard 'is_excluded' in 'respond'", 22),
    ("unknown_action_in_before", "unknown action 'record_reponse' in 'respond'", 22),
    ("unknown_handler_in_after", "unknown handler 'notify_unti' in 'dispatch'", 18),
    ("duplicate_trigger", "duplicate trigger 'reply' from state 'dispatched'", 28),
    ("malformed_duration", "malformed duration '24 hours'", 12),
    ("unknown_key", "transitions.2.dset: unknown key 'dset'", 25),
    ("enum_without_values", "route: an enum field needs its list of values", 28),
    ("kpi_weights_not_one", "kpi weights add up to 1.1, not 1", 6),
    ("unknown_trigger_in_closed_by", "unknown trigger 'respnd' in closed_by", 11),
    ("unknown_category_in_deadline", "unknown category 'nosie' in deadline 'handling'", 12),
    ("unknown_urgency_in_deadline", "unknown urgency 'urgnet' in deadline 'response'", 11),
    ("unknown_handler_in_escalation", "unknown handler 'notify_mayor' in escalation", 12),
    ("duplicate_state", "state 'received' is declared twice", 14),
    ("unknown_final_state", "final state 'done' is not declared", 4),
    ("zero_duration", "a deadline window must be longer than zero", 11),
    ("unknown_field_type", "opinion.type: Input should be 'str'", 27),
    ("unknown_calendar", "unknown calendar 'atlantis'; known: calendar-hours, beijing", 3),
    (
        "on_due_not_allowed",
        "on_due trigger 'dispatch' of deadline 'handling' is not allowed from state 'dispatched'",
        12,
    ),
    ("extends_without_by", "'extend' extends deadlines, so it needs a duration field 'by'", 30),
    (
        "extends_unknown_kind",
        "'extend' extends deadline 'handlng', which its source states do not have",
        30,
    ),
    ("unknown_handler_in_deadline", "unknown handler 'notify_mayor'", 12),
    ("unknown_unit_supervisor", "unknown unit 'chaoyng' in supervisor of unit 'street-a'", 8),
    ("unknown_unit_in_category", "unknown unit 'street-b' in category 'noise'", 6),
    ("unknown_handler_in_whistle", "unknown handler 'notify_mayor' in whistle settings", 5),
    ("unknown_reference_in_command", "unknown reference {category.owner} in the command", 13),
]

# Files whose problem the loader does not report yet: (name, why).
KNOWN_BUGS: dict[str, str] = {}  # case name -> reason, for a strict xfail while a bug is open


def _cases() -> list:
    return [
        pytest.param(
            *case,
            id=case[0],
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case[0]])]
            if case[0] in KNOWN_BUGS
            else [],
        )
        for case in EXPECTED
    ]


def problems_of(text: str, source: str = "<test>") -> list[Problem]:
    with pytest.raises(DefinitionError) as raised:
        loader.parse(text, source)
    assert raised.value.source == source
    return raised.value.problems


def located(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems]


def test_the_mistake_free_mini_definition_parses() -> None:
    definition = loader.parse(MINI, "mini")

    assert definition.state_names == ["received", "dispatched", "closed"]


@pytest.mark.parametrize("name", loader.shipped_names())
def test_the_shipped_definitions_parse_cleanly(name: str) -> None:
    definition = loader.parse(loader.shipped_text(name), name)

    assert definition.name == name


@pytest.mark.parametrize(("name", "expected", "line"), _cases())
def test_a_definition_with_one_mistake_names_it_on_its_line(
    name: str, expected: str, line: int
) -> None:
    text = (BAD / f"{name}.yaml").read_text(encoding="utf-8")

    problems = problems_of(text, name)

    matching = [p for p in problems if expected in p.message]
    assert matching, f"no problem mentions {expected!r}: {located(problems)}"
    assert [p.line for p in matching] == [line], located(problems)


def test_every_bad_definition_file_has_an_expectation() -> None:
    on_disk = sorted(p.stem for p in BAD.glob("*.yaml"))

    assert on_disk == sorted(e[0] for e in EXPECTED)


def test_the_error_message_lists_each_problem_with_source_and_line() -> None:
    text = (BAD / "unknown_dest.yaml").read_text(encoding="utf-8")

    with pytest.raises(DefinitionError) as raised:
        loader.parse(text, "unknown_dest.yaml")

    assert "unknown_dest.yaml:line 17: unknown state 'dispatchd'" in str(raised.value)


def test_a_definition_with_several_name_mistakes_reports_all_of_them_at_once() -> None:
    text = (
        MINI.replace("dest: closed", "dest: closd")
        .replace("conditions: not_responded", "conditions: not_respondd")
        .replace("after: [notify_unit]", "after: [notify_unti]")
        .replace("closed_by: [respond]", "closed_by: [respnd]")
        .replace(
            "categories:\n",
            "kpi: {weights: {response: 0, resolution: 0, satisfaction: 0}}\ncategories:\n",
        )
    )

    problems = problems_of(text)

    assert_reported(
        problems,
        text,
        [
            ("dest: closd", "unknown state 'closd' in dest of 'reply'"),
            ("not_respondd", "unknown guard 'not_respondd' in 'respond'"),
            ("notify_unti", "unknown handler 'notify_unti' in 'dispatch'"),
            ("respnd", "unknown trigger 'respnd' in closed_by of deadline 'response'"),
            ("kpi:", "kpi weights add up to 0, not 1"),
        ],
    )


def test_a_definition_with_several_shape_mistakes_reports_all_of_them_at_once() -> None:
    text = (
        MINI.replace("within: 7d", "within: 24 hours")
        .replace("    dest: closed\n", "    dset: closed\n")
        .replace("name: mini", "name: Mini Hotline")
    )

    problems = problems_of(text)

    assert len(problems) == 3, located(problems)
    assert_reported(
        problems,
        text,
        [
            ("Mini Hotline", "name: String should match pattern"),
            ("24 hours", "malformed duration '24 hours'"),
            ("dset:", "unknown key 'dset'"),
        ],
    )


def line_containing(text: str, snippet: str) -> int:
    (line,) = [n for n, content in enumerate(text.splitlines(), 1) if snippet in content]
    return line


def assert_reported(problems: list[Problem], text: str, expected: list[tuple[str, str]]) -> None:
    """Each (snippet, message) is a problem on the one line of ``text`` holding the snippet."""
    found = located(problems)
    for snippet, message in expected:
        line = line_containing(text, snippet)
        assert any(at == line and message in m for at, m in found), (line, message, found)


def test_a_document_that_is_not_a_mapping_is_refused_on_line_1() -> None:
    problems = problems_of("- just\n- a list\n")

    assert located(problems) == [(1, "a definition is a YAML mapping")]


def test_a_mistake_in_an_anchored_list_is_reported_once_for_all_its_aliases() -> None:
    text = MINI.replace(
        "    deadlines:\n      - {kind: response, within: 12h, closed_by: [respond]}",
        "    deadlines: &rules\n      - {kind: response, within: 12h, closed_by: [respnd]}",
    ).replace("  - name: closed\n", "  - name: again\n    deadlines: *rules\n  - name: closed\n")

    problems = problems_of(text)

    respnd = [(p.line, p.message) for p in problems if "'respnd'" in p.message]
    line = line_containing(text, "closed_by: [respnd]")
    assert respnd == [(line, "unknown trigger 'respnd' in closed_by of deadline 'response'")]


def test_compiling_a_definition_loads_the_calendar_it_names() -> None:
    shipped = loader.compile_source(loader.shipped_text(), 7)
    mini = loader.compile_source(MINI, 1)

    assert (shipped.version, shipped.calendar.name) == (7, "beijing")
    assert shipped.calendar.day_seconds == 8 * 3600  # 09:00-12:00 and 13:00-18:00
    assert mini.calendar.name == "calendar-hours"  # the default: every hour counts


def test_a_round_record_field_no_transition_declares_is_named():
    text = loader.shipped_text().replace(
        "round_record: [opinion, resolved, satisfaction]", "round_record: [opinion, verdict]"
    )
    with pytest.raises(DefinitionError, match="round_record names 'verdict'"):
        loader.parse(text)


def test_an_until_naming_no_deadline_kind_is_named():
    text = loader.shipped_text().replace("until: handling", "until: handlin")
    with pytest.raises(DefinitionError, match="unknown deadline kind 'handlin'"):
        loader.parse(text)
