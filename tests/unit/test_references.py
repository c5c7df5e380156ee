"""An escalation command's fields may refer to what its ticket names: ``{category.unit}``."""

from __future__ import annotations

from hotline.engine import references
from hotline.engine.ticket import Ticket
from hotline.workflows import loader

DEFINITION = loader.parse(loader.shipped_text())


def ticket(category: str, lead_unit: str | None = "street-jianwai") -> Ticket:
    return Ticket(1, "beijing-12345", 1, "dispatched", category, lead_unit=lead_unit)


def test_the_category_unit_is_put_in_place_of_its_reference_in_a_list_and_a_value():
    fields = {"to": ["{category.unit}", "chaoyang-roads"], "by": "{lead_unit}", "within": "2h"}

    resolved = references.resolve(fields, DEFINITION, ticket("gas-supply"))

    assert resolved == {
        "to": ["gas-group", "chaoyang-roads"],
        "by": "street-jianwai",
        "within": "2h",
    }


def test_a_category_without_a_unit_resolves_to_none_so_the_command_is_refused_by_name():
    resolved = references.resolve({"to": ["{category.unit}"]}, DEFINITION, ticket("noise"))

    assert resolved == {"to": [None]}
