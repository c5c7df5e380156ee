"""References in an escalation command's fields to what its ticket names.

A definition writes ``{category.unit}`` (the unit answerable for the ticket's category, e.g. the
utility company of ``water-supply``) or ``{lead_unit}`` as a field value, or as an item of a
list value; the engine replaces it when the rung fires, so the outbox carries plain values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hotline.engine.definition import Definition
from hotline.engine.ticket import Ticket

NAMES = ("category.unit", "lead_unit")
_REFERENCE = re.compile(r"^\{([a-z_.]+)\}$")


def names_in(fields: Mapping[str, Any]) -> list[str]:
    """Every reference the fields make, known or not (for the definition checks)."""
    values = [
        v for value in fields.values() for v in (value if isinstance(value, list) else [value])
    ]
    return [m.group(1) for v in values if isinstance(v, str) and (m := _REFERENCE.match(v))]


def resolve(fields: Mapping[str, Any], definition: Definition, ticket: Ticket) -> dict[str, Any]:
    """The fields with every reference replaced by the ticket's value (None if it has none)."""

    def value(item: Any) -> Any:
        match = _REFERENCE.match(item) if isinstance(item, str) else None
        return _lookup(match.group(1), definition, ticket) if match else item

    return {
        key: [value(v) for v in raw] if isinstance(raw, list) else value(raw)
        for key, raw in fields.items()
    }


def _lookup(name: str, definition: Definition, ticket: Ticket) -> str | None:
    if name == "lead_unit":
        return ticket.lead_unit
    category = definition.category(ticket.category)
    return category.unit if category else None
