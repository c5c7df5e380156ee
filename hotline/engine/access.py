"""Who may see and do what: the roles of API tokens and the ticket-visibility rule.

Roles: ``operator`` (intake, dispatch, callback), ``unit`` (a handling unit: only its own
tickets and those a whistle summons it to), ``supervisor`` (every ticket, 督办), ``admin``
(definitions, tokens, webhooks) and ``auditor`` (read-only, full history and the personal-data
access log).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.engine import escalation, meanings, provisional
from hotline.engine.definition import Definition, Performer
from hotline.engine.ticket import Ticket


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


# The actors the engine and the daemon record for themselves: no token may take one of these
# names, or its commands would read in the history (and in a what-if replay) as the system's own.
SYSTEM_ACTORS = frozenset({"system", escalation.ACTOR, provisional.ACTOR})


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


def sees_personal_data(principal: Principal | None) -> bool:
    """May ``principal`` read free text unmasked? Only roles whose work needs the citizen's
    contact (anonymous callers, supervisors, admins and auditors see ``mask_text``)."""
    return principal is not None and principal.role in PERSONAL_DATA_ROLES


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
    """Personal data as shown to most eyes: 138****5678, 张*, the first characters of the
    address. Short values keep less, so that no value is ever shown whole."""
    if not value:
        return value
    if kind == "phone":
        return _mask_digits(value)
    if kind == "name":
        return value[0] + "*" * (len(value) - 1) if len(value) > 1 else "*"
    return value[: min(6, len(value) // 2)] + "…"


# A phone number in free text: a mobile (138 1234 5678, 138-1234-5678, +86 first or not), a
# landline with its area code (010-65123456), or any run of seven digits or more. An ID-card
# number (身份证号): 17 digits and a digit or X. Dates and times (2026-03-02) are left alone.
PHONE_IN_TEXT = re.compile(
    r"(?<![\dA-Za-z])(?:(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}"
    r"|0\d{2,3}[-\s]?\d{7,8}|\d{7,})(?![\dA-Za-z])"
)
ID_CARD_IN_TEXT = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def mask_text(text: str) -> str:
    """Free text (summary, opinion …) with the phone and ID-card numbers in it masked, for
    every path that leaves the service without personal-data rights."""
    text = ID_CARD_IN_TEXT.sub(lambda m: _mask_digits(m.group()), text)
    return PHONE_IN_TEXT.sub(lambda m: _mask_digits(m.group()), text)


def mask_values(value: Any) -> Any:
    """``mask_text`` on every string inside ``value`` (an event payload, a ticket's fields)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_values(v) for v in value]
    return value


def _mask_digits(value: str) -> str:
    """Hide the digits (and X) of a number: 3 first and 4 last stay from 11 on, the last 2
    from 7 on, none below; separators stay."""
    places = [i for i, c in enumerate(value) if c.isdigit() or c in "Xx"]
    n = len(places)
    shown = set(places[:3] + places[-4:]) if n >= 11 else set(places[-2:]) if n >= 7 else set()
    return "".join("*" if i in places and i not in shown else c for i, c in enumerate(value))
