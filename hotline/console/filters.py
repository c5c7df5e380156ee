"""The ticket search form, read into the service's ``TicketFilter`` with a clear message for
each thing wrong (a field, what was wrong, what to give instead)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from hotline.console.pages import BEIJING
from hotline.engine import access
from hotline.engine.access import Principal, Role
from hotline.errors import InvalidField
from hotline.persistence import queries

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
CODES = ("state", "unit", "category", "channel")
# A search that could confirm a masked number (a phone, an ID card) is for the roles that see
# them whole: the others may search words and short numbers only.
LONG_NUMBER = re.compile(r"\d{5,}")


def read(query: Mapping[str, str], principal: Principal, now: datetime) -> queries.TicketFilter:
    """The filter the search form asks for, within what ``principal`` may see."""
    codes = {name: _code(query.get(name, ""), name) for name in CODES}
    start = _day(query.get("received_from", ""), "received_from")
    end = _day(query.get("received_to", ""), "received_to")
    return queries.TicketFilter(
        **codes,
        overdue_at=now if query.get("overdue") else None,
        created_after=start,
        created_before=end + timedelta(days=1) if end else None,
        visible_to_unit=principal.unit if principal.role is Role.UNIT else None,
        text=_text(query.get("text", ""), principal),
    )


def unindexed(where: queries.TicketFilter) -> bool:
    """Whether ``where`` has a condition no index serves, so that finding a page of matches
    may read every ticket: words in the summary, or a unit's tickets (co-handled ones are
    found in a JSON list)."""
    return bool(where.text or where.unit or where.visible_to_unit)


def after(query: Mapping[str, str]) -> int:
    """The paging cursor: show tickets after this id."""
    text = query.get("after", "") or "0"
    if not text.isdigit() or len(text) > 10:
        raise InvalidField("after", "expected a ticket number")
    return int(text)


def _code(value: str, name: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not CODE.match(value):
        raise InvalidField(name, f"{value!r} is not a code (letters, digits, - _ . :)")
    return value


def _day(value: str, name: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidField(name, f"{value!r} is not a date like 2026-03-02") from None
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def _text(value: str, principal: Principal) -> str | None:
    value = value.strip()
    if len(value) > 100:
        raise InvalidField("text", "search for at most 100 characters")
    if not access.sees_personal_data(principal) and LONG_NUMBER.search(value):
        raise InvalidField("text", "your role may not search for long numbers (phone, ID card)")
    return value or None
