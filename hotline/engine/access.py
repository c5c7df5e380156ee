"""Who may see and do what: the roles of API tokens and the ticket-visibility rule.

Roles: ``operator`` (intake, dispatch, callback), ``unit`` (a handling unit: only its own
tickets and those a whistle summons it to), ``supervisor`` (every ticket, 督办), ``admin``
(definitions, tokens, webhooks) and ``auditor`` (read-only, full history and the personal-data
access log).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.engine import meanings
from hotline.engine.definition import Definition, Performer
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


# What a role may fire, beyond seeing the ticket, is read from the definition: each transition
# names its performers (``Performer``). A unit's part in the ticket decides: the lead or a
# co-unit handles it (响应, 退单, 延期, 反馈, 吹哨); the whistling unit runs its whistle; a
# summoned department answers for itself (报到). Only a supervisor signs off what names the
# supervisor alone (剔除, closing unresolved); the operator, the centre, does the rest.
SUPERVISOR_ONLY = frozenset({Performer.SUPERVISOR})


@dataclass(frozen=True)
class Principal:
    """The caller behind an API token."""

    token_id: int
    name: str
    role: Role
    unit: str | None = None


def visible(principal: Principal, ticket: Ticket) -> bool:
    """May ``principal`` see ``ticket``? A unit sees the tickets it leads or co-handles, and
    those the ticket's whistle summons it to.

    The one place this rule lives: list queries use ``queries.visible_to`` with the same meaning.
    """
    if principal.role is not Role.UNIT:
        return True
    unit = principal.unit
    return unit is not None and (unit_sees(unit, ticket) or summoned(unit, ticket))


def may_fire(principal: Principal, trigger: str, ticket: Ticket, definition: Definition) -> bool:
    """May ``principal`` fire ``trigger`` on ``ticket`` (one it can see), whatever the fields?

    ``definition`` is the ticket's own version: its transitions name their performers.
    """
    if principal.role is Role.SUPERVISOR:
        return True
    performers = meanings.performers(definition, trigger)
    if principal.role is Role.UNIT:
        return principal.unit is not None and bool(performers & parts(principal.unit, ticket))
    return principal.role is Role.OPERATOR and not (performers and performers <= SUPERVISOR_ONLY)


def parts(unit: str, ticket: Ticket) -> frozenset[Performer]:
    """The parts ``unit`` plays in ``ticket``: lead, co-unit, whistler, summoned department."""
    found = set()
    if ticket.lead_unit == unit:
        found.add(Performer.LEAD_UNIT)
    if unit in ticket.co_units:
        found.add(Performer.CO_UNIT)
    if ticket.whistle is not None and ticket.whistle.whistler == unit:
        found.add(Performer.WHISTLING_UNIT)
    if summoned(unit, ticket):
        found.add(Performer.SUMMONED_DEPARTMENT)
    return frozenset(found)


@dataclass(frozen=True)
class Overreach:
    """A unit acting for another unit: the field that says so and the rule it breaks."""

    field: str
    rule: str


def on_behalf(
    principal: Principal,
    ticket: Ticket,
    trigger: str,
    fields: Mapping[str, Any],
    definition: Definition,
) -> Overreach | None:
    """What makes a unit act for another unit in ``fields``, or None when it acts as itself.

    A unit whistles as itself, answers a whistle for its own department only, and marks a task
    done only as the whistling unit or the task's owner. Other roles act for anyone. The
    whistle's triggers are known by the engine action each runs.
    """
    unit = principal.unit
    if principal.role is not Role.UNIT or unit is None:
        return None
    runs = meanings.actions(definition, trigger)
    if "open_whistle" in runs and (fields.get("by") or ticket.lead_unit) != unit:
        return Overreach(
            "by", f"a unit whistles as itself: by (default: the lead unit) must be {unit!r}"
        )
    department = fields.get("department", unit)
    if runs & {"record_report", "record_decline"} and department != unit:
        rule = "a summoned department answers only for itself"
        return Overreach("department", f"{rule}: {unit!r} may not answer for {department!r}")
    if "finish_task" in runs and not _runs_or_owns(unit, ticket, fields.get("task")):
        return Overreach("task", "a task is marked done by the whistling unit or by its owner")
    return None


def unit_sees(unit: str, ticket: Ticket) -> bool:
    return ticket.lead_unit == unit or unit in ticket.co_units


def summoned(unit: str, ticket: Ticket) -> bool:
    """Does the ticket's whistle (the latest one, open or closed) summon ``unit``?"""
    whistle = ticket.whistle
    return whistle is not None and any(p.department == unit for p in whistle.participants)


def _runs_or_owns(unit: str, ticket: Ticket, task_no: object) -> bool:
    whistle = ticket.whistle
    if whistle is None:
        return False
    # As the field arrives (1 or "1"): the definition turns it into an int only later.
    owner = next((t.owner for t in whistle.tasks if str(t.no) == str(task_no)), None)
    return unit in (whistle.whistler, owner)


def mask(kind: str, value: str | None) -> str | None:
    """Personal data as shown to most eyes: 138****5678, 张*, the first six characters."""
    if not value:
        return value
    if kind == "phone" and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if kind == "name":
        return value[0] + "*" * (len(value) - 1)
    return value[:6] + "…"
