"""Who may see and do what: the roles of API tokens and the ticket-visibility rule.

Roles: ``operator`` (intake, dispatch, callback), ``unit`` (a handling unit: only its own
tickets), ``supervisor`` (every ticket, 督办), ``admin`` (definitions, tokens, webhooks) and
``auditor`` (read-only, full history and the personal-data access log).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.engine.ticket import Ticket


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


# Roles whose work needs the complainant's name, phone and address (to call back, to contact
# the citizen); every other role sees them masked (条例 Art. 8).
PERSONAL_DATA_ROLES = frozenset({Role.OPERATOR, Role.UNIT})


# What a role may fire, beyond seeing the ticket. A unit handles (响应, 退单, 延期, 反馈); only a
# supervisor signs off exclusions (剔除) and unresolved closings; the operator does the rest.
UNIT_TRIGGERS = frozenset({"respond", "return", "extend", "pause", "resume", "reply"})
SUPERVISOR_TRIGGERS = frozenset({"exclude", "close_unresolved"})


@dataclass(frozen=True)
class Principal:
    """The caller behind an API token."""

    token_id: int
    name: str
    role: Role
    unit: str | None = None


def visible(principal: Principal, ticket: Ticket) -> bool:
    """May ``principal`` see ``ticket``? A unit sees the tickets it leads or co-handles.

    The one place this rule lives: list queries use ``unit_sees`` with the same meaning.
    """
    if principal.role is not Role.UNIT:
        return True
    return principal.unit is not None and unit_sees(principal.unit, ticket)


def may_fire(principal: Principal, trigger: str) -> bool:
    """May ``principal``'s role fire ``trigger`` (on a ticket it can see)?"""
    if principal.role is Role.SUPERVISOR:
        return True
    if principal.role is Role.UNIT:
        return trigger in UNIT_TRIGGERS
    return principal.role is Role.OPERATOR and trigger not in SUPERVISOR_TRIGGERS


def unit_sees(unit: str, ticket: Ticket) -> bool:
    return ticket.lead_unit == unit or unit in ticket.co_units


def mask(kind: str, value: str | None) -> str | None:
    """Personal data as shown to most eyes: 138****5678, 张*, the first six characters."""
    if not value:
        return value
    if kind == "phone" and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if kind == "name":
        return value[0] + "*" * (len(value) - 1)
    return value[:6] + "…"
