"""``hotline workflow diff``: what changed between two definitions, in words."""

from __future__ import annotations

from hotline.engine.diff import diff
from hotline.workflows import loader

SHIPPED = loader.shipped_text()


def changed(*edits: tuple[str, str]) -> list[str]:
    text = SHIPPED
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return diff(loader.parse(SHIPPED), loader.parse(text))


def test_the_same_definition_has_no_differences():
    assert changed() == []


def test_a_changed_deadline_rule_says_which_state_rule_and_part():
    lines = changed(
        ("within: 24h\n        kinds: [utility]", "within: 12h\n        kinds: [utility]")
    )

    assert lines == [
        "~ deadline 'handling' (utility) in 'dispatched': within 24h -> 12h",
        "~ deadline 'handling' (utility) in 're-dispatched': within 24h -> 12h",
    ]


def test_added_and_removed_states_transitions_and_guards_are_named():
    lines = changed(
        ("  - name: closed\n", "  - name: archived\n  - name: closed\n"),
        (
            "  - trigger: close_unresolved\n",
            "  - trigger: archive\n    source: callback\n    dest: archived\n"
            "  - trigger: close_archived\n    source: archived\n    dest: closed\n"
            "  - trigger: close_unresolved\n",
        ),
        ("    conditions: other_unit\n", "    conditions: [other_unit, not_excluded]\n"),
        ("round_limit: 3", "round_limit: 4"),
        ("      - {kind: intake, within: 2h,", "      - {kind: intake, within: 1h,"),
    )

    assert "+ state 'archived' added" in lines
    assert "+ transition 'archive' from callback to archived added" in lines
    assert "~ transition 'redispatch' from re-dispatched: guard 'not_excluded' added" in lines
    assert "~ setting: round_limit 3 -> 4" in lines
    assert "~ deadline 'intake' in 'received': within 2h -> 1h" in lines


def test_a_removed_transition_and_deadline_rule_are_named():
    lines = changed(
        (
            "    deadlines:\n"
            "      - {kind: callback, within: 2d, measure: working, closed_by: [record_callback],\n"
            "         notify: notify_centre}\n",
            "    deadlines: []\n",
        ),
        (
            "  - trigger: decline\n    source: received\n    dest: closed\n"
            "    description: would expose secrets or privacy, outside government, or unlawful\n"
            "    fields:\n      reason_code:\n        type: enum\n"
            "        values: [secrets-privacy, outside-government, unlawful]\n"
            "        required: true\n      reason: {type: text, required: true}\n",
            "",
        ),
        ("merge_repeat, decline]", "merge_repeat]"),
        ("    conditions: round_limit_reached\n    fields:\n", "    fields:\n"),
    )

    assert "- deadline 'callback' in 'callback' removed" in lines
    assert "- transition 'decline' from received to closed removed" in lines
    assert (
        "~ deadline 'intake' in 'received': closed_by [dispatch, answer, refer, merge_repeat,"
        " decline] -> [dispatch, answer, refer, merge_repeat]"
    ) in lines
    assert "~ transition 'close_unresolved' from callback: guard 'round_limit_reached' removed" in (
        lines
    )
