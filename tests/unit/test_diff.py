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
        "~ state 'dispatched' › deadline 'handling' (utility) › within: 24h → 12h",
        "~ state 're-dispatched' › deadline 'handling' (utility) › within: 24h → 12h",
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
    assert "+ transition 'archive' from callback added" in lines
    assert "~ transition 'redispatch' from re-dispatched › conditions: added not_excluded" in lines
    assert "~ round_limit: 3 → 4" in lines
    assert "~ state 'received' › deadline 'intake' › within: 2h → 1h" in lines


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

    assert "- state 'callback' › deadline 'callback' removed" in lines
    assert "- transition 'decline' from received removed" in lines
    assert "~ state 'received' › deadline 'intake' › closed_by: removed decline" in lines
    assert (
        "~ transition 'close_unresolved' from callback › conditions: removed round_limit_reached"
    ) in lines


def test_every_section_that_changes_behaviour_is_compared():
    lines = changed(
        ("resolution: 0.50, satisfaction: 0.40", "resolution: 0.45, satisfaction: 0.45"),
        ("basic_factor: 0.9", "basic_factor: 0.8"),
        (
            "{level: 2, after: 12h, notify: notify_district}",
            "{level: 2, after: 6h, notify: notify_district}",
        ),
        ("    within: 2h\n                reason:", "    within: 4h\n                reason:"),
    )

    assert "~ kpi.weights.resolution: 0.5 → 0.45" in lines
    assert "~ kpi.weights.satisfaction: 0.4 → 0.45" in lines
    assert "~ kpi.basic_factor: 0.9 → 0.8" in lines
    assert (
        "~ state 'dispatched' › deadline 'handling' (emergency) › level 2 › after: 12h → 6h"
    ) in lines
    assert (
        "~ state 'dispatched' › deadline 'handling' (utility) › level 2 › command.fields.within:"
        " 2h → 4h"
    ) in lines


def test_units_categories_and_whistle_settings_are_compared_by_code():
    definition = loader.parse(SHIPPED)
    unit = definition.unit("water-group")
    gone = definition.unit("chaoyang-roads")
    category = definition.categories[0]
    units = [u for u in definition.units if u not in (unit, gone)]
    moved = definition.model_copy(
        update={
            "units": (*units, unit.model_copy(update={"supervisor": None})),
            "categories": (
                *definition.categories[1:],
                category.model_copy(update={"kind": "complex"}),
            ),
            "whistle": definition.whistle.model_copy(update={"notify": "notify_city"}),
        }
    )

    lines = diff(definition, moved)

    assert "~ unit 'water-group' › supervisor: city-centre → none" in lines
    assert "- unit 'chaoyang-roads' removed" in lines
    assert f"~ category {category.code!r} › kind: {category.kind} → complex" in lines
    assert "~ whistle.notify: notify_supervisor → notify_city" in lines
    assert len(lines) == 4  # moved, not added and removed


def test_a_section_the_diff_does_not_know_is_compared_all_the_same():
    definition = loader.parse(SHIPPED)
    old = {"name": "x", "roles": [{"code": "lead", "may": ["reply"]}]}
    new = {"name": "x", "roles": [{"code": "lead", "may": ["reply", "extend"]}]}

    from hotline.engine import diff as differ

    assert list(differ._compare([], old, new)) == ["~ role 'lead' › may: added extend"]
    assert diff(definition, definition) == []
